/** @file What a peer framework (PyTorch, TF.js, numpy, onnxruntime) provides to the driver. */
import type { Figure, RunOptions, WorkloadId } from "../lib/figure.ts";

export interface Peer {
  /** The `framework` field of its figures, and its name in `--frameworks`. */
  name: string;
  /** Why the peer cannot run on this machine (e.g. "torch is not importable"), or null when it can. Called once. */
  unavailable(): string | null;
  /** Whether this peer has an implementation of `workload`. */
  supports(workload: WorkloadId): boolean;
  /** Runs one workload at `opts.threads`; its figures, in the same format as tensorgrad's. */
  run(workload: WorkloadId, opts: RunOptions): Figure[] | Promise<Figure[]>;
}
