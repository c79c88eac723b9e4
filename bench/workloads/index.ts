/** @file The tensorgrad workloads by id. A workload not listed here is reported as unsupported, never faked. */
import type { WorkloadId } from "../lib/figure.ts";
import type { Workload } from "./types.ts";
import { w0 } from "./w0-overhead.ts";

export const WORKLOADS: Partial<Record<WorkloadId, Workload>> = {
  W0: w0,
  // W1: sgemm, W2: MLP training, W3: CNN training, W4: MLP inference — not implemented yet
};
