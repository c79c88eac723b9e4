/**
 * @file Every primitive's gradient rule (vector-Jacobian product) in one typed table.
 * Rules are written with tensor ops, so they are differentiable themselves (higher-order
 * gradients for free). A rule returns one gradient per input in the OUTPUT's broadcast shape
 * and dtype; the engine sums broadcast axes away and casts, so no rule handles broadcasting.
 */
import type { AvgPoolOptions, Window2d } from "../backend/backend.ts";
import * as windows from "../ops/conv.ts";
import { reluBackward } from "../fused/relu-backward.ts";
import { type FusedNodeParams, fusedRules } from "../fused/rules.ts";
import * as ops from "../ops/index.ts";
import type { DType } from "../base/dtype.ts";
import type { Tensor } from "../tensor/tensor.ts";

interface ReduceParams {
  axes: number[];
  keepdim: boolean;
}

/** The primitives and the parameters each records. */
export interface PrimParams extends FusedNodeParams {
  neg: null;
  abs: null;
  exp: null;
  log: null;
  sqrt: null;
  rsqrt: null;
  sin: null;
  cos: null;
  tanh: null;
  sigmoid: null;
  relu: null;
  reluBackward: null;
  erf: null;
  add: null;
  sub: null;
  mul: null;
  div: null;
  pow: null;
  maximum: null;
  minimum: null;
  where: null;
  sum: ReduceParams;
  amax: ReduceParams;
  amin: ReduceParams;
  logSoftmax: { dim: number };
  cast: { from: DType };
  reshape: null;
  permute: { dims: number[] };
  expand: null;
  narrow: { dim: number; start: number; length: number };
  cat: { dim: number };
  contiguous: null;
  matmul: null;
  gather: { dim: number };
  scatterAdd: { dim: number };
  solve: null;
  inv: null;
  lstsq: null;
  im2col: { win: Window2d };
  col2im: { win: Window2d; inSize: readonly [number, number] };
  maxPool2d: { indices: Tensor; inSize: readonly [number, number] };
  maxPool2dBackward: { indices: Tensor; inSize: readonly [number, number] };
  avgPool2d: { win: Window2d; opts: AvgPoolOptions; inSize: readonly [number, number] };
  avgPool2dBackward: { win: Window2d; opts: AvgPoolOptions; inSize: readonly [number, number] };
}

export type PrimOp = keyof PrimParams;

export interface RuleContext<K extends PrimOp> {
  inputs: readonly Tensor[];
  out: Tensor;
  params: PrimParams[K];
  /** needs[i]: whether input i requires a gradient (skip work for the others). */
  needs: readonly boolean[];
}

export interface VjpRule<K extends PrimOp> {
  /** Whether the rule reads saved inputs/outputs (then a freed graph cannot be replayed). */
  saves: boolean;
  vjp: (g: Tensor, ctx: RuleContext<K>) => (Tensor | null)[];
}

const one = <K extends PrimOp>(saves: boolean, f: (g: Tensor, ctx: RuleContext<K>) => Tensor): VjpRule<K> => ({
  saves,
  vjp: (g, ctx) => [f(g, ctx)],
});

/** Restores reduced axes as size-1 dims so a reduction's gradient broadcasts back over them. */
function keepDims(t: Tensor, p: ReduceParams, inShape: readonly number[]): Tensor {
  if (p.keepdim) return t;
  const shape = inShape.map((d, i) => (p.axes.includes(i) ? 1 : d));
  return t.reshape(shape);
}

/** Gradient of max/min over axes: shared evenly among the tied extremes, as PyTorch's amax/amin do. */
function extremeGrad(g: Tensor, { inputs, out, params }: RuleContext<"amax" | "amin">): Tensor {
  const x = inputs[0]!;
  const mask = x.eq(keepDims(out, params, x.shape)).to(g.dtype);
  return mask.div(mask.sum(params.axes, true)).mul(keepDims(g, params, x.shape));
}

/** A 2-D view that is the transpose of a contiguous matrix (e.g. `weight.t()`). */
function isTransposed(t: Tensor): boolean {
  return t.ndim === 2 && t.shape[0]! > 1 && t.shape[1]! > 1 && t.strides[0] === 1 && t.strides[1] === t.shape[0];
}

function inversePermutation(dims: readonly number[]): number[] {
  const inv = new Array<number>(dims.length);
  dims.forEach((d, i) => {
    inv[d] = i;
  });
  return inv;
}

const primitiveRules: { [K in Exclude<PrimOp, keyof FusedNodeParams>]: VjpRule<K> } = {
  neg: one(false, (g) => g.neg()), // d(-x) = -dx
  abs: one(true, (g, { inputs }) => g.mul(inputs[0]!.sign())), // d|x| = sign(x) dx
  exp: one(true, (g, { out }) => g.mul(out)), // d exp(x) = exp(x) dx
  log: one(true, (g, { inputs }) => g.div(inputs[0]!)), // d log(x) = dx / x
  sqrt: one(true, (g, { out }) => g.div(out.mul(2))), // d √x = dx / (2√x)
  rsqrt: one(true, (g, { out }) => g.mul(out.pow(3)).mul(-0.5)), // d x^-½ = -½ x^-3/2 dx
  sin: one(true, (g, { inputs }) => g.mul(inputs[0]!.cos())), // d sin = cos dx
  cos: one(true, (g, { inputs }) => g.mul(inputs[0]!.sin()).neg()), // d cos = -sin dx
  tanh: one(true, (g, { out }) => g.mul(ops.sub(1, out.mul(out)))), // d tanh = (1 - tanh²) dx
  sigmoid: one(true, (g, { out }) => g.mul(out.mul(ops.sub(1, out)))), // dσ = σ(1-σ) dx
  relu: one(true, (g, { out }) => reluBackward(g, out)), // d relu = [x > 0] dx
  // linear in g; the mask's derivative is zero almost everywhere
  reluBackward: { saves: true, vjp: (gg, { inputs: [, y], needs }) => [needs[0] ? reluBackward(gg, y!) : null, null] },
  erf: one(true, (g, { inputs }) => g.mul(inputs[0]!.square().neg().exp().mul(2 / Math.sqrt(Math.PI)))), // d erf = 2/√π e^(-x²) dx
  add: { saves: false, vjp: (g) => [g, g] }, // d(a+b) = da + db
  sub: { saves: false, vjp: (g) => [g, g.neg()] }, // d(a-b) = da - db
  mul: {
    saves: true,
    vjp: (g, { inputs: [a, b], needs }) => [needs[0] ? g.mul(b!) : null, needs[1] ? g.mul(a!) : null], // d(ab) = b da + a db
  },
  div: {
    saves: true,
    vjp: (g, { inputs: [a, b], needs }) => {
      const ga = g.div(b!); // d(a/b) = da/b - a/b² db
      return [needs[0] ? ga : null, needs[1] ? ga.mul(a!).div(b!).neg() : null];
    },
  },
  pow: {
    saves: true,
    vjp: (g, { inputs: [a, b], out, needs }) => [
      // d a^b = b a^(b-1) da + a^b log(a) db; at a = 0 the db term is taken as 0 (PyTorch's convention)
      needs[0] ? ops.where(b!.eq(0), 0, g.mul(b!).mul(a!.pow(b!.sub(1)))) : null,
      needs[1] ? ops.where(a!.eq(0).logicalAnd(b!.ge(0)), 0, g.mul(out).mul(a!.log())) : null,
    ],
  },
  maximum: {
    saves: true,
    vjp: (g, { inputs: [a, b] }) => {
      // ties split the gradient evenly, as in PyTorch
      const share = a!.gt(b!).to(g.dtype).add(a!.eq(b!).to(g.dtype).mul(0.5));
      return [g.mul(share), g.mul(ops.sub(1, share))];
    },
  },
  minimum: {
    saves: true,
    vjp: (g, { inputs: [a, b] }) => {
      const share = a!.lt(b!).to(g.dtype).add(a!.eq(b!).to(g.dtype).mul(0.5));
      return [g.mul(share), g.mul(ops.sub(1, share))];
    },
  },
  where: {
    saves: true,
    vjp: (g, { inputs: [c], needs }) => [
      null,
      needs[1] ? ops.where(c!, g, 0) : null, // the gradient goes to the branch that was chosen
      needs[2] ? ops.where(c!, 0, g) : null,
    ],
  },
  sum: one(false, (g, { inputs, params }) => keepDims(g, params, inputs[0]!.shape).expand(inputs[0]!.shape)),
  amax: one(true, extremeGrad),
  amin: one(true, extremeGrad),
  // d logSoftmax = dx − softmax(x) · Σ_dim dx, so the vjp is g − exp(out) · Σ_dim g (one kernel outside createGraph)
  logSoftmax: one(true, (g, { out, params: { dim } }) => ops.logSoftmaxBackward(g, out, dim)),
  cast: one(false, (g, { params }) => g.to(params.from)),
  reshape: one(false, (g, { inputs }) => g.reshape(inputs[0]!.shape)),
  permute: one(false, (g, { params }) => g.permute(inversePermutation(params.dims))),
  expand: one(false, (g) => g), // the engine sums the expanded axes back
  narrow: one(false, (g, { inputs, params: { dim, start, length } }) => {
    // pad the slice's gradient with zeros back to the input's size along dim
    const full = inputs[0]!.shape;
    const zerosOf = (n: number) => ops.zeros(full.map((d, i) => (i === dim ? n : d)), { dtype: g.dtype });
    return ops.cat([zerosOf(start), g, zerosOf(full[dim]! - start - length)], dim);
  }),
  cat: {
    saves: false,
    vjp: (g, { inputs, params: { dim } }) => {
      let start = 0;
      return inputs.map((t) => {
        const piece = g.narrow(dim, start, t.shape[dim]!);
        start += t.shape[dim]!;
        return piece;
      });
    },
  },
  contiguous: one(false, (g) => g),
  matmul: {
    saves: true,
    vjp: (g, { inputs: [a, b], needs }) => [
      needs[0] ? g.matmul(b!.transpose(-1, -2)) : null, // dA = G Bᵀ
      // dB = Aᵀ G; for B = Wᵀ (a Linear layer's weight) as (Gᵀ A)ᵀ, so W's gradient comes out
      // contiguous instead of a transposed copy — the same products summed in the same order
      needs[1] ? (isTransposed(b!) ? g.mT.matmul(a!).mT : a!.transpose(-1, -2).matmul(g)) : null,
    ],
  },
  gather: {
    saves: true,
    vjp: (g, { inputs: [x, index], params: { dim } }) => [
      ops.zeros(x!.shape, { dtype: g.dtype }).scatterAdd(dim, index!, g),
      null,
    ],
  },
  scatterAdd: {
    saves: true,
    vjp: (g, { inputs: [, index], params: { dim }, needs }) => [g, null, needs[2] ? g.gather(dim, index!) : null],
  },
  solve: {
    saves: true,
    vjp: (g, { inputs: [a], out, needs }) => {
      // X = A⁻¹B: dB = A⁻ᵀ G, dA = -dB Xᵀ
      const gb = ops.linalgSolve(a!.mT, g);
      return [needs[0] ? gb.matmul(out.mT).neg() : null, gb];
    },
  },
  inv: one(true, (g, { out }) => out.mT.matmul(g).matmul(out.mT).neg()), // d A⁻¹ = -A⁻¹ dA A⁻¹
  lstsq: {
    saves: true,
    vjp: (g, { inputs: [a, b], out, needs }) => {
      // X = (AᵀA)⁻¹AᵀB; with Z = (AᵀA)⁻¹G and residual R = B − AX: dB = AZ, dA = RZᵀ − AZXᵀ
      const z = ops.linalgSolve(a!.mT.matmul(a!), g);
      const az = a!.matmul(z);
      return [needs[0] ? b!.sub(a!.matmul(out)).matmul(z.mT).sub(az.matmul(out.mT)) : null, needs[1] ? az : null];
    },
  },
  // 2-D windows: each primitive is linear in its input, so its gradient is its adjoint, and so on
  im2col: one(false, (g, { inputs: [x], params: { win } }) => windows.col2im(g, win, [x!.shape[2]!, x!.shape[3]!])),
  col2im: one(false, (g, { params: { win } }) => windows.im2col(g, win)),
  // max pooling routes g back to each window's argmax; the scatter's own gradient gathers there
  maxPool2d: one(false, (g, { params: { indices, inSize } }) => windows.maxPool2dBackward(g, indices, inSize)),
  maxPool2dBackward: one(false, (g, { params: { indices } }) => {
    const [n, c, ho, wo] = indices.shape as [number, number, number, number];
    const gather = (idx: Tensor) => g.reshape([n, c, -1]).gather(2, idx.reshape([n, c, ho * wo])).reshape([n, c, ho, wo]);
    if (!indices.data.includes(-1)) return gather(indices);
    const valid = indices.ge(0); // windows of padding only (index -1) received nothing, so give nothing back
    return ops.where(valid, gather(ops.where(valid, indices, 0)), 0);
  }),
  avgPool2d: one(false, (g, { params: { win, opts, inSize } }) => windows.avgPool2dBackward(g, win, opts, inSize)),
  avgPool2dBackward: one(false, (g, { params: { win, opts } }) => windows.avgPool2dWindows(g, win, opts)),
};

/** Every recorded op's gradient rule: the primitives' above and the fused nodes' (src/fused/rules.ts), completed on first use (after every module has loaded). */
export const vjpRules = primitiveRules as { [K in PrimOp]: VjpRule<K> };
let complete = false;

/** The gradient rule of `op`. */
export function vjpRule<K extends PrimOp>(op: K): VjpRule<K> {
  if (!complete) {
    Object.assign(vjpRules, fusedRules);
    complete = true;
  }
  return vjpRules[op];
}
