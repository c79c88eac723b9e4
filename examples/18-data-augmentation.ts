/**
 * @file Lecture: データ拡張 (data augmentation, seed 000 Appendix, seed 001). Make more training
 * images from the ones you have: noise, random crops (shifts), flips. Flips change a digit's
 * meaning (a mirrored 2 is no 2) — the lecture's warning about augmentations that confuse labels.
 * Random augmentation is reproducible when the random generator is seeded. Then: a small
 * training set, with and without augmentation.
 *
 *   npx tsx examples/18-data-augmentation.ts      → examples/out/18-data-augmentation/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const T = tg.data.transforms;

const train = await tg.datasets.mnist({ split: "train" });
const test = await tg.datasets.mnist({ split: "test" });
const images = train.x.reshape([-1, 1, 28, 28]); // N, C, H, W: transforms work on the last two dims

// #region transforms
// Each transform maps an image (or a batch: each image gets its own random draw) to a new one.
const augment = (seed: number) => {
  const generator = new tg.Generator(seed);
  return T.compose([
    T.randomCrop(28, { padding: 3, generator }), // shift by up to 3 pixels: pad with 0, crop 28×28 back
    T.gaussianNoise(0.15, { generator }), //        add N(0, 0.15²) noise to every pixel
  ]);
};
const originals = images.narrow(0, 0, 8);
const a1 = augment(42)(originals);
const a2 = augment(42)(originals); // the same seed: the same "random" images
const a3 = augment(7)(originals); //  another seed: other images
console.log("same seed → identical:", a1.sub(a2).abs().max().item() === 0, "; other seed → different:", a3.sub(a1).abs().max().item() > 0);

const flipped = T.randomHorizontalFlip(1)(originals); // p = 1: always mirror
// #endregion

const sample = tg.randperm(images.shape[0]!, { generator: new tg.Generator(3) }).narrow(0, 0, 8);
const shown = images.index(sample);
await ex.save(
  "augmented",
  tg.viz.figure(
    [
      tg.viz.imageGrid(shown, { columns: 8, title: "originals" }),
      tg.viz.imageGrid(augment(1)(shown), { columns: 8, title: "random crop (padding 3) + noise, seed 1" }),
      tg.viz.imageGrid(augment(2)(shown), { columns: 8, title: "the same, seed 2" }),
      tg.viz.imageGrid(T.randomHorizontalFlip(1)(shown), { columns: 8, title: "horizontal flip: changes what a digit means" }),
    ],
    { columns: 1 },
  ),
);

// #region train
// A small training set and an MLP; with augmentation every epoch sees freshly shifted, noisy copies.
// (It pays off only with enough epochs: in the quick run, augmentation can still be behind.)
const nTrain = ex.quick ? 200 : 500;
const pick = tg.randperm(images.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, nTrain);
const xTrain = images.index(pick);
const yTrain = train.y.index(pick);
const epochs = ex.quick ? 6 : 60;

function trainOnce(withAugmentation: boolean): number {
  tg.manualSeed(0);
  const model = new tg.nn.Sequential(new tg.nn.Flatten(), new tg.nn.Linear(784, 200), new tg.nn.ReLU(), new tg.nn.Linear(200, 10));
  const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
  const transform = augment(123);
  const loader = new tg.data.DataLoader(new tg.data.TensorDataset(xTrain, yTrain), { batchSize: 50, shuffle: true, seed: 0 });
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [xb, yb] of loader) {
      opt.zeroGrad();
      const input = withAugmentation ? transform(xb) : xb;
      tg.F.crossEntropy(model.call(input) as tg.Tensor, yb).backward();
      opt.step();
    }
  }
  return tg.noGrad(() => (model.call(test.x.reshape([-1, 1, 28, 28])) as tg.Tensor).argmax(1).eq(test.y).to("float32").mean().item());
}
const plain = trainOnce(false);
const augmented = trainOnce(true);
console.log(`${nTrain} training digits, ${epochs} epochs: test accuracy ${plain.toFixed(3)} without augmentation, ${augmented.toFixed(3)} with`);
// #endregion

ex.report({
  reproducible: a1.sub(a2).abs().max().item() === 0,
  seedsDiffer: a3.sub(a1).abs().max().item() > 0,
  shape: a1.shape,
  flipIsMirror: flipped.index(0, 0, 10, 3).item() === originals.index(0, 0, 10, 24).item(),
  accuracyPlain: plain,
  accuracyAugmented: augmented,
});
