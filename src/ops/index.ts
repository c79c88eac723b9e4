/** @file Every tensor op, re-exported for the Tensor methods and the public API. */
export { backward, grad } from "../autograd/engine.ts";
export { linalgInv, linalgLstsq, linalgSolve } from "../linalg/linalg.ts";
export { normalizeDim } from "../base/shape.ts";
export * from "./core.ts";
export * from "./creation.ts";
export * from "./elementwise.ts";
export * from "./inplace.ts";
export * from "./matmul.ts";
export * from "./reduce.ts";
export * from "./shape.ts";
