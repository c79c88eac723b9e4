/**
 * @file The reference for the optional fused `Backend.linear`: exactly the js matmul, then add,
 * then relu — what a faster backend's fused kernel must match bit for bit (tests compare them).
 * It is not installed on jsBackend: backends that spread jsBackend (wasm) would inherit the slow js
 * matmul, and without the method the front end composes the backend's own primitives anyway.
 */
import type { TypedArray } from "../../base/dtype.ts";
import type { StridedView } from "../backend.ts";
import { binary, unary } from "./elementwise.ts";
import { matmul } from "./matmul.ts";

/** x [M, K] · wᵀ + bias, then relu: w [N, K] is read through a transposed view (no copy). */
export function linear(x: StridedView, w: StridedView, bias: StridedView | null, relu: boolean): TypedArray {
  const [M, K] = x.shape as [number, number];
  const N = w.shape[0]!;
  const a: StridedView = { data: x.data, dtype: x.dtype, shape: [1, M, K], strides: [0, x.strides[0]!, x.strides[1]!], offset: x.offset };
  const b: StridedView = { data: w.data, dtype: w.dtype, shape: [1, K, N], strides: [0, w.strides[1]!, w.strides[0]!], offset: w.offset };
  let out = matmul(a, b);
  const shape = [M, N];
  const view = (data: TypedArray): StridedView => ({ data, dtype: x.dtype, shape, strides: [N, 1], offset: 0 });
  if (bias !== null) {
    const bb: StridedView = { data: bias.data, dtype: bias.dtype, shape, strides: [0, bias.strides[0]!], offset: bias.offset };
    out = binary("add", view(out), bb, shape);
  }
  return relu ? unary("relu", view(out)) : out;
}
