/**
 * @file End to end: a small CNN (Conv2d → BatchNorm2d → ReLU → MaxPool2d → Flatten → Dropout →
 * Linear) learns to tell horizontal from vertical bars in noisy 8×8 images with Adam, and in
 * eval() mode (running batch-norm statistics, no dropout) classifies new images correctly.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tg from "../src/index.ts";

const nn = tg.nn;

/** n noisy 8×8 images, each with one bright bar: label 0 = horizontal, 1 = vertical. */
function bars(n: number, gen: tg.Generator): { x: tg.Tensor; y: tg.Tensor } {
  const x = new Float32Array(n * 64);
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const vertical = gen.uniform() < 0.5;
    const line = gen.integer(0, 8);
    const start = gen.integer(0, 4);
    const length = gen.integer(4, 9 - start);
    for (let p = 0; p < 64; p++) x[s * 64 + p] = 0.3 * gen.normal();
    for (let t = start; t < start + length; t++) x[s * 64 + (vertical ? t * 8 + line : line * 8 + t)]! += 1;
    y[s] = vertical ? 1 : 0;
  }
  return { x: tg.tensor(x).reshape([n, 1, 8, 8]), y: tg.tensor(y) };
}

test("a small CNN learns horizontal vs vertical bars, then classifies new images in eval mode", () => {
  tg.manualSeed(0);
  const gen = new tg.Generator(1);
  const train = bars(512, gen);
  const testSet = bars(256, gen);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 8, 3, { padding: 1 }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Dropout(0.2),
    new nn.Linear(8 * 4 * 4, 2),
  );
  const opt = new tg.optim.Adam(model.parameters(), { lr: 0.03 });
  const batch = 32;
  let last = Number.POSITIVE_INFINITY;
  const start = performance.now();
  for (let epoch = 0; epoch < 12; epoch++) {
    let total = 0;
    for (let b = 0; b < 512; b += batch) {
      const loss = tg.F.crossEntropy(model.call(train.x.narrow(0, b, batch)) as tg.Tensor, train.y.narrow(0, b, batch));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      total += loss.item();
    }
    last = total / (512 / batch);
  }
  const seconds = (performance.now() - start) / 1000;
  assert.ok(last < 0.08, `final training loss ${last}`);
  model.eval();
  const predicted = tg.noGrad(() => (model.call(testSet.x) as tg.Tensor).argmax(1));
  const accuracy = predicted.eq(testSet.y).float().mean().item();
  assert.ok(accuracy > 0.95, `eval accuracy ${accuracy}`);
  assert.ok(seconds < 20, `training took ${seconds.toFixed(1)} s`);
});
