/** @file `tg.optim`: optimizers (PyTorch's update rules and defaults), lr schedulers, gradient clipping, weight penalties. */
export { Adadelta, type AdadeltaOptions } from "./adadelta.ts";
export { Adagrad, type AdagradOptions } from "./adagrad.ts";
export { Adam, type AdamOptions, AdamW } from "./adam.ts";
export { type ClipGradNormOptions, clipGradNorm, clipGradValue } from "./clip.ts";
export { LBFGS, type LBFGSOptions, type LossClosure } from "./lbfgs.ts";
export * as lrScheduler from "./lr-scheduler.ts";
export {
  type BaseOptions,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInit,
  type Params,
  type ParamState,
  type StateValue,
} from "./optimizer.ts";
export * as penalty from "./penalty.ts";
export { RMSprop, type RMSpropOptions } from "./rmsprop.ts";
export { SGD, type SGDOptions } from "./sgd.ts";
