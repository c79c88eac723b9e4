/** @file Matrix products: 1-D, 2-D and batched with broadcasting, all on one batched-gemm primitive. */
import type { StridedView } from "../backend/backend.ts";
import { broadcastShapes, formatShape, sizeOf } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { asTensor, checkTensor, fromKernel, kernels, promote, record } from "./core.ts";

/** A 2-D view seen as a batch of one, without making a Tensor. */
function as3d(t: Tensor): StridedView {
  if (t.ndim === 3) return t;
  return { data: t.data, dtype: t.dtype, shape: [1, ...t.shape], strides: [0, ...t.strides], offset: t.offset };
}

/** The primitive: same-rank (2-D or 3-D, equal batch) operands. */
function matmulPrim(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2]!;
  const n = b.shape[b.ndim - 1]!;
  const shape = a.ndim === 3 ? [a.shape[0]!, m, n] : [m, n];
  return record("matmul", [a, b], fromKernel(kernels().matmul(as3d(a), as3d(b)), a.dtype, shape), null);
}

/**
 * Matrix product with PyTorch's rules: 1-D·1-D is a dot product, a 1-D operand is treated as a
 * row (left) or column (right) vector, and leading batch dims broadcast.
 * @example tg.matmul(tg.ones([2, 3]), tg.ones([3, 4])).shape // [2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  checkTensor(a, "matmul", "first argument");
  checkTensor(b, "matmul", "second argument");
  if (a.ndim === 0 || b.ndim === 0)
    throw new Error(`matmul: both arguments need at least 1 dim, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  const k1 = a.shape[a.ndim - 1]!;
  const k2 = b.shape[Math.max(0, b.ndim - 2)]!;
  if (k1 !== k2)
    throw new Error(`matmul: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not compatible (${k1} ≠ ${k2})`);
  const dtype = promote(a, b);
  if (dtype === "bool") throw new TypeError("matmul: not supported for bool tensors");
  a = asTensor(a, dtype);
  b = asTensor(b, dtype);
  if (a.ndim === 1 && b.ndim === 1) return matmulPrim(a.unsqueeze(0), b.unsqueeze(1)).reshape([]);
  if (a.ndim === 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.ndim === 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  if (a.ndim === 2 && b.ndim === 2) return matmulPrim(a, b);
  if (b.ndim === 2) {
    // [..., M, K] · [K, N]: fold the batch into the rows, one large gemm
    const rows = a.contiguous().reshape([-1, k1]);
    return matmulPrim(rows, b).reshape([...a.shape.slice(0, -1), b.shape[1]!]);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), "matmul");
  const m = a.shape[a.ndim - 2]!;
  const n = b.shape[b.ndim - 1]!;
  const a3 = a.expand([...batch, m, k1]).reshape([sizeOf(batch), m, k1]);
  const b3 = b.expand([...batch, k1, n]).reshape([sizeOf(batch), k1, n]);
  return matmulPrim(a3, b3).reshape([...batch, m, n]);
}
