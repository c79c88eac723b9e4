/** @file The wasm backend's kernel module (AssemblyScript entry): everything exported here is callable from JS. */
export { MC, KC, NC, MR, NR, sgemm, sgemmBatched, sgemmWorkspaceBytes } from "./gemm";
export { adamF32, binaryF32, copyToF32, unaryF32, whereF32 } from "./elementwise";
export { reduceF32 } from "./reduce";
export { col2imF32, im2colF32, maxPool2dBackwardF32, maxPool2dF32 } from "./window";
export {
  conv2dBackwardInputF32,
  conv2dBackwardWeightF32,
  conv2dF32,
  conv2dPoolBackwardInputF32,
  conv2dPoolBackwardWeightF32,
  conv2dReluPoolF32,
  conv2dScratchBytes,
  conv2dSumPartsF32,
} from "./conv";
