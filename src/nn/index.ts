/** @file `tg.nn`: modules, parameters, layers, losses and initialisers. */
export { type LoadResult, Module, type StateDict } from "./module.ts";
export { Parameter } from "./parameter.ts";
export * as functional from "./functional/index.ts";
export * as init from "./init.ts";
export { GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Step, Tanh } from "./layers/activation.ts";
export { BatchNorm1d, BatchNorm2d, BatchNormBase, type BatchNormOptions } from "./layers/batchnorm.ts";
export { Residual, Sequential } from "./layers/container.ts";
export { Conv2d, type Conv2dLayerOptions } from "./layers/conv.ts";
export { Dropout } from "./layers/dropout.ts";
export { Flatten, Identity, Linear, type LinearOptions } from "./layers/linear.ts";
export { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss } from "./layers/loss.ts";
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from "./layers/pool.ts";
export type { Reduction } from "./util.ts";
export * as utils from "./utils.ts";
