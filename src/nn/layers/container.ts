/** @file Containers: Sequential (a chain of modules named "0", "1", …) and Residual (y = x + block(x)). */
import { Tensor } from "../../tensor/tensor.ts";
import { Module } from "../module.ts";
import { ReLU } from "./activation.ts";
import { Conv2d } from "./conv.ts";
import { Linear } from "./linear.ts";
import { MaxPool2d } from "./pool.ts";

/**
 * Runs its modules in order, each on the previous one's output. Children are named "0", "1", …
 * as in PyTorch (so state-dict keys are `0.weight`, …), or by the keys of an object.
 * @example
 * const model = new tg.nn.Sequential(new tg.nn.Linear(784, 128), new tg.nn.ReLU(), new tg.nn.Linear(128, 10));
 * model.call(x); model.at(0); model.length; for (const layer of model) console.log(layer.toString());
 */
export class Sequential extends Module {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const first = modules[0];
    if (modules.length === 1 && first !== undefined && !(first instanceof Module) && typeof first === "object") {
      for (const [name, m] of Object.entries(first as Record<string, Module>)) this.add(name, m);
    } else {
      for (const m of modules as Module[]) this.append(m);
    }
  }

  private add(name: string, m: Module): void {
    if (!(m instanceof Module)) throw new TypeError(`Sequential: "${name}" is not a Module (got ${m === null ? "null" : typeof m})`);
    if (name === "" || name.includes(".") || name.startsWith("_")) throw new Error(`Sequential: invalid child name "${name}"`);
    (this as unknown as Record<string, Module>)[name] = m;
  }

  /** Adds `module` at the end (named by its position); returns this. */
  append(module: Module): this {
    this.add(String(this.length), module);
    return this;
  }

  /** Number of modules. */
  get length(): number {
    return this.namedChildren().length;
  }

  /** The module at position `i` (negative counts from the end). */
  at(i: number): Module {
    const children = this.children();
    const j = i < 0 ? i + children.length : i;
    if (!Number.isInteger(j) || j < 0 || j >= children.length)
      throw new RangeError(`Sequential.at: index ${i} is out of range for ${children.length} modules`);
    return children[j]!;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  // biome-ignore lint/suspicious/noExplicitAny: the output is whatever the last module returns
  override forward(x: unknown): any {
    return runModules(this.children(), x);
  }
}

/**
 * @internal Runs `children` in order on `x`, as nn.Sequential does, fusing the pairs and triples
 * the backend has kernels for (also the Keras model's forward without its output activation).
 */
export function runModules(children: readonly Module[], x: unknown): unknown {
  let out = x;
  for (let i = 0; i < children.length; i++) {
    const m = children[i]!;
    const next = children[i + 1];
    // Conv2d, ReLU, then a MaxPool2d with non-overlapping windows (exactly these classes, no
    // hooks): one fused op where the backend has it (the conv output is pooled inside the kernel),
    // else Conv2d → ReLU fused and the pool; bit-identical to the three modules either way
    const pool = next !== undefined && m.constructor === Conv2d && next.constructor === ReLU ? fusablePool(children[i + 2]) : null;
    if (pool !== null && !m._hasHooks() && !next!._hasHooks() && out instanceof Tensor) {
      out = (m as Conv2d).forwardReluPool(out, pool);
      i += 2;
      continue;
    }
    // Linear or Conv2d then ReLU (exactly these classes, no hooks) run as one fused layer where
    // the backend has the kernels: relu in the product's pass, bit-identical to the two modules
    if (next !== undefined && !m._hasHooks() && !next._hasHooks() && (m.constructor === Linear || m.constructor === Conv2d) && next.constructor === ReLU && out instanceof Tensor) {
      out = (m as Linear | Conv2d).forwardAct(out, true);
      i++;
      continue;
    }
    out = m.call(out);
  }
  return out;
}

/**
 * The kernel of `m` when it is a MaxPool2d (exactly, no hooks) whose windows do not overlap:
 * stride = kernel, no padding, dilation 1, no ceil mode; else null (invalid options included: the
 * module itself reports them).
 */
function fusablePool(m: Module | undefined): [number, number] | null {
  if (m === undefined || m._hasHooks() || !(m instanceof MaxPool2d) || m.constructor !== MaxPool2d) return null;
  const p = m;
  const pair = (v: number | readonly [number, number]): readonly number[] => (typeof v === "number" ? [v, v] : v);
  const [k, s, pad, d] = [pair(p.kernelSize), pair(p.stride), pair(p.padding), pair(p.dilation)];
  if (p.ceilMode || k.length !== 2 || s.length !== 2 || pad.length !== 2 || d.length !== 2) return null;
  for (let a = 0; a < 2; a++)
    if (!Number.isInteger(k[a]) || k[a]! < 1 || s[a] !== k[a] || pad[a] !== 0 || d[a] !== 1) return null;
  return [k[0]!, k[1]!];
}

/**
 * A skip connection: `y = x + block(x)` (the block must keep the shape).
 * @example new tg.nn.Residual(new tg.nn.Sequential(new tg.nn.Linear(64, 64), new tg.nn.ReLU()))
 */
export class Residual extends Module {
  block: Module;

  constructor(block: Module) {
    super();
    if (!(block instanceof Module)) throw new TypeError("Residual: block must be a Module");
    this.block = block;
  }

  override forward(x: Tensor): Tensor {
    return x.add(this.block.call(x));
  }
}
