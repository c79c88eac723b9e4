/** @file The kernel interface every backend implements: a small set of primitives over strided buffers. */
import type { DType, TypedArray } from "../tensor/dtype.ts";

/** A strided view of a storage array: what a kernel reads. Strides may be 0 (broadcast) or any permutation. */
export interface StridedView {
  readonly data: TypedArray;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

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
  /** Batched matrix product: a [B, M, K] · b [B, K, N] → [B, M, N], both same float dtype. */
  matmul(a: StridedView, b: StridedView): TypedArray;
  /** out[i][j][k] = x[index[i][j][k]][j][k] along `dim` (the PyTorch gather rule); `index` is int32. */
  gather(x: StridedView, dim: number, index: StridedView): TypedArray;
  /** A copy of `base` with `src` added at the positions `index` names along `dim` (scatter_add). */
  scatterAdd(base: StridedView, dim: number, index: StridedView, src: StridedView): TypedArray;
  /** Concatenates same-dtype views along `dim` into `shape`. */
  cat(parts: readonly StridedView[], dim: number, shape: readonly number[]): TypedArray;
}
