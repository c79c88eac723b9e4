/** @file `tg.linalg`: solve, inv and lstsq for small dense systems (batched), differentiable. */
import { asTensor, checkTensor, promote, record } from "../ops/core.ts";
import { isFloating } from "../base/dtype.ts";
import { broadcastShapes, formatShape, sizeOf } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { luSolve, qrLeastSquares } from "./dense.ts";

/** Applies `f` to each matrix pair of two batched float tensors [..., r1, c1], [..., r2, c2]. */
function perMatrix(
  a: Tensor,
  b: Tensor,
  outRows: number,
  outCols: number,
  f: (a: Float64Array, b: Float64Array) => Float64Array,
): Tensor {
  const [ra, ca] = a.shape.slice(-2) as [number, number];
  const [rb, cb] = b.shape.slice(-2) as [number, number];
  const batch = a.shape.slice(0, -2);
  const nb = sizeOf(batch);
  const da = Float64Array.from(a.dataSync());
  const db = Float64Array.from(b.dataSync());
  const out = a.dtype === "float64" ? new Float64Array(nb * outRows * outCols) : new Float32Array(nb * outRows * outCols);
  for (let i = 0; i < nb; i++) {
    const x = f(da.subarray(i * ra * ca, (i + 1) * ra * ca), db.subarray(i * rb * cb, (i + 1) * rb * cb));
    out.set(x, i * outRows * outCols);
  }
  return new Tensor(out, a.dtype, [...batch, outRows, outCols]);
}

/** Shared argument handling: float dtype, square or tall A, B as matrix or (batched) vector, batch broadcasting. */
function prepare(a: Tensor, b: Tensor, op: string, square: boolean) {
  checkTensor(a, op, "A");
  checkTensor(b, op, "B");
  if (a.ndim < 2) throw new Error(`${op}: A must have at least 2 dims, got shape ${formatShape(a.shape)}`);
  const [m, n] = a.shape.slice(-2) as [number, number];
  if (square && m !== n) throw new Error(`${op}: A must be square, got shape ${formatShape(a.shape)}`);
  const dtype = promote(a, b);
  if (!isFloating(dtype)) throw new TypeError(`${op}: expects floating-point tensors, got ${a.dtype} and ${b.dtype}`);
  const isVector = b.ndim === 1 || (b.ndim === a.ndim - 1 && b.shape.every((d, i) => d === a.shape[i]));
  const bm = isVector ? b.unsqueeze(-1) : b;
  if (bm.shape[bm.ndim - 2] !== m)
    throw new Error(`${op}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)} are not compatible (A has ${m} rows, B has ${bm.shape[bm.ndim - 2]})`);
  const batch = broadcastShapes(a.shape.slice(0, -2), bm.shape.slice(0, -2), op);
  const k = bm.shape[bm.ndim - 1]!;
  const A = asTensor(a, dtype).expand([...batch, m, n]);
  const B = asTensor(bm, dtype).expand([...batch, m, k]);
  return { A, B, m, n, k, isVector };
}

/**
 * Solves A X = B for square A (batched; B may be a vector).
 * @example tg.linalg.solve(tg.tensor([[2, 0], [0, 4]]), tg.tensor([2, 8])) // [1, 2]
 */
export function linalgSolve(a: Tensor, b: Tensor): Tensor {
  const { A, B, n, k, isVector } = prepare(a, b, "linalg.solve", true);
  const x = perMatrix(A, B, n, k, (ma, mb) => luSolve(ma, mb, n, k, "linalg.solve"));
  const out = record("solve", [A, B], x, null);
  return isVector ? out.squeeze(-1) : out;
}

/** The inverse of a square matrix (batched). */
export function linalgInv(a: Tensor): Tensor {
  checkTensor(a, "linalg.inv", "A");
  if (a.ndim < 2 || a.shape[a.ndim - 1] !== a.shape[a.ndim - 2])
    throw new Error(`linalg.inv: A must be a square matrix (or a batch of them), got shape ${formatShape(a.shape)}`);
  if (!isFloating(a.dtype)) throw new TypeError(`linalg.inv: expects a floating-point tensor, got ${a.dtype}`);
  const n = a.shape[a.ndim - 1]!;
  const eye = new Float64Array(n * n);
  for (let i = 0; i < n; i++) eye[i * n + i] = 1;
  const x = perMatrix(a, a, n, n, (ma) => luSolve(ma, eye, n, n, "linalg.inv"));
  return record("inv", [a], x, null);
}

/**
 * Least-squares solution of A X ≈ B (batched). Tall or square A (m ≥ n) must have full column
 * rank and is solved by Householder QR; wide A (m < n) gets the minimum-norm solution
 * Aᵀ(AAᵀ)⁻¹B. Returns the solution tensor (PyTorch's `.solution`).
 */
export function linalgLstsq(a: Tensor, b: Tensor): Tensor {
  const { A, B, m, n, k, isVector } = prepare(a, b, "linalg.lstsq", false);
  let out: Tensor;
  if (m >= n) {
    const x = perMatrix(A, B, n, k, (ma, mb) => qrLeastSquares(ma, mb, m, n, k, "linalg.lstsq"));
    out = record("lstsq", [A, B], x, null);
  } else {
    out = A.mT.matmul(linalgSolve(A.matmul(A.mT), B));
  }
  return isVector ? out.squeeze(-1) : out;
}
