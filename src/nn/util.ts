/** @file Helpers shared by nn's functional ops and layers: argument checks, loss reductions, Python-style repr text. */
import { isFloating } from "../base/dtype.ts";
import { formatShape } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";

/** How a loss combines its per-element values: averaged, summed, or returned as they are. */
export type Reduction = "mean" | "sum" | "none";

/** Checks that `x` is a Tensor, naming the op and argument otherwise. */
export function checkTensorArg(x: unknown, op: string, what: string): asserts x is Tensor {
  if (!(x instanceof Tensor))
    throw new TypeError(
      `${op}: ${what} must be a Tensor, got ${x === null ? "null" : Array.isArray(x) ? "an array (wrap it with tg.tensor)" : typeof x}`,
    );
}

/** Checks that `x` is a floating-point Tensor. */
export function checkFloatArg(x: unknown, op: string, what: string): asserts x is Tensor {
  checkTensorArg(x, op, what);
  if (!isFloating(x.dtype))
    throw new TypeError(`${op}: ${what} must be a floating-point tensor, got dtype ${x.dtype} with shape ${formatShape(x.shape)} (convert with .to("float32"))`);
}

/** Checks that `x` is a 1-D tensor of `n` elements (per-class weights, per-channel parameters). */
export function checkVector(x: Tensor, n: number, op: string, what: string): void {
  if (x.ndim !== 1 || x.shape[0] !== n)
    throw new Error(`${op}: ${what} must have shape [${n}], got ${formatShape(x.shape)}`);
}

/** Throws unless `input` and `target` have exactly the same shape. */
export function checkSameShape(input: Tensor, target: Tensor, op: string): void {
  if (input.ndim !== target.ndim || input.shape.some((d, i) => d !== target.shape[i]))
    throw new Error(
      `${op}: input shape ${formatShape(input.shape)} and target shape ${formatShape(target.shape)} must be equal (reshape one of them; broadcasting here is almost always a bug)`,
    );
}

/** Validates a reduction name. */
export function checkReduction(reduction: unknown, op: string): Reduction {
  if (reduction === "mean" || reduction === "sum" || reduction === "none") return reduction;
  throw new Error(`${op}: reduction must be "mean", "sum" or "none", got ${JSON.stringify(reduction)}`);
}

/** Applies a loss reduction to per-element values. */
export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === "none") return loss;
  return reduction === "sum" ? loss.sum() : loss.mean();
}

/** A number as Python's `repr(float)` writes it (`0.1`, `1e-05`, `1.0`), for PyTorch-identical module text. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) return `${mant}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  const s = String(x);
  return s.includes(".") ? s : `${s}.0`;
}

/** `True` / `False`, as Python prints booleans. */
export function pyBool(b: boolean): string {
  return b ? "True" : "False";
}
