/** @file Containers: Sequential (a chain of modules named "0", "1", …) and Residual (y = x + block(x)). */
import { runSequence } from "../../fused/patterns.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { Module } from "../module.ts";

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
    return runSequence(this.children(), x);
  }
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
