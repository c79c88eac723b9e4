/** @file Finite-difference gradients and `gradcheck`: the numerical ground truth autograd is tested against. */
import { formatShape } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { grad } from "./engine.ts";
import { noGrad } from "./mode.ts";

export interface NumericalGradOptions {
  /** Step h of the central difference (f(x+h) − f(x−h)) / 2h. Default 1e-6 (use float64 inputs). */
  eps?: number;
}

type Fn = (...inputs: Tensor[]) => Tensor;

/** Row-major coordinates of flat index `i` in `shape`, for messages. */
function coords(i: number, shape: readonly number[]): string {
  const c: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    c.unshift(i % shape[d]!);
    i = Math.floor(i / shape[d]!);
  }
  return `[${c.join(",")}]`;
}

/**
 * Evaluates fn with element `k` of input `which` moved by `delta`, returning the output values.
 * The inputs are fresh leaves that require grad like the originals, and fn runs in the caller's
 * grad mode, so a fn that differentiates internally (`tg.grad(..., { createGraph: true })`) works.
 */
function evalPerturbed(fn: Fn, inputs: readonly Tensor[], which: number, k: number, delta: number): Float64Array {
  const moved = inputs.map((x, i) => {
    let leaf = x.detach();
    if (i === which) {
      const data = Float64Array.from(x.dataSync());
      data[k] += delta;
      leaf = noGrad(() => new Tensor(data, "float64", x.shape).to(x.dtype));
    }
    return x.requiresGrad ? leaf.requiresGrad_(true) : leaf;
  });
  return Float64Array.from(fn(...moved).dataSync());
}

/** The numerical Jacobian of fn's output w.r.t. input `which`: J[out][in], by central differences. */
function numericalJacobian(fn: Fn, inputs: readonly Tensor[], which: number, eps: number): Float64Array[] {
  const n = inputs[which]!.numel();
  const cols: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    const plus = evalPerturbed(fn, inputs, which, k, eps);
    const minus = evalPerturbed(fn, inputs, which, k, -eps);
    cols.push(plus.map((p, j) => (p - minus[j]!) / (2 * eps)));
  }
  const nOut = cols[0]?.length ?? 0;
  return Array.from({ length: nOut }, (_, j) => Float64Array.from(cols, (c) => c[j]!));
}

/**
 * Gradients of `fn(...inputs).sum()` w.r.t. each input, by central differences (slow and
 * inexact by design: the lectures' point of comparison for autograd).
 *
 * @example tg.numericalGrad((x) => x.pow(2).sum(), [tg.tensor([3], { dtype: "float64" })]) // [[6]]
 */
export function numericalGrad(fn: Fn, inputs: readonly Tensor[], opts: NumericalGradOptions = {}): Tensor[] {
  const eps = opts.eps ?? 1e-6;
  return inputs.map((x, which) => {
    const jac = numericalJacobian(fn, inputs, which, eps);
    const g = new Float64Array(x.numel());
    for (const row of jac) for (let k = 0; k < g.length; k++) g[k] += row[k]!;
    return new Tensor(g, "float64", x.shape).to(x.dtype === "float32" ? "float32" : "float64");
  });
}

export interface GradcheckOptions extends NumericalGradOptions {
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
}

/**
 * Compares autograd's full Jacobian of `fn` with central differences for every input that
 * requires grad. Returns true, or throws an Error naming the worst element and both values.
 * Use float64 inputs: float32 is too coarse for finite differences.
 *
 * @example tg.gradcheck((x) => x.sin(), [tg.randn([3], { dtype: "float64", requiresGrad: true })])
 */
export function gradcheck(fn: Fn, inputs: readonly Tensor[], opts: GradcheckOptions = {}): true {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const out = fn(...inputs);
  if (!(out instanceof Tensor)) throw new TypeError("gradcheck: fn must return a Tensor");
  const wrt = inputs.map((x, i) => [x, i] as const).filter(([x]) => x.requiresGrad);
  if (wrt.length === 0) throw new Error("gradcheck: no input requires grad; create inputs with { requiresGrad: true }");
  const nOut = out.numel();
  // analytical Jacobian rows: one backward pass per output element
  const rows: Float64Array[][] = wrt.map(() => []);
  for (let j = 0; j < nOut; j++) {
    const seed = new Float64Array(nOut);
    seed[j] = 1;
    const gs = out.requiresGrad
      ? grad(out, wrt.map(([x]) => x), {
          gradOutputs: [new Tensor(seed, "float64", out.shape).to(out.dtype)],
          retainGraph: true,
          allowUnused: true,
        })
      : wrt.map(() => null);
    gs.forEach((g, w) => {
      rows[w]!.push(g === null ? new Float64Array(wrt[w]![0].numel()) : Float64Array.from(g.dataSync()));
    });
  }
  let worst: { excess: number; msg: string } | null = null;
  wrt.forEach(([x, i], w) => {
    const numeric = numericalJacobian(fn, inputs, i, eps);
    for (let j = 0; j < nOut; j++) {
      for (let k = 0; k < x.numel(); k++) {
        const a = rows[w]![j]![k]!;
        const n = numeric[j]![k]!;
        const bound = atol + rtol * Math.abs(n);
        const diff = Math.abs(a - n);
        const excess = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff - bound;
        if (excess > 0 && (worst === null || excess > worst.excess)) {
          worst = {
            excess,
            msg: `gradcheck: gradient mismatch for input ${i} (shape ${formatShape(x.shape)}) at element ${coords(k, x.shape)}, output element ${coords(j, out.shape)}: analytical ${a}, numerical ${n} (|diff| ${diff} > atol + rtol·|numerical| = ${bound})`,
          };
        }
      }
    }
  });
  if (worst !== null) throw new Error((worst as { msg: string }).msg);
  return true;
}
