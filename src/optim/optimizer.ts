/**
 * @file Optimizer: the base of every optimizer — parameter groups with their options,
 * per-parameter state, `zeroGrad`, `step(closure?)`, and state dicts shaped like PyTorch's.
 *
 * Naming: options are camelCase in code (`group.weightDecay`); `stateDict()` writes them under
 * PyTorch's snake_case names (`weight_decay`, `line_search_fn: "strong_wolfe"`) and
 * `loadStateDict()` reads either spelling, so a state dict moves between tensorgrad and
 * PyTorch (once its tensors are converted). Per-parameter state keys are PyTorch's own
 * (`exp_avg`, `momentum_buffer`, …) everywhere; scalar state such as `step` is a JS number.
 */
import { enableGrad, noGrad } from "../autograd/mode.ts";
import { kernels } from "../backend/registry.ts";
import { zerosLike } from "../ops/index.ts";
import { isFloating } from "../base/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";

/** A value held in an optimizer's per-parameter state (lists only for LBFGS's history). */
export type StateValue = Tensor | number | boolean | null | StateValue[];

/** The state of one parameter, e.g. `{ step: 3, exp_avg: Tensor, exp_avg_sq: Tensor }`. */
export type ParamState = Record<string, StateValue>;

/** Options every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** One parameter group: its tensors and its options (defaults filled in). Mutable: schedulers write `lr`. */
export type ParamGroup<O extends BaseOptions = BaseOptions> = O & {
  params: Tensor[];
  /** Set by learning-rate schedulers: the lr the schedule started from. */
  initialLr?: number;
  [key: string]: unknown;
};

/** A parameter group as passed to a constructor: tensors plus any options that override the defaults. */
export type ParamGroupInit<O extends BaseOptions = BaseOptions> = Partial<O> & {
  params: Iterable<Tensor> | Tensor;
  [key: string]: unknown;
};

/** What an optimizer accepts: tensors (one group), or an array of param groups. */
export type Params<O extends BaseOptions = BaseOptions> = Iterable<Tensor> | Iterable<ParamGroupInit<O>>;

/** PyTorch's `state_dict()` layout: parameters are named by their position across all groups. */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Record<string, unknown>[];
}

/** The storage of a floating tensor. */
export type FloatArray = Float32Array | Float64Array;

/**
 * @internal Zeros shaped like `p` for per-parameter state that a backend kernel updates with it
 * (Adam's moments): in the backend's persistent storage when `p` is there (wasm: the kernel then
 * updates them in place instead of copying them in and out at every step), else ordinary zeros.
 */
export function stateZerosLike(p: Tensor): Tensor {
  const k = kernels();
  if (k.allocPersistent !== undefined && k.isPersistent?.(p.data) === true && p.numel() > 0) {
    const data = k.allocPersistent(p.dtype, p.numel());
    if (data !== null) return new Tensor(data, p.dtype, p.shape);
  }
  return zerosLike(p);
}

/**
 * @internal The elements of `t` in row-major order as a typed array: a view of its own storage
 * when `t` is contiguous (writes go to `t`), else a copy.
 */
export function elementsOf(t: Tensor): FloatArray {
  const n = t.numel();
  if (!t.isContiguous()) return t.dataSync() as FloatArray;
  return (t.offset === 0 && t.data.length === n ? t.data : t.data.subarray(t.offset, t.offset + n)) as FloatArray;
}

/**
 * @internal Runs `update` on the elements of `p` in place: directly on its storage when it is
 * contiguous, else on a copy that is written back (a parameter that is a strided view).
 */
export function updateElements(p: Tensor, update: (w: FloatArray) => void): void {
  const w = elementsOf(p);
  update(w);
  if (!p.isContiguous()) noGrad(() => p.copy_(new Tensor(w, p.dtype, p.shape)));
}

/** `weightDecay` → `weight_decay`. */
export function toSnakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** `weight_decay` → `weightDecay`. */
export function toCamelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Option values whose spelling differs between tensorgrad and PyTorch. */
const VALUE_TO_TORCH: Record<string, string> = { strongWolfe: "strong_wolfe" };
const VALUE_FROM_TORCH: Record<string, string> = { strong_wolfe: "strongWolfe" };

/**
 * Merges user options over an optimizer's defaults, rejecting names it does not know
 * (with a hint when the snake_case PyTorch spelling was used). `undefined` means "default".
 * @internal
 */
export function resolveOptions<O extends object>(name: string, defaults: O, options: object | undefined): O {
  if (options !== undefined && (typeof options !== "object" || options === null || Array.isArray(options)))
    throw new TypeError(`${name}: options must be an object like { lr: 0.01 }, got ${Array.isArray(options) ? "an array" : String(options)}`);
  const out = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options ?? {})) {
    if (!(key in defaults)) {
      const camel = toCamelCase(key);
      const hint = camel !== key && camel in defaults ? ` (did you mean "${camel}"?)` : "";
      throw new TypeError(`${name}: unknown option "${key}"${hint}; known options: ${Object.keys(defaults).join(", ")}`);
    }
    if (value !== undefined) out[key] = value;
  }
  return out as O;
}

/**
 * Base class of all optimizers (PyTorch's `torch.optim.Optimizer`). Subclasses implement
 * `updateGroup`, which runs inside `noGrad` and updates parameters in place. The built-in
 * first-order optimizers do each parameter's whole update in one fused loop over its storage
 * (in PyTorch's operation order, state buffers allocated once), so a step allocates nothing
 * per element; float32 values are computed in double precision and rounded when stored
 * (PyTorch rounds after every operation: the results agree to float32 rounding).
 *
 * @example
 * const opt = new tg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * for (const [x, y] of batches) {
 *   opt.zeroGrad();
 *   lossFn(model.call(x), y).backward();
 *   opt.step();
 * }
 */
export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  /** The options a group gets when it does not set them. */
  readonly defaults: O;
  /** The parameter groups, each with its options (`lr` etc.), in order. */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created lazily on the first step (Adagrad: at construction). */
  state: Map<Tensor, ParamState> = new Map();

  constructor(params: Params<O>, defaults: O) {
    this.defaults = defaults;
    const name = this.constructor.name;
    if (params instanceof Tensor)
      throw new TypeError(`${name}: params must be an iterable of Tensors or of param groups, got a single Tensor (wrap it: [t])`);
    if (params === null || params === undefined || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function")
      throw new TypeError(`${name}: params must be an iterable of Tensors or of param groups, e.g. model.parameters()`);
    const list = [...(params as Iterable<Tensor | ParamGroupInit<O>>)];
    if (list.length === 0) throw new Error(`${name}: got an empty parameter list`);
    const groups = list[0] instanceof Tensor ? [{ params: list as Tensor[] } as unknown as ParamGroupInit<O>] : (list as ParamGroupInit<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /**
   * Adds a group of parameters with its own options (e.g. a different lr for a new head
   * while fine-tuning). Options not given come from `defaults`.
   */
  addParamGroup(group: ParamGroupInit<O>): void {
    const name = this.constructor.name;
    if (group === null || typeof group !== "object" || group instanceof Tensor || !("params" in group))
      throw new TypeError(`${name}: a param group must be an object { params: [...tensors], ...options }`);
    const raw = group.params;
    if (raw === null || raw === undefined) throw new TypeError(`${name}: param group has no params`);
    const params = raw instanceof Tensor ? [raw] : [...raw];
    if (params.length === 0) throw new Error(`${name}: a param group has an empty parameter list`);
    const seen = new Set<Tensor>();
    params.forEach((p, i) => {
      const where = `param ${i} of group ${this.paramGroups.length}`;
      if (!(p instanceof Tensor)) throw new TypeError(`${name}: can only optimize Tensors, but ${where} is ${p === null ? "null" : typeof p}`);
      if (!isFloating(p.dtype))
        throw new TypeError(`${name}: can only optimize floating-point tensors, but ${where} has dtype ${p.dtype}`);
      if (!p.requiresGrad)
        throw new Error(`${name}: ${where} does not require grad, so it would never get a gradient (create it with requiresGrad: true, or leave it out)`);
      if (!p.isLeaf) throw new Error(`${name}: can't optimize a non-leaf tensor (${where} was produced by ${p.gradFn?.name}); optimize the leaf it came from`);
      if (seen.has(p)) throw new Error(`${name}: ${where} appears twice in the same param group`);
      seen.add(p);
      for (const other of this.paramGroups)
        if (other.params.includes(p)) throw new Error(`${name}: some parameters appear in more than one parameter group (${where})`);
    });
    const merged = { ...this.defaults } as Record<string, unknown>;
    for (const [k, v] of Object.entries(group)) {
      if (k === "params" || v === undefined) continue;
      if (!(k in this.defaults) && toCamelCase(k) in this.defaults)
        throw new TypeError(`${name}: param group option "${k}" should be spelled "${toCamelCase(k)}"`);
      merged[k] = v;
    }
    merged.params = params;
    const full = merged as ParamGroup<O>;
    this.validateGroup(full);
    this.paramGroups.push(full);
  }

  /** Checks a group's options, throwing a clear error for bad values. Subclasses extend it. */
  protected validateGroup(group: ParamGroup<O>): void {
    const lr = group.lr as unknown;
    if (lr === undefined) throw new Error(`${this.constructor.name}: lr is required (pass { lr }, or give every param group an lr)`);
    this.checkNonNegative("learning rate (lr)", lr);
  }

  /** Throws unless `value` is a number ≥ 0. */
  protected checkNonNegative(what: string, value: unknown): void {
    if (typeof value !== "number" || Number.isNaN(value))
      throw new TypeError(`${this.constructor.name}: ${what} must be a number, got ${JSON.stringify(value)}`);
    if (value < 0) throw new RangeError(`${this.constructor.name}: invalid ${what}: ${value} (must be ≥ 0)`);
  }

  /** Throws unless `value` is a number in [0, 1) (or [0, 1] with `closed`). */
  protected checkUnitInterval(what: string, value: unknown, closed = false): void {
    this.checkNonNegative(what, value);
    if ((value as number) > 1 || (!closed && value === 1))
      throw new RangeError(`${this.constructor.name}: invalid ${what}: ${value} (must be in [0, 1${closed ? "]" : ")"})`);
  }

  /** The state record of `p`, created empty on first use. */
  protected stateOf(p: Tensor): ParamState {
    let s = this.state.get(p);
    if (s === undefined) {
      s = {};
      this.state.set(p, s);
    }
    return s;
  }

  /**
   * Clears the gradients of every optimized parameter: `grad = null` (PyTorch 2's default),
   * or zeros in place with `setToNone: false`.
   */
  zeroGrad(setToNone = true): void {
    for (const g of this.paramGroups)
      for (const p of g.params) {
        if (p._grad === null) continue;
        if (setToNone) p._clearGrad();
        else {
          const grad = p._grad.detach();
          noGrad(() => grad.zero_());
          p.grad = grad;
        }
      }
  }

  /**
   * Performs one update of every parameter that has a gradient. `closure`, if given, is
   * called first (with grad enabled) to re-evaluate the loss; its result is returned.
   */
  step<L>(closure?: () => L): L | undefined {
    const loss = closure === undefined ? undefined : enableGrad(closure);
    noGrad(() => {
      for (const group of this.paramGroups) this.updateGroup(group);
    });
    return loss;
  }

  /** Updates the parameters of one group in place (called inside `noGrad`). */
  protected abstract updateGroup(group: ParamGroup<O>): void;

  /** State keys holding scalars; a PyTorch dict may hold them as 0-d tensors, which load as numbers. */
  protected scalarStateKeys(): ReadonlySet<string> {
    return SCALAR_KEYS;
  }

  /**
   * The optimizer's state in PyTorch's layout: `{ state: { [index]: {...} }, param_groups:
   * [{ lr, weight_decay, ..., params: [indices] }] }`. Parameters are numbered in group order.
   * Like PyTorch, the state tensors are shared, not copied; `loadStateDict` copies.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(group)) {
        if (k === "params") continue;
        packed[toSnakeCase(k)] = typeof v === "string" ? (VALUE_TO_TORCH[v] ?? v) : Array.isArray(v) ? [...v] : v;
      }
      packed.params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return packed;
    });
    const state: Record<number, ParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restores state saved by `stateDict()` (here or, after converting its tensors, in PyTorch).
   * The optimizer must have the same number of groups and of parameters per group. Tensors
   * are copied (and cast to their parameter's dtype), so the dict can be reused.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (stateDict === null || typeof stateDict !== "object" || !Array.isArray(stateDict.param_groups) || typeof stateDict.state !== "object")
      throw new TypeError(`${name}.loadStateDict: expects { state, param_groups } as returned by stateDict()`);
    const saved = stateDict.param_groups;
    if (saved.length !== this.paramGroups.length)
      throw new Error(`${name}.loadStateDict: loaded state dict has ${saved.length} parameter groups, the optimizer has ${this.paramGroups.length}`);
    const idMap = new Map<number, Tensor>();
    saved.forEach((sg, gi) => {
      const ids = sg.params as number[];
      const own = this.paramGroups[gi]!.params;
      if (!Array.isArray(ids) || ids.length !== own.length)
        throw new Error(
          `${name}.loadStateDict: loaded state dict contains a parameter group (${gi}) that doesn't match the size of the optimizer's group (${Array.isArray(ids) ? ids.length : "no params"} vs ${own.length})`,
        );
      ids.forEach((id, i) => {
        idMap.set(Number(id), own[i]!);
      });
    });
    const state = new Map<Tensor, ParamState>();
    const scalars = this.scalarStateKeys();
    for (const [key, value] of Object.entries(stateDict.state)) {
      const p = idMap.get(Number(key));
      if (p === undefined) throw new Error(`${name}.loadStateDict: state refers to parameter ${key}, which no param group lists`);
      const record: ParamState = {};
      for (const [k, v] of Object.entries(value)) record[k] = copyStateValue(v, p, scalars.has(k));
      state.set(p, record);
    }
    const groups = saved.map((sg, gi) => {
      const g = { ...this.defaults } as Record<string, unknown>;
      for (const [k, v] of Object.entries(sg)) {
        if (k === "params") continue;
        g[toCamelCase(k)] = typeof v === "string" ? (VALUE_FROM_TORCH[v] ?? v) : Array.isArray(v) ? [...v] : v;
      }
      g.params = this.paramGroups[gi]!.params;
      const full = g as ParamGroup<O>;
      this.validateGroup(full);
      return full;
    });
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.state = state;
  }

  /** PyTorch-style summary of the groups' options. */
  toString(): string {
    const lines = [`${this.constructor.name} (`];
    this.paramGroups.forEach((g, i) => {
      lines.push(`Parameter Group ${i}`);
      for (const k of Object.keys(g).sort()) if (k !== "params") lines.push(`    ${k}: ${JSON.stringify(g[k])}`);
    });
    lines.push(")");
    return lines.join("\n");
  }
}

const SCALAR_KEYS: ReadonlySet<string> = new Set(["step"]);

/** Deep copy of a state value for `p`: floating tensors cast to p's dtype, scalar keys as numbers. */
function copyStateValue(v: unknown, p: Tensor, scalar: boolean): StateValue {
  if (v instanceof Tensor) {
    if (scalar && v.numel() === 1) return v.item();
    const c = v.detach().clone();
    return isFloating(c.dtype) && c.dtype !== p.dtype ? c.to(p.dtype) : c;
  }
  if (Array.isArray(v)) return v.map((x) => copyStateValue(x, p, scalar));
  if (v === undefined) return null;
  return v as StateValue;
}
