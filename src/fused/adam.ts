/**
 * @file One Adam/AdamW step in place (torch.optim's update rules): the backend's `adamStep`
 * kernel where it has one for these arrays, else the loops below, which are its definition.
 */
import type { TypedArray } from "../base/dtype.ts";
import { runKernel } from "./kernels.ts";

const f = Math.fround;
/** h's nine numbers: [β₁, β₂, stepSize, √(1−β₂ᵗ), ε, l2, decay, decoupled (0/1), sign]. */
type Hyper = [number, number, number, number, number, number, number, number, number];

/**
 * The float32 update: PyTorch's sequence of float32 operations (each product, sum, quotient and
 * square root rounded to float32, no fused multiply-add), so SIMD kernels (16 or 4 lanes of IEEE
 * single precision) reproduce it bit for bit. Math.fround of a double result equals the float32
 * operation for +, −, ×, ÷ and √ of float32 operands (53 ≥ 2·24 + 2 bits).
 * h = the backend hook's [β₁, β₂, stepSize, √(1−β₂ᵗ), ε, l2, decay, decoupled (0/1), sign].
 */
function adamFloat32(w: Float32Array, g: TypedArray, m: TypedArray, v: TypedArray, vMax: TypedArray | null, h: readonly number[]): void {
  const [beta1, beta2, stepSize, bc2, eps, l2, decay, decoupledFlag, sign] = h as Hyper;
  const decoupled = decoupledFlag !== 0;
  const b1 = f(beta1);
  const b2 = f(beta2);
  const c1 = f(1 - beta1);
  const c2 = f(1 - beta2);
  const negStep = f(-stepSize);
  const bc = f(bc2);
  const e = f(eps);
  const l2f = f(l2);
  const dec = f(decay);
  for (let i = 0; i < w.length; i++) {
    let gi = sign * g[i]!;
    if (decoupled) w[i] = w[i]! * dec;
    else if (l2 !== 0) gi = f(gi + f(l2f * w[i]!));
    const mi = (m[i] = f(f(m[i]! * b1) + f(c1 * gi)));
    let second = (v[i] = f(f(v[i]! * b2) + f(f(c2 * gi) * gi)));
    if (vMax !== null) second = vMax[i] = Math.max(vMax[i]!, second);
    w[i] = w[i]! + f(f(negStep * mi) / f(f(f(Math.sqrt(second)) / bc) + e));
  }
}

/**
 * One Adam/AdamW step on w with gradient g and moments m, v (vMax: AMSGrad's running maximum, or
 * null), all of one length; h = [β₁, β₂, stepSize, √(1−β₂ᵗ), ε, l2, decay, decoupled (0/1), sign].
 * Float32 parameters use float32 operations in PyTorch's order (adamFloat32), others double.
 */
export function adamStep(w: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, vMax: TypedArray | null, h: readonly number[]): void {
  if (runKernel("adamStep", { w, g, m, v, vMax, h }) !== null) return;
  if (w instanceof Float32Array) {
    adamFloat32(w, g, m, v, vMax, h);
    return;
  }
  const [beta1, beta2, stepSize, biasCorrection2Sqrt, eps, l2, decay, decoupledFlag, sign] = h as Hyper;
  const decoupled = decoupledFlag !== 0;
  for (let i = 0; i < w.length; i++) {
    let gi = sign * g[i]!;
    if (decoupled) w[i] = w[i]! * decay;
    else if (l2 !== 0) gi = gi + l2 * w[i]!;
    m[i] = m[i]! * beta1 + (1 - beta1) * gi;
    v[i] = v[i]! * beta2 + (1 - beta2) * gi * gi;
    let second = v[i]!;
    if (vMax !== null) second = vMax[i] = Math.max(vMax[i]!, second);
    w[i] = w[i]! + (-stepSize * m[i]!) / (Math.sqrt(second) / biasCorrection2Sqrt + eps);
  }
}
