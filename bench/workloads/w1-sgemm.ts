/**
 * @file W1, sgemm: C = A·B for square float32 matrices, n ∈ {128, 256, 512, 1024}, in GFLOP/s
 * (2n³ / median time of one product). Times `a.matmul(b)` as a user calls it: the front end,
 * the kernel and the fresh output included. Mirrors peers/pytorch_w1.py and peers/numpy_w1.py.
 */
import * as tg from "../../src/index.ts";
import { type Figure, median, nowSeconds, type RunOptions } from "../lib/figure.ts";
import type { Workload } from "./types.ts";

export const W1_SIZES = [128, 256, 512, 1024] as const;
/** Each timed sample does at least this many FLOPs (several products at small n), scaled by --scale. */
export const W1_FLOPS_PER_SAMPLE = 2e8;
/** Warm-up: at least one product and this long. */
export const W1_WARMUP_SECONDS = 0.3;
/** A slow backend (js at n = 1024: seconds per product) stops sampling after this long, with at least 3 samples. */
export const W1_BUDGET_SECONDS = 10;

let sink: unknown = null;

/** Median seconds per call of `fn` over timed samples of `iters` calls each, after warm-up. */
export function secondsPerCall(fn: () => unknown, iters: number, repeats: number): number {
  const start = nowSeconds();
  do sink = fn();
  while (nowSeconds() - start < W1_WARMUP_SECONDS);
  const samples: number[] = [];
  const t0 = nowSeconds();
  for (let r = 0; r < repeats; r++) {
    const s0 = nowSeconds();
    for (let i = 0; i < iters; i++) sink = fn();
    samples.push((nowSeconds() - s0) / iters);
    if (samples.length >= 3 && nowSeconds() - t0 > W1_BUDGET_SECONDS) break;
  }
  return median(samples);
}

function measure(backend: string, opts: RunOptions): Figure[] {
  const out: Figure[] = [];
  for (const n of W1_SIZES) {
    tg.manualSeed(n);
    const a = tg.rand([n, n]);
    const b = tg.rand([n, n]);
    const flops = 2 * n ** 3;
    const iters = Math.max(1, Math.round((opts.scale * W1_FLOPS_PER_SAMPLE) / flops));
    const seconds = secondsPerCall(() => a.matmul(b), iters, opts.repeats);
    out.push({
      framework: "tensorgrad",
      backend,
      threads: opts.threads,
      workload: "W1",
      metric: "gflops",
      value: flops / seconds / 1e9,
      unit: "GFLOP/s",
      n,
    });
  }
  if (sink === null) throw new Error("W1: lost a result");
  return out;
}

export const w1: Workload = {
  id: "W1",
  title: "sgemm C = A·B, float32, square n ∈ {128, 256, 512, 1024}, GFLOP/s",
  run: measure,
};
