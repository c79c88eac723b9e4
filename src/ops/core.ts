/** @file Plumbing shared by every op: wrapping kernel results, scalars as tensors, casting, and graph recording. */
import { isGradEnabled } from "../autograd/mode.ts";
import { Node } from "../autograd/node.ts";
import type { PrimOp, PrimParams } from "../autograd/rules.ts";
import type { StridedView } from "../backend/backend.ts";
import { kernels } from "../backend/registry.ts";
import { allocate, type DType, isFloating, numberDType, type Operand, resultType, type TypedArray } from "../base/dtype.ts";
import { Tensor, type TensorLike } from "../tensor/tensor.ts";

export { kernels };

/** A fresh contiguous tensor around a kernel's output. */
export function fromKernel(data: TypedArray, dtype: DType, shape: readonly number[]): Tensor {
  return new Tensor(data, dtype, shape);
}

/** A 0-d tensor holding `v`. */
export function scalarTensor(v: number | boolean, dtype: DType): Tensor {
  const data = allocate(dtype, 1);
  data[0] = dtype === "bool" ? (Number(v) !== 0 ? 1 : 0) : Number(v); // nonzero (NaN too) is true, as in PyTorch
  return new Tensor(data, dtype, []);
}

export function operandOf(x: TensorLike): Operand {
  if (x instanceof Tensor) return { dtype: x.dtype, priority: x.shape.length === 0 ? 1 : 2 };
  return { dtype: numberDType(x), priority: 0 };
}

/** Checks that `x` is a tensor or a number, naming the op otherwise. */
export function checkTensorLike(x: unknown, op: string, what = "argument"): asserts x is TensorLike {
  if (x instanceof Tensor || typeof x === "number" || typeof x === "boolean") return;
  throw new TypeError(
    `${op}: ${what} must be a Tensor or a number, got ${x === null ? "null" : Array.isArray(x) ? "an array (wrap it with tg.tensor)" : typeof x}`,
  );
}

export function checkTensor(x: unknown, op: string, what = "input"): asserts x is Tensor {
  if (!(x instanceof Tensor))
    throw new TypeError(`${op}: ${what} must be a Tensor, got ${x === null ? "null" : Array.isArray(x) ? "an array (wrap it with tg.tensor)" : typeof x}`);
}

/** `x` as a tensor of `dtype`: numbers become 0-d tensors, tensors are cast (differentiably) when needed. */
export function asTensor(x: TensorLike, dtype: DType): Tensor {
  if (x instanceof Tensor) return x.dtype === dtype ? x : cast(x, dtype);
  return scalarTensor(x, dtype);
}

/** The result dtype of an op over these operands (PyTorch's type promotion). */
export function promote(...xs: TensorLike[]): DType {
  if (xs.length === 2) {
    // fast paths (per-op overhead): two tensors of one dtype, or a floating tensor and a number
    const [a, b] = xs as [TensorLike, TensorLike];
    if (a instanceof Tensor) {
      if (b instanceof Tensor ? b.dtype === a.dtype : isFloating(a.dtype)) return a.dtype;
    } else if (b instanceof Tensor && isFloating(b.dtype)) return b.dtype;
  }
  return resultType(xs.map(operandOf));
}

/** Records `op` in the graph when grad mode is on and some input requires grad; returns `out`. */
export function record<K extends PrimOp>(op: K, inputs: readonly Tensor[], out: Tensor, params: PrimParams[K]): Tensor {
  if (!isGradEnabled()) return out;
  let any = false;
  for (const t of inputs) if (t._requiresGrad) any = true;
  if (!any) return out;
  if (!isFloating(out.dtype)) return out;
  const node = new Node(op, inputs, params);
  node.out = out;
  out._node = node;
  out._requiresGrad = true;
  return out;
}

/** A view of `t` broadcast to `shape` (stride 0 on new and size-1 axes); no copy. */
export function broadcastView(t: StridedView, shape: readonly number[]): StridedView {
  if (t.shape.length === shape.length) {
    let same = true;
    for (let i = 0; i < shape.length; i++) if (t.shape[i] !== shape[i]) same = false;
    if (same) return t;
  }
  const lead = shape.length - t.shape.length;
  const strides = shape.map((d, i) => {
    if (i < lead) return 0;
    const own = t.shape[i - lead]!;
    return own === d ? t.strides[i - lead]! : 0;
  });
  return { data: t.data, dtype: t.dtype, shape, strides, offset: t.offset };
}

/** Converts `x` to `dtype`; differentiable between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return x;
  const out = fromKernel(kernels().copy(x, dtype), dtype, x.shape);
  return isFloating(x.dtype) ? record("cast", [x], out, { from: x.dtype }) : out;
}

/** Row-major elements of `t` in a fresh typed array. */
export function contiguousData(t: Tensor): TypedArray {
  return kernels().copy(t, t.dtype);
}
