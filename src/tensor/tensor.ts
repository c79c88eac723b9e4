/** @file The Tensor: a strided view (shape, strides, offset) over a typed storage array, plus autograd state. */
import type { Node } from "../autograd/node.ts";
import type { BackwardOptions } from "../autograd/engine.ts";
import type { StridedView } from "../backend/backend.ts";
import { recycle } from "../backend/registry.ts";
import * as ops from "../ops/index.ts";
import { type DType, isFloating, type TypedArray } from "../base/dtype.ts";
import { formatTensor } from "./format.ts";
import { contiguousStrides, formatShape, sizeOf } from "../base/shape.ts";
import { isRowMajor } from "../base/strided.ts";

/** What an op accepts where a tensor goes: a tensor, or a number / boolean that broadcasts as a scalar. */
export type TensorLike = Tensor | number | boolean;

/** Nested JS arrays as returned by `toArray()`. */
export type NestedArray = number | boolean | NestedArray[];

/**
 * An n-dimensional array that can record the operations applied to it for automatic
 * differentiation. Create tensors with `tg.tensor`, `tg.zeros`, `tg.randn`, ….
 *
 * @example
 * const x = tg.tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * x.mul(x).sum().backward();
 * x.grad!.toArray(); // [[2, 4], [6, 8]]
 */
export class Tensor implements StridedView {
  /** The storage array; several tensors (views) may share it. */
  readonly data: TypedArray;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  /**
   * @internal the gradient `grad` reads and writes. The engine, the optimizers and the gradient
   * clipping use it directly, and never keep a reference to it past the call (that is what makes
   * `_clearGrad`'s recycling safe): code that keeps one must read `grad`.
   */
  _grad: Tensor | null = null;
  /**
   * @internal whether `_grad`'s storage may be referenced outside the engine and the optimizers:
   * it was read through `grad`, set by the caller, or recorded in a graph. While it is not, clearing
   * the gradient (`_clearGrad`) can hand its storage back to the output pool.
   */
  _gradShared = false;
  /** @internal the op that produced this tensor, null for leaves. */
  _node: Node | null = null;
  /** @internal */
  _requiresGrad = false;
  /** @internal keep `.grad` for this non-leaf tensor too. */
  _retainGrad = false;

  /** Gradient accumulated by `backward()` (leaves only), or null. */
  get grad(): Tensor | null {
    if (this._grad !== null) this._gradShared = true;
    return this._grad;
  }

  set grad(g: Tensor | null) {
    this._grad = g;
    this._gradShared = g !== null;
  }

  /**
   * @internal `grad = null`, handing the gradient's storage back to the output pool
   * (backend/output-pool.ts) when nothing outside the engine and the optimizers can hold it.
   */
  _clearGrad(): void {
    const g = this._grad;
    this._grad = null;
    if (g !== null && !this._gradShared) recycle(g.data, -1);
    this._gradShared = false;
  }

  /** @internal Use the creation functions; this wraps existing storage without copying. */
  constructor(data: TypedArray, dtype: DType, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.data = data;
    this.dtype = dtype;
    this.shape = shape;
    this.strides = strides ?? contiguousStrides(shape);
    this.offset = offset;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  numel(): number {
    return sizeOf(this.shape);
  }

  /** PyTorch's `size(dim?)`: the shape, or one dimension of it. */
  size(dim?: number): number | readonly number[] {
    return dim === undefined ? this.shape : this.shape[ops.normalizeDim(dim, this.ndim, "size")]!;
  }

  /** Whether gradients flow to this tensor. Only floating tensors can require grad, and only leaves can be switched. */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }

  /** Sets `requiresGrad` in place and returns this tensor (PyTorch's `requires_grad_`). */
  requiresGrad_(flag = true): this {
    if (this._node !== null && !flag)
      throw new Error("requiresGrad_: only leaf tensors can change requiresGrad; use detach() to get a tensor without a graph");
    if (flag && !isFloating(this.dtype))
      throw new TypeError(
        `requiresGrad_: only floating-point tensors can require gradients, got dtype ${this.dtype} (convert with .to("float32"))`,
      );
    this._requiresGrad = flag;
    return this;
  }

  /** True for tensors created by the user (no producing op). */
  get isLeaf(): boolean {
    return this._node === null;
  }

  /** The backward function of the op that produced this tensor (`name` e.g. "AddBackward0"), or null for leaves. */
  get gradFn(): Node | null {
    return this._node;
  }

  /** Also keep `.grad` on this non-leaf tensor when `backward()` runs. */
  retainGrad(): this {
    this._retainGrad = true;
    return this;
  }

  /** True when elements are laid out densely in row-major order. */
  isContiguous(): boolean {
    return isRowMajor(this);
  }

  /** The scalar value of a one-element tensor. */
  item(): number {
    if (this.numel() !== 1)
      throw new Error(`item: only one-element tensors can be converted to a number, got shape ${formatShape(this.shape)}`);
    return Number(this.data[this.offset]);
  }

  /** A contiguous typed-array copy of the elements in row-major order. */
  dataSync(): TypedArray {
    return ops.contiguousData(this);
  }

  /** The elements as nested JS arrays (booleans for bool tensors). */
  toArray(): NestedArray {
    const flat = this.dataSync();
    const isBool = this.dtype === "bool";
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.ndim) return isBool ? flat[start] === 1 : flat[start]!;
      const n = this.shape[dim]!;
      const step = sizeOf(this.shape.slice(dim + 1));
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, start + i * step);
      return out;
    };
    return build(0, 0);
  }

  /** PyTorch-style text, e.g. `tensor([[1., 2.], [3., 4.]], requires_grad=True)`. */
  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  // ---- autograd -------------------------------------------------------------------------

  /**
   * Computes gradients of this tensor with respect to every leaf that requires grad and
   * accumulates them into `.grad`. A non-scalar tensor needs `grad` (the upstream gradient).
   * The options may come first when there is no `grad` (PyTorch passes them by keyword).
   * @example loss.backward({ retainGraph: true }); // same as loss.backward(undefined, { retainGraph: true })
   */
  backward(opts: BackwardOptions): void;
  backward(grad?: TensorLike, opts?: BackwardOptions): void;
  backward(grad?: TensorLike | BackwardOptions, opts: BackwardOptions = {}): void {
    if (grad !== null && typeof grad === "object" && !(grad instanceof Tensor)) ops.backward(this, undefined, grad);
    else ops.backward(this, grad, opts);
  }

  /** A tensor sharing this one's storage, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.dtype, this.shape, this.strides, this.offset);
  }

  /** A copy with its own storage (differentiable). */
  clone(): Tensor {
    return ops.clone(this);
  }

  /** This tensor converted to `dtype` (itself when it already has it). */
  to(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }

  float(): Tensor {
    return ops.cast(this, "float32");
  }

  double(): Tensor {
    return ops.cast(this, "float64");
  }

  int(): Tensor {
    return ops.cast(this, "int32");
  }

  bool(): Tensor {
    return ops.cast(this, "bool");
  }

  /** A contiguous tensor with the same values (itself when already contiguous). */
  contiguous(): Tensor {
    return ops.contiguous(this);
  }

  // ---- in-place updates (no graph; for optimizers and initialisers) ----------------------

  /** Copies `src` (broadcast) into this tensor's elements. */
  copy_(src: TensorLike): this {
    ops.assignInPlace(this, src, "copy_");
    return this;
  }

  add_(other: TensorLike, alpha = 1): this {
    ops.assignInPlace(this, alpha === 1 ? ops.add(this, other) : ops.add(this, ops.mul(other, alpha)), "add_");
    return this;
  }

  sub_(other: TensorLike): this {
    ops.assignInPlace(this, ops.sub(this, other), "sub_");
    return this;
  }

  mul_(other: TensorLike): this {
    ops.assignInPlace(this, ops.mul(this, other), "mul_");
    return this;
  }

  div_(other: TensorLike): this {
    ops.assignInPlace(this, ops.div(this, other), "div_");
    return this;
  }

  fill_(value: number): this {
    ops.assignInPlace(this, value, "fill_");
    return this;
  }

  zero_(): this {
    return this.fill_(0);
  }

  // ---- elementwise ------------------------------------------------------------------------

  add(other: TensorLike): Tensor {
    return ops.add(this, other);
  }
  sub(other: TensorLike): Tensor {
    return ops.sub(this, other);
  }
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  maximum(other: TensorLike): Tensor {
    return ops.maximum(this, other);
  }
  minimum(other: TensorLike): Tensor {
    return ops.minimum(this, other);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sign(): Tensor {
    return ops.sign(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  rsqrt(): Tensor {
    return ops.rsqrt(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  leakyRelu(negativeSlope = 0.01): Tensor {
    return ops.leakyRelu(this, negativeSlope);
  }
  gelu(): Tensor {
    return ops.gelu(this);
  }
  erf(): Tensor {
    return ops.erf(this);
  }
  step(): Tensor {
    return ops.step(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return ops.clamp(this, min, max);
  }
  where(condition: TensorLike, other: TensorLike): Tensor {
    return ops.where(condition, this, other);
  }
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  logicalAnd(other: TensorLike): Tensor {
    return ops.logicalAnd(this, other);
  }
  logicalOr(other: TensorLike): Tensor {
    return ops.logicalOr(this, other);
  }

  // ---- comparisons ------------------------------------------------------------------------

  eq(other: TensorLike): Tensor {
    return ops.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return ops.ne(this, other);
  }
  gt(other: TensorLike): Tensor {
    return ops.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return ops.ge(this, other);
  }
  lt(other: TensorLike): Tensor {
    return ops.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return ops.le(this, other);
  }

  // ---- reductions -------------------------------------------------------------------------

  sum(dim?: number | number[] | null, keepdim = false): Tensor {
    return ops.sum(this, dim, keepdim);
  }
  mean(dim?: number | number[] | null, keepdim = false): Tensor {
    return ops.mean(this, dim, keepdim);
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? ops.max(this) : ops.max(this, dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? ops.min(this) : ops.min(this, dim, keepdim);
  }
  amax(dim?: number | number[] | null, keepdim = false): Tensor {
    return ops.amax(this, dim, keepdim);
  }
  amin(dim?: number | number[] | null, keepdim = false): Tensor {
    return ops.amin(this, dim, keepdim);
  }
  argmax(dim?: number | null, keepdim = false): Tensor {
    return ops.argmax(this, dim, keepdim);
  }
  argmin(dim?: number | null, keepdim = false): Tensor {
    return ops.argmin(this, dim, keepdim);
  }
  var(dim?: number | number[] | null, keepdim = false, opts?: { correction?: number }): Tensor {
    return ops.variance(this, dim, keepdim, opts);
  }
  std(dim?: number | number[] | null, keepdim = false, opts?: { correction?: number }): Tensor {
    return ops.std(this, dim, keepdim, opts);
  }
  logSumExp(dim?: number | number[] | null, keepdim = false): Tensor {
    return ops.logSumExp(this, dim, keepdim);
  }
  softmax(dim: number): Tensor {
    return ops.softmax(this, dim);
  }
  logSoftmax(dim: number): Tensor {
    return ops.logSoftmax(this, dim);
  }

  // ---- linear algebra ---------------------------------------------------------------------

  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  /** Transpose of a 2-D tensor (PyTorch's `.t()`); 0-D and 1-D tensors are returned as they are. */
  t(): Tensor {
    return ops.t(this);
  }
  /** `mT`: the transpose of the last two dims. */
  get mT(): Tensor {
    return ops.transpose(this, -2, -1);
  }

  // ---- shape ------------------------------------------------------------------------------

  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return ops.reshape(this, ops.shapeArgs(shape));
  }
  view(...shape: number[] | [readonly number[]]): Tensor {
    return ops.view(this, ops.shapeArgs(shape));
  }
  flatten(startDim = 0, endDim = -1): Tensor {
    return ops.flatten(this, startDim, endDim);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return ops.permute(this, ops.shapeArgs(dims));
  }
  squeeze(dim?: number | number[]): Tensor {
    return ops.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return ops.expand(this, ops.shapeArgs(shape));
  }
  expandAs(other: Tensor): Tensor {
    return ops.expand(this, other.shape);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return ops.narrow(this, dim, start, length);
  }
  split(splitSizeOrSections: number | number[], dim = 0): Tensor[] {
    return ops.split(this, splitSizeOrSections, dim);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return ops.chunk(this, chunks, dim);
  }
  index(...indices: ops.IndexArg[]): Tensor {
    return ops.index(this, ...indices);
  }
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return ops.scatterAdd(this, dim, index, src);
  }
  oneHot(numClasses = -1): Tensor {
    return ops.oneHot(this, numClasses);
  }
}
