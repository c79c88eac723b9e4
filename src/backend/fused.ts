/**
 * @file The optional table of fused kernels a backend may fill (`Backend.fused`): one entry per
 * fused op, each taking one argument object. What each entry means — the composition of
 * primitives it must equal, its gradient and when it is asked at all — is declared once in
 * src/fused/ (the dispatcher); a backend only states which entries it has. Every entry may return
 * null (false for adamStep) to decline a call: the dispatcher then runs the composition.
 */
import type { TypedArray } from "../base/dtype.ts";
import type { PackedLinear, StridedView, Window2d } from "./backend.ts";

/** Gradients of a linear layer: each null where it was not asked for. */
export interface LinearGradients {
  dx: TypedArray | null;
  dw: TypedArray | null;
  db: TypedArray | null;
}

/** Gradients of a convolution's weight [O, C, kh, kw] and (when asked) bias [O]. */
export interface ConvWeightGradients {
  dw: TypedArray;
  db: TypedArray | null;
}

/** Window maxima and the int32 index of each winner within its plane (maxPool2d's layout). */
export interface PooledValues {
  values: TypedArray;
  indices: Int32Array;
}

/** A max pool with non-overlapping windows over a conv output (stride = kernel, no padding, dilation 1). */
interface PoolOperands {
  /** The pool's window over the conv output [Ho, Wo] = win.outSize. */
  pool: Window2d;
  /** The forward's int32 argmax indices [N, O, Hp, Wp] within each Ho·Wo plane. */
  indices: StridedView;
  /** The forward's pooled (relu'd) values [N, O, Hp, Wp]. */
  pooled: StridedView;
}

/** The fused kernels, for float32 operands (linear: any one float dtype) as the dispatcher guards them; each result a fresh contiguous array. */
export interface FusedKernels {
  /** x [M, K] · wᵀ (w [N, K]) + bias [N], then relu when asked. */
  linear(a: { x: StridedView; w: StridedView; bias: StridedView | null; relu: boolean }): TypedArray | null;
  /** linear's gradients from g [M, N]: g' = g·(y > 0) when `y` (the relu'd output) is given, dx = g'·w, dw = g'ᵀ·x, db = Σ_rows g', each where `needs` says. */
  linearBackward(a: {
    g: StridedView;
    x: StridedView;
    w: StridedView;
    y: StridedView | null;
    needs: readonly [boolean, boolean, boolean];
  }): LinearGradients | null;
  /** w [N, K] in this backend's own layout for `linearPacked` (may keep a reference to w: the caller must not change it). */
  packLinear(a: { w: StridedView }): PackedLinear | null;
  /** `linear` with w packed by this backend's `packLinear`. */
  linearPacked(a: { x: StridedView; packed: PackedLinear; bias: StridedView | null; relu: boolean }): TypedArray | null;
  /** relu's gradient from its output: g · (y > 0 ? 1 : 0), one shape. */
  reluBackward(a: { g: StridedView; y: StridedView }): TypedArray | null;
  /** x [N, C, H, W] ⋆ w [O, C, kh, kw] + bias [O] → [N, O, Ho, Wo] (groups 1), then relu when asked. */
  conv2d(a: { x: StridedView; w: StridedView; bias: StridedView | null; win: Window2d; relu: boolean }): TypedArray | null;
  /** conv2d's input gradient col2im(wᵀ·g') from g [N, O, Ho, Wo], g' = g masked by relu's gradient when `y` (the relu'd output) is given. */
  conv2dBackwardInput(a: { g: StridedView; w: StridedView; win: Window2d; inSize: readonly [number, number]; y: StridedView | null }): TypedArray | null;
  /** conv2d's weight gradient Σₙ g'ₙ·im2col(x)ₙᵀ and, when `bias`, Σ g' over N, Ho, Wo (g' as in conv2dBackwardInput). */
  conv2dBackwardWeight(a: { g: StridedView; x: StridedView; win: Window2d; bias: boolean; y: StridedView | null }): ConvWeightGradients | null;
  /** maxPool2d(relu(conv2d(x, w, bias, win)), pool) for a non-overlapping `pool`, without materialising the conv output. */
  conv2dReluMaxPool(a: { x: StridedView; w: StridedView; bias: StridedView | null; win: Window2d; pool: Window2d }): PooledValues | null;
  /** conv2dReluMaxPool's input gradient from the pooled gradient g: the unfused chain's (scatter to the argmax, relu mask, conv2d's input gradient). */
  conv2dReluMaxPoolBackwardInput(
    a: {
      g: StridedView;
      w: StridedView;
      win: Window2d;
      inSize: readonly [number, number];
    } & PoolOperands,
  ): TypedArray | null;
  /** conv2dReluMaxPool's weight and bias gradients, as conv2dBackwardWeight on the rebuilt gradient. */
  conv2dReluMaxPoolBackwardWeight(
    a: {
      g: StridedView;
      x: StridedView;
      win: Window2d;
      bias: boolean;
    } & PoolOperands,
  ): ConvWeightGradients | null;
  /**
   * One Adam/AdamW step in place on same-length float32 arrays (vMax: AMSGrad's, or null) with
   * h = [β₁, β₂, stepSize, √(1−β₂ᵗ), ε, l2, decay, decoupled (0/1), sign]; false: declined.
   */
  adamStep(a: { w: TypedArray; g: TypedArray; m: TypedArray; v: TypedArray; vMax: TypedArray | null; h: readonly number[] }): boolean;
}

/** The name of a fused op. */
export type FusedOp = keyof FusedKernels;
/** The argument object of fused op K. */
export type FusedArgs<K extends FusedOp> = Parameters<FusedKernels[K]>[0];
/** What fused op K's kernel returns. */
export type FusedResult<K extends FusedOp> = ReturnType<FusedKernels[K]>;
/** A backend's fused kernels: any subset, each with its declared signature. */
export type FusedTable = { readonly [K in FusedOp]?: FusedKernels[K] };
