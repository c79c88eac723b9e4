/** @file Reference batched matrix product over strided [B, M, K] · [B, K, N] views. */
import { allocate, type TypedArray } from "../../tensor/dtype.ts";
import type { StridedView } from "../backend.ts";

export function matmul(a: StridedView, b: StridedView): TypedArray {
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const out = allocate(a.dtype, B * M * N);
  const [sab, sam, sak] = a.strides as [number, number, number];
  const [sbb, sbk, sbn] = b.strides as [number, number, number];
  const da = a.data;
  const db = b.data;
  // accumulate in a float64 row so float32 results do not depend on summation order quirks
  const row = new Float64Array(N);
  for (let p = 0; p < B; p++) {
    const pa = a.offset + p * sab;
    const pb = b.offset + p * sbb;
    for (let i = 0; i < M; i++) {
      row.fill(0);
      for (let k = 0; k < K; k++) {
        const aik = da[pa + i * sam + k * sak]!;
        const bk = pb + k * sbk;
        for (let j = 0; j < N; j++) row[j] += aik * db[bk + j * sbn]!;
      }
      out.set(row, (p * M + i) * N);
    }
  }
  return out;
}
