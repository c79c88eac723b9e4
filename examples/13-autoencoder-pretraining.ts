/**
 * @file Lecture: 深層化 — オートエンコーダによる事前学習 (seed 002 §8.4). The early answer to vanishing
 * gradients: pre-train the weights from the input side, one layer at a time, each as the encoder
 * of an autoencoder that learns to reconstruct its own input (self-supervised, no labels);
 * then fine-tune the whole network with backprop. A deep sigmoid network on MNIST, fine-tuned
 * from pre-trained weights and from random ones.
 *
 *   npx tsx examples/13-autoencoder-pretraining.ts      → examples/out/13-autoencoder-pretraining/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);
const nn = tg.nn;

const train = await tg.datasets.mnist({ split: "train" });
const test = await tg.datasets.mnist({ split: "test" });
const n = ex.quick ? 1000 : 8000;
const pick = tg.randperm(train.x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, n);
const x = train.x.index(pick);
const y = train.y.index(pick);
const sizes = [784, 128, 64, 32];
const aeSteps = ex.quick ? 25 : 400;
const fineTuneSteps = ex.quick ? 20 : 400; // (the quick run is too short to show the difference)

// #region pretrain
/** Trains encoder (Linear + sigmoid) and decoder to reconstruct `input`; returns the encoder and the loss curve. */
function pretrainLayer(input: tg.Tensor, nIn: number, nOut: number) {
  const encoder = new nn.Linear(nIn, nOut);
  const decoder = new nn.Linear(nOut, nIn);
  const opt = new tg.optim.Adam([...encoder.parameters(), ...decoder.parameters()], { lr: 3e-3 });
  const losses: number[] = [];
  const gen = new tg.Generator(nIn);
  for (let s = 0; s < aeSteps; s++) {
    const batch = input.index(tg.randint(0, input.shape[0]!, [100], { generator: gen }));
    opt.zeroGrad();
    const code = tg.sigmoid(encoder.call(batch) as tg.Tensor); //           h = σ(W x + b)
    const reconstruction = tg.sigmoid(decoder.call(code) as tg.Tensor); //   x̂ = σ(W' h + b'), inputs lie in [0, 1]
    const loss = tg.F.mseLoss(reconstruction, batch); //                    ‖x̂ − x‖²: no labels needed
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return { encoder, decoder, losses };
}

tg.manualSeed(0);
const encoders: tg.nn.Linear[] = [];
const decoders: tg.nn.Linear[] = [];
const aeCurves: number[][] = [];
let features = x; // layer l's autoencoder learns to reconstruct layer l − 1's outputs
for (let l = 0; l < sizes.length - 1; l++) {
  const { encoder, decoder, losses } = pretrainLayer(features, sizes[l]!, sizes[l + 1]!);
  encoders.push(encoder);
  decoders.push(decoder);
  aeCurves.push(losses);
  features = tg.noGrad(() => tg.sigmoid(encoder.call(features) as tg.Tensor)); // the codes feed the next layer
  console.log(`autoencoder ${sizes[l]} → ${sizes[l + 1]} → ${sizes[l]}: reconstruction loss ${losses[0]!.toFixed(4)} → ${losses.at(-1)!.toFixed(4)}`);
}
// #endregion

// #region fine-tune
/** The deep classifier; with `pretrained`, its hidden layers start from the encoders' weights. */
function classifier(pretrained: boolean): tg.nn.Sequential {
  tg.manualSeed(1);
  const layers: tg.nn.Module[] = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    const fc = new nn.Linear(sizes[l]!, sizes[l + 1]!);
    if (pretrained) fc.loadStateDict(encoders[l]!.stateDict());
    layers.push(fc, new nn.Sigmoid());
  }
  layers.push(new nn.Linear(sizes.at(-1)!, 10)); // the output layer is new either way
  return new nn.Sequential(...layers);
}

function fineTune(model: tg.nn.Sequential) {
  const opt = new tg.optim.SGD(model.parameters(), { lr: 1 });
  const gen = new tg.Generator(2); // the same batches for both runs
  const losses: number[] = [];
  for (let s = 0; s < fineTuneSteps; s++) {
    const idx = tg.randint(0, n, [100], { generator: gen });
    opt.zeroGrad();
    const loss = tg.F.crossEntropy(model.call(x.index(idx)) as tg.Tensor, y.index(idx));
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  const accuracy = tg.noGrad(() => (model.call(test.x) as tg.Tensor).argmax(1).eq(test.y).to("float32").mean().item());
  return { losses, accuracy };
}
const fromPretrained = fineTune(classifier(true));
const fromRandom = fineTune(classifier(false));
console.log(`fine-tuning ${fineTuneSteps} steps: test accuracy ${fromPretrained.accuracy.toFixed(3)} pre-trained, ${fromRandom.accuracy.toFixed(3)} random init`);
// #endregion

const smooth = (xs: number[], k = 10) => xs.map((_, i) => xs.slice(Math.max(0, i - k + 1), i + 1).reduce((a, b) => a + b, 0) / Math.min(k, i + 1));
// the first autoencoder's reconstructions of some test digits
const shown = test.x.index(tg.randperm(test.x.shape[0]!, { generator: new tg.Generator(5) }).narrow(0, 0, 10));
const reconstructed = tg.noGrad(() => tg.sigmoid(decoders[0]!.call(tg.sigmoid(encoders[0]!.call(shown) as tg.Tensor)) as tg.Tensor));
await ex.save(
  "pretraining",
  tg.viz.figure(
    [
      tg.viz.plot(
        aeCurves.map((c, l) => ({ y: smooth(c), label: `layer ${l + 1}: ${sizes[l]} → ${sizes[l + 1]}` })),
        { title: "Layer-wise autoencoder pre-training", xLabel: "step", yLabel: "reconstruction MSE", yScale: "log", width: 440 },
      ),
      tg.viz.plot(
        [
          { y: smooth(fromRandom.losses), label: `random init (test acc ${(100 * fromRandom.accuracy).toFixed(1)}%)` },
          { y: smooth(fromPretrained.losses), label: `pre-trained (test acc ${(100 * fromPretrained.accuracy).toFixed(1)}%)` },
        ],
        { title: "Fine-tuning 784-128-64-32-10 (sigmoid), SGD", xLabel: "step", yLabel: "cross entropy (moving avg)", width: 440 },
      ),
      tg.viz.imageGrid(tg.cat([shown, reconstructed], 0), { columns: 10, scale: 2, title: "Test digits and their reconstructions (784 → 128 → 784)" }),
      tg.viz.imageGrid(encoders[0]!.weight.narrow(0, 0, 24), {
        columns: 8,
        scale: 2,
        range: [-0.3, 0.3],
        title: "First-layer weights after pre-training",
      }),
    ],
    { columns: 2 },
  ),
);

ex.report({
  aeFirst: aeCurves.map((c) => c[0]),
  aeLast: aeCurves.map((c) => c.at(-1)),
  pretrainedLoss: smooth(fromPretrained.losses).at(-1),
  randomLoss: smooth(fromRandom.losses).at(-1),
  pretrainedAccuracy: fromPretrained.accuracy,
  randomAccuracy: fromRandom.accuracy,
});
