/** @file In-place writes into a tensor's storage, for optimizers and initialisers (never recorded in the graph). */
import { isGradEnabled } from "../autograd/mode.ts";
import { broadcastShapes, formatShape, shapesEqual } from "../base/shape.ts";
import { Tensor, type TensorLike } from "../tensor/tensor.ts";
import { stridedOffsets } from "../base/strided.ts";
import { asTensor, broadcastView, kernels } from "./core.ts";

/**
 * Writes `src` (broadcast to `target`'s shape, converted to its dtype) into `target`'s elements.
 * Like PyTorch, a leaf that requires grad may only be modified in place inside `noGrad`.
 */
export function assignInPlace(target: Tensor, src: TensorLike, op: string): void {
  if (target._requiresGrad && isGradEnabled())
    throw new Error(
      `${op}: a tensor that requires grad cannot be modified in place while recording a graph; wrap the update in tg.noGrad(() => ...)`,
    );
  const value = asTensor(src instanceof Tensor ? src.detach() : src, target.dtype);
  const shape = broadcastShapes(target.shape, value.shape, op);
  if (!shapesEqual(shape, target.shape))
    throw new Error(`${op}: cannot write a value of shape ${formatShape(value.shape)} into a tensor of shape ${formatShape(target.shape)}`);
  const dense = kernels().copy(broadcastView(value, shape), target.dtype);
  if (target.isContiguous()) {
    target.data.set(dense as never, target.offset);
    return;
  }
  // a strided target (e.g. a transposed view): write each element at its storage offset
  const offsets = stridedOffsets(target.shape, target.strides, target.offset, dense.length);
  for (let i = 0; i < dense.length; i++) target.data[offsets[i]!] = dense[i]!;
}
