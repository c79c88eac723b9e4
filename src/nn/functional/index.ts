/** @file `tg.nn.functional` (also `tg.F`): layers and losses as plain functions of tensors. */
export * from "./activation.ts";
export * from "./classification.ts";
export * from "./conv.ts";
export * from "./dropout.ts";
export * from "./linear.ts";
export * from "./loss.ts";
export * from "./normalization.ts";
export * from "./pool.ts";
