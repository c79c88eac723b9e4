/** @file The kernel interface every backend implements: a small set of primitives over strided buffers. */
import type { DType, TypedArray } from "../base/dtype.ts";
import type { StridedView } from "../base/strided.ts";
import type { FusedTable } from "./fused.ts";

export type { StridedView };

/** Elementwise functions of one input. Output dtype = input dtype (the front end casts first). */
export type UnaryKernel =
  | "neg"
  | "abs"
  | "sign"
  | "exp"
  | "log"
  | "sqrt"
  | "rsqrt"
  | "sin"
  | "cos"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "erf"
  | "logicalNot";

/** Elementwise functions of two same-dtype inputs; comparisons write bool, the rest the input dtype. */
export type BinaryKernel =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "eq"
  | "ne"
  | "gt"
  | "ge"
  | "lt"
  | "le";

export const COMPARISONS: ReadonlySet<BinaryKernel> = new Set(["eq", "ne", "gt", "ge", "lt", "le"]);

/** Reductions over a set of axes; argmax/argmin take exactly one axis and write int32. */
export type ReduceKernel = "sum" | "max" | "min" | "argmax" | "argmin";

/**
 * A backend: the only code that touches element loops. Every kernel writes a fresh contiguous
 * row-major array; inputs may be any strided view. The js backend is the specification
 * every faster backend is tested against.
 */
export interface Backend {
  readonly name: string;
  /** Contiguous copy of `x` converted to `dtype` (also used to make views contiguous). */
  copy(x: StridedView, dtype: DType): TypedArray;
  unary(op: UnaryKernel, x: StridedView): TypedArray;
  /** `a` and `b` are already broadcast to `shape` (stride 0 on broadcast axes) and share a dtype. */
  binary(op: BinaryKernel, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray;
  /** `cond` is bool; `a`, `b` share a dtype; all three are broadcast to `shape`. */
  where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray;
  /** Reduces `axes` (sorted, unique) of `x`; the result has `x.shape` with those axes removed. */
  reduce(op: ReduceKernel, x: StridedView, axes: readonly number[]): TypedArray;
  /**
   * log softmax of a float view along `dim` (any rank; a 0-d view is one row of one element):
   * per row, x − m − log Σ exp(x − m) with m the row's maximum, summed in float64; NaN or +∞ in
   * a row, or a row of only −∞, makes the whole row NaN (PyTorch's log_softmax). Output: x's dtype.
   */
  logSoftmax(x: StridedView, dim: number): TypedArray;
  /** logSoftmax's gradient from its output y: g − exp(y) · Σ_dim g (the sum in float64); g and y share shape and float dtype. */
  logSoftmaxBackward(g: StridedView, y: StridedView, dim: number): TypedArray;
  /** Batched matrix product: a [B, M, K] · b [B, K, N] → [B, M, N], both same float dtype. */
  matmul(a: StridedView, b: StridedView): TypedArray;
  /** out[i][j][k] = x[index[i][j][k]][j][k] along `dim` (the PyTorch gather rule); `index` is int32. */
  gather(x: StridedView, dim: number, index: StridedView): TypedArray;
  /** A copy of `base` with `src` added at the positions `index` names along `dim` (scatter_add). */
  scatterAdd(base: StridedView, dim: number, index: StridedView, src: StridedView): TypedArray;
  /** Concatenates same-dtype views along `dim` into `shape`. */
  cat(parts: readonly StridedView[], dim: number, shape: readonly number[]): TypedArray;

  // ---- 2-D windows over float NCHW views (convolution = im2col + matmul in the front end) ----
  /** x [N, C, H, W] → columns [N, C·kh·kw, Ho·Wo] (PyTorch's `unfold` layout; zero outside x). */
  im2col(x: StridedView, win: Window2d): TypedArray;
  /** The adjoint of im2col: columns [N, C·kh·kw, Ho·Wo] summed into an image [N, C, ...inSize]. */
  col2im(cols: StridedView, win: Window2d, inSize: readonly [number, number]): TypedArray;
  /** Window maxima [N, C, Ho, Wo] and the int32 index of each winner within its H·W plane (first on ties, NaN wins). */
  maxPool2d(x: StridedView, win: Window2d): { values: TypedArray; indices: Int32Array };
  /** Scatter-adds g [N, C, Ho, Wo] into zeros [N, C, ...inSize] at the plane `indices` (-1: dropped). */
  maxPool2dBackward(g: StridedView, indices: StridedView, inSize: readonly [number, number]): TypedArray;
  /** Window means [N, C, Ho, Wo] with PyTorch's divisors; `win.dilation` is always [1, 1]. */
  avgPool2d(x: StridedView, win: Window2d, opts: AvgPoolOptions): TypedArray;
  /** The adjoint of avgPool2d: g [N, C, Ho, Wo] spread over each window of [N, C, ...inSize]. */
  avgPool2dBackward(g: StridedView, win: Window2d, opts: AvgPoolOptions, inSize: readonly [number, number]): TypedArray;

  // ---- optional: fused kernels (one table, declared in fused.ts; their meaning in src/fused/) ----
  readonly fused?: FusedTable;

  // ---- optional: storage that kernels read in place ----
  /**
   * A zeroed array of `n` elements for a long-lived tensor (an nn.Parameter) in memory the kernels
   * read without copying, or null (or no method) for an ordinary array. It is an ordinary typed
   * array to every other piece of code (and to the other backends).
   */
  allocPersistent?(dtype: DType, n: number): TypedArray | null;
  /** Whether `data` is, or is a view of, storage from `allocPersistent`. */
  isPersistent?(data: TypedArray): boolean;
}

/** A weight from a backend's `packLinear`: opaque to everything but the backend that packed it. */
export interface PackedLinear {
  /** The name of the backend whose `linearPacked` reads it. */
  readonly backend: string;
  /** N: the weight's rows (the layer's outputs). */
  readonly outFeatures: number;
  /** K: the weight's columns (the layer's inputs). */
  readonly inFeatures: number;
}

/**
 * The geometry of a sliding 2-D window, fully resolved by the front end. Output position
 * (ho, wo), tap (i, j) reads input (ho·stride[0] − padding[0] + i·dilation[0], wo·stride[1] −
 * padding[1] + j·dilation[1]); anything outside the input is padding. Padding after the input
 * (asymmetric "same", ceil mode) is implied by `outSize`.
 */
export interface Window2d {
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  /** Zero padding before the first row and column. */
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** [Ho, Wo]. */
  readonly outSize: readonly [number, number];
}

/** A window's geometry as the wasm and native kernels read it: kernel, stride, padding, dilation, outSize (10 ints). */
export function windowInts(win: Window2d): number[] {
  return [...win.kernel, ...win.stride, ...win.padding, ...win.dilation, ...win.outSize];
}

/** Whether `pool`'s windows tile its input without overlap (stride = kernel, no padding, dilation 1): the one pool the fused Conv2d → ReLU → MaxPool2d kernels run. */
export function poolTiles(pool: Window2d): boolean {
  return pool.stride[0] === pool.kernel[0] && pool.stride[1] === pool.kernel[1] && pool.padding.every((v) => v === 0) && pool.dilation.every((v) => v === 1);
}

/**
 * Average-pool divisors as in PyTorch: the window clipped to the padded input (countIncludePad)
 * or to the input itself. Pooling pads symmetrically: the padding after equals `win.padding`.
 */
export interface AvgPoolOptions {
  readonly countIncludePad: boolean;
  /** Divide every window by this instead (PyTorch's `divisor_override`). */
  readonly divisorOverride: number | null;
}
