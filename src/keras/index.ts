/**
 * @file `tg.keras`: a Keras-style front end — `sequential([input, dense, conv2d, …])`, then
 * `compile / fit / evaluate / predict / summary`. Models are ordinary nn.Sequential modules of
 * tensorgrad layers in NCHW layout (see layers.ts for how Keras' layers map to modules).
 */
import "./onnx.ts"; // registers the Keras models' ONNX export rules

export {
  type ActivationName,
  activation,
  averagePooling2d,
  type BatchNormalizationOptions,
  batchNormalization,
  type Conv2dOptions,
  conv2d,
  type DenseOptions,
  dense,
  dropout,
  flatten,
  globalAveragePooling2d,
  type InitializerName,
  type InputSpec,
  input,
  type LayerSpec,
  maxPooling2d,
  type Pooling2dOptions,
  Reshape,
  reshape,
} from "./layers.ts";
export * as losses from "./losses.ts";
export type { KerasLoss, LossLike } from "./losses.ts";
export { type CompileOptions, type KerasFitOptions, KerasSequential, type LayerInfo, sequential } from "./model.ts";
export * as optimizers from "./optimizers.ts";
export type { OptimizerFactory, OptimizerLike } from "./optimizers.ts";
export { callbacks, History, metrics } from "../train/index.ts";
