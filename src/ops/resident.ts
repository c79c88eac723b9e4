/** @file Tensors in a backend's persistent storage (wasm memory), where its kernels read them without copying. */
import { kernels } from "../backend/registry.ts";
import type { TypedArray } from "../base/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";

/**
 * `t`'s elements copied into the active backend's persistent storage (wasm: inside wasm memory,
 * where kernels read them without copying), or null where the backend has none, `t` is already
 * there, or it is full.
 */
export function persistentCopy(t: Tensor): TypedArray | null {
  const k = kernels();
  if (k.allocPersistent === undefined || k.isPersistent?.(t.data) === true) return null;
  const n = t.numel();
  if (n === 0) return null;
  const dst = k.allocPersistent(t.dtype, n);
  if (dst === null) return null;
  if (t.isContiguous()) dst.set(t.data.subarray(t.offset, t.offset + n));
  else dst.set(k.copy(t, t.dtype));
  return dst;
}

/** A gradient-free tensor with `t`'s elements, in persistent storage where the backend has it (else `t` itself). */
export function residentTensor(t: Tensor): Tensor {
  const own = persistentCopy(t);
  return own === null ? t : new Tensor(own, t.dtype, t.shape);
}
