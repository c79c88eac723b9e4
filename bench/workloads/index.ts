/** @file The tensorgrad workloads by id. A workload not listed here is reported as unsupported, never faked. */
import type { WorkloadId } from "../lib/figure.ts";
import type { Workload } from "./types.ts";
import { w0 } from "./w0-overhead.ts";
import { w1 } from "./w1-sgemm.ts";
import { w2 } from "./w2-mlp.ts";
import { w3 } from "./w3-cnn.ts";
import { playground } from "./playground.ts";
import { start } from "./start-mnist.ts";
import { w4 } from "./w4-inference.ts";

export const WORKLOADS: Partial<Record<WorkloadId, Workload>> = {
  W0: w0,
  W1: w1,
  W2: w2,
  W3: w3,
  W4: w4,
  START: start,
  PLAYGROUND: playground,
};
