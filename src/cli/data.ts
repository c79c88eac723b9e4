/**
 * @file Datasets for the CLI: the embedded MNIST subset ("mnist"), or a directory of standard IDX
 * files (MNIST / Fashion-MNIST layout: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { loadIdx } from "../datasets/idx.ts";
import { type ImageDataset, mnist } from "../datasets/mnist.ts";
import { UsageError } from "./args.ts";

export interface LoadedData {
  train: ImageDataset;
  test: ImageDataset;
  /** Image height and width (28 × 28 for MNIST). */
  imageSize: [number, number];
  classes: number;
  /** "mnist (embedded)" or the directory. */
  source: string;
}

const FILES = {
  trainImages: ["train-images-idx3-ubyte", "train-images.idx3-ubyte"],
  trainLabels: ["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"],
  testImages: ["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"],
  testLabels: ["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"],
};

/** The first of `names` (plain or .gz) present in `dir`. */
function find(dir: string, names: readonly string[]): string {
  for (const n of names) for (const f of [n, `${n}.gz`]) if (existsSync(join(dir, f))) return join(dir, f);
  throw new UsageError(`--dataset ${dir}: no ${names[0]}[.gz] in that directory (expected the four MNIST-style IDX files: ${Object.values(FILES).map((v) => v[0]).join(", ")})`);
}

/** Loads "mnist" (the embedded subset) or an IDX directory. */
export async function loadDataset(spec: string): Promise<LoadedData> {
  if (spec === "mnist") {
    const [train, test] = await Promise.all([mnist({ split: "train" }), mnist({ split: "test" })]);
    return { train, test, imageSize: [28, 28], classes: 10, source: "mnist (embedded subset: 8 000 train / 2 000 test)" };
  }
  if (!existsSync(spec) || !statSync(spec).isDirectory())
    throw new UsageError(`--dataset must be "mnist" or a directory of MNIST-style IDX files; ${JSON.stringify(spec)} is not a directory`);
  const [train, test] = await Promise.all([
    loadIdx(find(spec, FILES.trainImages), find(spec, FILES.trainLabels)),
    loadIdx(find(spec, FILES.testImages), find(spec, FILES.testLabels)),
  ]);
  const features = train.x.shape[1]!;
  const side = Math.round(Math.sqrt(features));
  if (side * side !== features) throw new Error(`--dataset ${spec}: images of ${features} pixels are not square`);
  if (test.x.shape[1] !== features) throw new Error(`--dataset ${spec}: train images have ${features} pixels, test images ${test.x.shape[1]}`);
  let maxLabel = 0;
  for (const t of [train.y, test.y]) for (const v of t.dataSync()) maxLabel = Math.max(maxLabel, v);
  return { train, test, imageSize: [side, side], classes: Math.max(10, maxLabel + 1), source: spec };
}
