/** @file The public surface of tensorgrad (see API.md) and nothing else. */
export { enableGrad, isGradEnabled, noGrad } from "./autograd/mode.ts";
export { backward, grad, type BackwardOptions, type GradOptions } from "./autograd/engine.ts";
export { gradcheck, numericalGrad, type GradcheckOptions, type NumericalGradOptions } from "./autograd/gradcheck.ts";
export type { Node } from "./autograd/node.ts";
export type { Backend } from "./backend/backend.ts";
export { Tensor, type NestedArray, type TensorLike } from "./tensor/tensor.ts";
export type { DType, TypedArray } from "./base/dtype.ts";
export { promoteTypes } from "./base/dtype.ts";
export { Generator, manualSeed } from "./tensor/random.ts";
export {
  abs,
  add,
  amax,
  amin,
  arange,
  argmax,
  argmin,
  cat,
  chunk,
  clamp,
  clone,
  contiguous,
  cos,
  type CreateOptions,
  div,
  eq,
  erf,
  exp,
  expand,
  eye,
  flatten,
  full,
  fullLike,
  gather,
  ge,
  gelu,
  gt,
  index,
  type IndexArg,
  le,
  leakyRelu,
  linspace,
  log,
  logicalAnd,
  logicalNot,
  logicalOr,
  logSoftmax,
  logSumExp,
  lt,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  mul,
  narrow,
  ne,
  neg,
  oneHot,
  ones,
  onesLike,
  permute,
  pow,
  rand,
  randint,
  randn,
  type RandomOptions,
  randperm,
  relu,
  reshape,
  rsqrt,
  scatterAdd,
  sigmoid,
  sign,
  sin,
  softmax,
  split,
  sqrt,
  square,
  squeeze,
  stack,
  std,
  step,
  sub,
  sum,
  t,
  tanh,
  tensor,
  transpose,
  unsqueeze,
  variance as var,
  view,
  where,
  zeros,
  zerosLike,
} from "./ops/index.ts";
export * as backend from "./backend/public.ts";
export * as linalg from "./linalg/public.ts";
export * as nn from "./nn/index.ts";
export * as jit from "./jit/index.ts";
export * as optim from "./optim/index.ts";
export * as F from "./nn/functional/index.ts";
export * as io from "./io/index.ts";
export * as onnx from "./io/onnx.ts";
export { load, loadSync, save, saveSync } from "./io/files.ts";
export * as data from "./data/index.ts";
export * as datasets from "./datasets/index.ts";
export * as viz from "./viz/index.ts";
export * as train from "./train/index.ts";
export * as keras from "./keras/index.ts";
