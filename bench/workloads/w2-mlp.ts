/**
 * @file W2, MLP training on the embedded MNIST split: 784→512 ReLU→256 ReLU→10, softmax
 * cross-entropy, Adam lr 1e-3, batch 128, the 8 000 training samples in the shared epoch order.
 * Figures: `train_samples_per_s` (epoch 1, after the warm-up epoch 0) and `test_accuracy` (after
 * 3 epochs), and `peak_rss_mb` (the peak resident memory of a process that ran only this: the
 * workload runs in a child process). The loop is ../lib/mnist-train.ts's runW2; mirrors
 * peers/pytorch_w2.py.
 */
import * as tg from "../../src/index.ts";
import { runInChild } from "../lib/child.ts";
import type { Figure, RunOptions } from "../lib/figure.ts";
import { reducedNote, runW2, w2Plan } from "../lib/mnist-train.ts";
import { mlp, trainAdapter, useThreads } from "./mnist-models.ts";
import type { Workload } from "./types.ts";

/** The measurement itself (runs in the child process). */
export async function measure(backend: string, opts: RunOptions): Promise<Figure[]> {
  const note = (msg: string) => process.stderr.write(`bench: tensorgrad/${backend} W2: ${msg}\n`);
  const threads = useThreads(backend, opts.threads);
  const plan = w2Plan(opts.scale);
  const reduced = reducedNote("W2", opts.scale, `${plan.nTrain} training samples per epoch, a strided subset of the test set`);
  if (reduced !== null) note(reduced);
  tg.manualSeed(0);
  const r = await runW2(trainAdapter(mlp(), false), opts.scale, note);
  const base = { framework: "tensorgrad", backend, threads, workload: "W2" as const };
  const out: Figure[] = [{ ...base, metric: "train_samples_per_s", value: r.samplesPerS, unit: "samples/s" }];
  if (r.accuracy !== null) out.push({ ...base, metric: "test_accuracy", value: r.accuracy, unit: "fraction" });
  return out;
}

export const w2: Workload = {
  id: "W2",
  title: "MLP 784→512→256→10 training on MNIST (Adam, batch 128): samples/s after a warm-up epoch, test accuracy after 3 epochs",
  run: (backend, opts) => runInChild(import.meta.url, "W2", backend, opts),
};
