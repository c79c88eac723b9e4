/** @file Parameter: a tensor that a Module owns and an optimizer updates. */
import { Tensor } from "../tensor/tensor.ts";

/**
 * A leaf tensor registered as a module's learnable parameter (requires grad by default).
 * It shares storage with the tensor it wraps.
 *
 * @example this.weight = new tg.nn.Parameter(tg.randn([out, inp]));
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) throw new TypeError("Parameter: expects a Tensor");
    super(data.data, data.dtype, data.shape, data.strides, data.offset);
    if (requiresGrad) this.requiresGrad_(true);
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}
