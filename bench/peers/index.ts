/** @file The peer frameworks by name. A peer with no implementation for a workload is skipped with a note. */
import { pythonPeer } from "./python.ts";
import type { Peer } from "./types.ts";

/** A peer named in BENCHMARKS.md that has no implementation here yet. */
function notYet(name: string): Peer {
  return {
    name,
    unavailable: () => "no harness for it yet",
    supports: () => false,
    run: () => {
      throw new Error(`${name}: not implemented`);
    },
  };
}

export const PEERS: Record<string, Peer> = {
  pytorch: pythonPeer("pytorch", "pytorch", "import torch; print('torch', torch.__version__)"),
  tfjs: notYet("tfjs"),
  numpy: notYet("numpy"),
  onnxruntime: notYet("onnxruntime"),
};
