/**
 * @file Module: the base of every layer and model. Parameters and submodules are found by
 * looking at the module's own properties (in assignment order), so `this.fc1 = new Linear(...)`
 * registers `fc1` without any extra call; buffers (running statistics) are registered explicitly.
 */
import { noGrad } from "../autograd/mode.ts";
import type { FusionForm } from "../fused/patterns.ts";
import { formatShape, shapesEqual } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { Parameter } from "./parameter.ts";

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

type ForwardHook = (module: Module, inputs: unknown[], output: unknown) => unknown;
type ForwardPreHook = (module: Module, inputs: unknown[]) => unknown[] | undefined;

/** Each module's fusion form, made on first use (not an own property: state dicts and repr walk those). */
const FORMS = new WeakMap<Module, FusionForm | null>();

/**
 * Base class for layers and models, as in PyTorch: subclasses assign parameters and
 * submodules as properties and implement `forward`.
 *
 * @example
 * class Net extends tg.nn.Module {
 *   fc1 = new tg.nn.Linear(784, 128);
 *   fc2 = new tg.nn.Linear(128, 10);
 *   forward(x: tg.Tensor) { return this.fc2.call(this.fc1.call(x).relu()); }
 * }
 */
export class Module {
  /** True in training mode (dropout active, batch norm uses batch statistics). */
  training = true;
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _forwardHooks: ForwardHook[] = [];
  private readonly _forwardPreHooks: ForwardPreHook[] = [];

  /** The computation; override in subclasses. */
  forward(..._inputs: unknown[]): unknown {
    throw new Error(`${this.constructor.name}.forward: a Module subclass must implement forward()`);
  }

  /** Runs `forward` with the registered hooks (PyTorch's `module(x)`). */
  call(...inputs: any[]): any {
    let args: unknown[] = inputs;
    for (const h of this._forwardPreHooks) args = h(this, args) ?? args;
    let out = this.forward(...args);
    for (const h of this._forwardHooks) {
      const r = h(this, args, out);
      if (r !== undefined) out = r;
    }
    return out;
  }

  /** @internal Whether `call` would run hooks (containers may then not fuse this module with the next). */
  _hasHooks(): boolean {
    return this._forwardHooks.length > 0 || this._forwardPreHooks.length > 0;
  }

  /** @internal What nn.Sequential's fusion patterns (src/fused/patterns.ts) see of this module: null when it has hooks or no form. */
  _fusionForm(): FusionForm | null {
    if (this._hasHooks()) return null;
    // made once per module: a form's closures read the parameters when called, and Sequential asks on every forward
    let form = FORMS.get(this);
    if (form === undefined) FORMS.set(this, (form = this.fusionForm()));
    return form;
  }

  /** The layer's form for the fusion patterns; a layer gives one only for exactly its own class (a subclass may change forward). */
  protected fusionForm(): FusionForm | null {
    return null;
  }

  /** Calls `hook(module, inputs, output)` after every forward; returns a function that removes it. */
  registerForwardHook(hook: ForwardHook): () => void {
    this._forwardHooks.push(hook);
    return () => this._forwardHooks.splice(this._forwardHooks.indexOf(hook), 1);
  }

  /** Calls `hook(module, inputs)` before every forward (it may return replacement inputs). */
  registerForwardPreHook(hook: ForwardPreHook): () => void {
    this._forwardPreHooks.push(hook);
    return () => this._forwardPreHooks.splice(this._forwardPreHooks.indexOf(hook), 1);
  }

  /**
   * Registers a tensor that is state but not a parameter (e.g. BatchNorm's running_mean).
   * Persistent buffers are part of `stateDict()`. The buffer is readable as `this[name]`.
   */
  registerBuffer(name: string, tensor: Tensor | null, persistent = true): void {
    if (name.includes(".") || name === "") throw new Error(`registerBuffer: invalid buffer name "${name}"`);
    this._buffers.set(name, tensor);
    if (!persistent) this._nonPersistent.add(name);
    Object.defineProperty(this, name, {
      get: () => this._buffers.get(name) ?? null,
      set: (v: Tensor | null) => this._buffers.set(name, v),
      enumerable: false,
      configurable: true,
    });
  }

  /** Own properties that hold parameters, submodules or arrays of submodules, in assignment order. */
  private ownEntries(): [string, unknown][] {
    return Object.keys(this)
      .filter((k) => !k.startsWith("_") && k !== "training")
      .map((k) => [k, (this as Record<string, unknown>)[k]]);
  }

  /** [name, child] for direct submodules (arrays of modules count as `name.i`). */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of this.ownEntries()) {
      if (v instanceof Module) out.push([k, v]);
      else if (Array.isArray(v)) for (const [i, m] of v.entries()) if (m instanceof Module) out.push([`${k}.${i}`, m]);
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** This module's own parameters (not its children's). */
  private ownParameters(): [string, Parameter][] {
    return this.ownEntries().filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** [dottedName, parameter] for every parameter, PyTorch's names (e.g. "0.weight"); shared ones once. */
  namedParameters(prefix = ""): [string, Parameter][] {
    const seen = new Set<Tensor>();
    const out: [string, Parameter][] = [];
    for (const [modName, m] of this.namedModules(prefix)) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([modName ? `${modName}.${k}` : k, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** [dottedName, buffer] for every buffer (persistent or not). */
  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [modName, m] of this.namedModules()) {
      for (const [k, b] of m._buffers) if (b !== null) out.push([modName ? `${modName}.${k}` : k, b]);
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /** Sets training mode here and in every descendant. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Clears every parameter's gradient (sets it to null, like PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p._clearGrad();
  }

  /** Applies `fn` to every module (children first, then this one), like PyTorch's `apply`. */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Parameters and persistent buffers under PyTorch's dotted names, in PyTorch's order (each
   * module's parameters, then its buffers, then its children). The tensors share storage with
   * the module (detached from the graph).
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const visit = (m: Module, prefix: string) => {
      for (const [k, p] of m.ownParameters()) out[prefix + k] = p.detach();
      for (const [k, b] of m._buffers) if (b !== null && !m._nonPersistent.has(k)) out[prefix + k] = b.detach();
      for (const [k, c] of m.namedChildren()) visit(c, `${prefix}${k}.`);
    };
    visit(this, "");
    return out;
  }

  /**
   * Copies values from `dict` into this module's parameters and persistent buffers. With
   * `strict` (default) missing or unexpected keys throw; a shape mismatch always throws.
   */
  loadStateDict(dict: StateDict, opts: { strict?: boolean } = {}): LoadResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in dict));
    const unexpectedKeys = Object.keys(dict).filter((k) => !(k in own));
    if (strict && (missingKeys.length > 0 || unexpectedKeys.length > 0))
      throw new Error(
        `loadStateDict: keys do not match (missing: ${missingKeys.join(", ") || "none"}; unexpected: ${unexpectedKeys.join(", ") || "none"}); pass { strict: false } to load the matching ones`,
      );
    for (const [k, target] of Object.entries(own)) {
      const src = dict[k];
      if (src === undefined) continue;
      if (!(src instanceof Tensor)) throw new TypeError(`loadStateDict: value for "${k}" is not a Tensor`);
      if (!shapesEqual(src.shape, target.shape))
        throw new Error(
          `loadStateDict: size mismatch for "${k}": the checkpoint has shape ${formatShape(src.shape)}, the module ${formatShape(target.shape)}`,
        );
      noGrad(() => target.copy_(src));
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Extra text inside this module's line of `toString()` (e.g. "in_features=2, out_features=3, bias=True"). */
  extraRepr(): string {
    return "";
  }

  /** The module tree, printed as PyTorch prints it. */
  toString(): string {
    const children = this.namedChildren();
    const name = this.constructor.name;
    if (children.length === 0) return `${name}(${this.extraRepr()})`;
    const lines = children.map(([k, c]) => `  (${k}): ${c.toString().split("\n").join("\n  ")}`);
    const extra = this.extraRepr();
    return `${name}(\n${extra ? `  ${extra}\n` : ""}${lines.join("\n")}\n)`;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}
