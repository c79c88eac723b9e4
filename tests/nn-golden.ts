/** @file Reading tests/golden/nn.json: tensors (with "NaN"/"Infinity" strings) and a tolerance check naming the worst element. */
import assert from "node:assert/strict";
import * as tg from "../src/index.ts";

export interface TensorJson {
  data: (number | string | boolean)[];
  shape: number[];
  dtype: tg.DType;
}

const num = (v: number | string | boolean): number =>
  v === "NaN" ? Number.NaN : v === "Infinity" ? Number.POSITIVE_INFINITY : v === "-Infinity" ? Number.NEGATIVE_INFINITY : Number(v);

/** A tensor from the golden JSON (its own dtype and shape). */
export function fromJson(j: TensorJson): tg.Tensor {
  const flat = j.data.map(num);
  const typed = j.dtype === "float64" ? Float64Array.from(flat) : j.dtype === "int32" ? Int32Array.from(flat) : Float32Array.from(flat);
  return tg.tensor(typed, { dtype: j.dtype }).reshape(j.shape);
}

/** Elementwise |actual − expected| ≤ atol + rtol·|expected| (NaN matches NaN, ±∞ must be equal), naming the worst element. */
export function assertClose(actual: tg.Tensor, expected: TensorJson, tol: { rtol: number; atol: number }, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const x = Number(a[i]);
    const e = num(expected.data[i]!);
    if (Number.isNaN(x) && Number.isNaN(e)) continue;
    if (!Number.isFinite(e) && x === e) continue;
    const excess = Number.isNaN(x - e) ? Number.POSITIVE_INFINITY : Math.abs(x - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) assert.fail(`${what}: element ${worst} is ${a[worst]}, expected ${expected.data[worst]} (tolerance ${JSON.stringify(tol)})`);
}
