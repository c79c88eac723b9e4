/**
 * @file W3, CNN training on the embedded MNIST split: Conv2d(1→16) ReLU MaxPool → Conv2d(16→32)
 * ReLU MaxPool → Flatten → Linear(1568→128) ReLU → Linear(128→10), Adam lr 1e-3, batch 64.
 * Figures: `train_samples_per_s` (16 batches = 1 024 samples after 4 warm-up batches) and
 * `test_accuracy` after the one epoch. `--scale` < 1 runs a reduced epoch. The loop is
 * ../lib/mnist-train.ts's runW3; mirrors peers/pytorch_w3.py.
 */
import * as tg from "../../src/index.ts";
import type { Figure, RunOptions } from "../lib/figure.ts";
import { reducedNote, runW3, w3Plan } from "../lib/mnist-train.ts";
import { cnn, trainAdapter, useThreads } from "./mnist-models.ts";
import type { Workload } from "./types.ts";

async function measure(backend: string, opts: RunOptions): Promise<Figure[]> {
  const note = (msg: string) => process.stderr.write(`bench: tensorgrad/${backend} W3: ${msg}\n`);
  const threads = useThreads(backend, opts.threads);
  const plan = w3Plan(opts.scale);
  const reduced = reducedNote("W3", opts.scale, `${plan.timedBatches} timed batches, a ${plan.nTrain}-sample epoch, a strided subset of the test set`);
  if (reduced !== null) note(reduced);
  tg.manualSeed(0);
  const r = await runW3(trainAdapter(cnn(), true), opts.scale, note);
  const base = { framework: "tensorgrad", backend, threads, workload: "W3" as const };
  const out: Figure[] = [{ ...base, metric: "train_samples_per_s", value: r.samplesPerS, unit: "samples/s" }];
  if (r.accuracy !== null) out.push({ ...base, metric: "test_accuracy", value: r.accuracy, unit: "fraction" });
  return out;
}

export const w3: Workload = {
  id: "W3",
  title: "CNN (2 conv + 2 linear) training on MNIST (Adam, batch 64): samples/s over 1 024 samples after warm-up, test accuracy after 1 epoch",
  run: measure,
};
