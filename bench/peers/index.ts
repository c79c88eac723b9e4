/** @file The peer frameworks by name. A peer with no implementation for a workload is skipped with a note. */
import { onnxruntimePeer } from "./onnxruntime.ts";
import { pythonPeer } from "./python.ts";
import { tfjsPeer } from "./tfjs.ts";
import type { Peer } from "./types.ts";

export const PEERS: Record<string, Peer> = {
  pytorch: pythonPeer("pytorch", "pytorch", "import torch; print('torch', torch.__version__)"),
  tfjs: tfjsPeer,
  numpy: pythonPeer("numpy", "numpy", "import numpy; print('numpy', numpy.__version__)"),
  onnxruntime: onnxruntimePeer,
};
