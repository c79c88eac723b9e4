/** @file Parameter: a tensor that a Module owns and an optimizer updates. */
import { persistentCopy } from "../ops/resident.ts";
import { Tensor } from "../tensor/tensor.ts";

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
