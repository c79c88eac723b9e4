/** @file Parameter: a tensor that a Module owns and an optimizer updates. */
import { kernels } from "../backend/registry.ts";
import type { TypedArray } from "../tensor/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";

/**
 * `t`'s elements copied into the active backend's persistent storage (wasm: inside wasm memory,
 * where kernels read them without copying), or null where the backend has none, `t` is already
 * there, or it is full.
 */
function persistentCopy(t: Tensor): TypedArray | null {
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

/**
 * A leaf tensor registered as a module's learnable parameter (requires grad by default).
 * It shares storage with the tensor it wraps, except where the active backend keeps parameters
 * in its own memory (wasm with a shared memory: float32 parameters live in wasm memory so that
 * kernels read them in place); there it holds a copy of the wrapped tensor's elements, in an
 * ordinary Float32Array view that behaves like any other (only its `.buffer` is the wasm memory's).
 *
 * @example this.weight = new tg.nn.Parameter(tg.randn([out, inp]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) throw new TypeError("Parameter: expects a Tensor");
    const own = persistentCopy(data);
    if (own === null) super(data.data, data.dtype, data.shape, data.strides, data.offset);
    else super(own, data.dtype, data.shape);
    if (requiresGrad) this.requiresGrad_(true);
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}
