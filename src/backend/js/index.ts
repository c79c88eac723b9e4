/** @file The `js` reference backend: plain TypeScript kernels, readable and correct for every dtype and stride. */
import type { Backend } from "../backend.ts";
import { avgPool2d, avgPool2dBackward, col2im, im2col, maxPool2d, maxPool2dBackward } from "./conv.ts";
import { binary, copy, unary, where } from "./elementwise.ts";
import { cat, gather, scatterAdd } from "./indexing.ts";
import { logSoftmax, logSoftmaxBackward } from "./log-softmax.ts";
import { matmul } from "./matmul.ts";
import { reduce } from "./reduce.ts";

export const jsBackend: Backend = {
  name: "js",
  copy,
  unary,
  binary,
  where,
  reduce,
  logSoftmax,
  logSoftmaxBackward,
  matmul,
  gather,
  scatterAdd,
  cat,
  im2col,
  col2im,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
};
