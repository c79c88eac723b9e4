/**
 * @file W4, inference with the W2 MLP (untrained weights: the time does not depend on them):
 * `latency_ms_batch1` (median of single-sample calls, each tensor-from-floats → forward under
 * noGrad → logits read back) and `samples_per_s_batch256`. The loop is ../lib/mnist-train.ts's
 * runW4; mirrors peers/pytorch_w4.py. The model is frozen first (`tg.jit.freeze`: Linear weights
 * snapshotted and pre-packed once for the backend's kernels, as an ONNX Runtime session does when
 * it is created); its outputs are bit-identical to the unfrozen model's.
 */
import * as tg from "../../src/index.ts";
import type { Figure, RunOptions } from "../lib/figure.ts";
import { runW4 } from "../lib/mnist-train.ts";
import { inferAdapter, mlp, useThreads } from "./mnist-models.ts";
import type { Workload } from "./types.ts";

async function measure(backend: string, opts: RunOptions): Promise<Figure[]> {
  const threads = useThreads(backend, opts.threads);
  tg.manualSeed(0);
  const r = await runW4(inferAdapter(tg.jit.freeze(mlp())), opts);
  const base = { framework: "tensorgrad", backend, threads, workload: "W4" as const };
  return [
    { ...base, metric: "latency_ms_batch1", value: r.latencyMs, unit: "ms" },
    { ...base, metric: "samples_per_s_batch256", value: r.samplesPerS, unit: "samples/s" },
  ];
}

export const w4: Workload = {
  id: "W4",
  title: "inference with the W2 MLP: batch-1 latency (median of many calls), batch-256 throughput",
  run: measure,
};
