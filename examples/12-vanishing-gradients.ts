/**
 * @file Lecture: 勾配消失問題 (vanishing gradients, seed 001, seed 002 §8.4). Backprop multiplies
 * by f'(u) once per layer; sigmoid's derivative is at most 0.25, so in a deep sigmoid network
 * the gradient reaching the first layers is tiny. ReLU's derivative is 1 where it is active,
 * and a skip connection h' = h + f(h) gives the gradient a path around each layer.
 * Per-layer gradient norms of a 10-layer network on one MNIST batch, printed and plotted.
 *
 *   npx tsx examples/12-vanishing-gradients.ts      → examples/out/12-vanishing-gradients/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

const depth = 10;
const width = 64;
const { x, y } = await tg.datasets.mnist({ split: "train" });
const idx = tg.randperm(x.shape[0]!, { generator: new tg.Generator(0) }).narrow(0, 0, ex.quick ? 128 : 512);
const xb = x.index(idx);
const yb = y.index(idx);

// #region networks
/** 784 → 64 → … (depth hidden layers) → 10, with the given activation after every hidden layer. */
function deepNet(activation: () => tg.nn.Module, init: "xavier" | "he", residual = false): tg.nn.Sequential {
  const layers: tg.nn.Module[] = [];
  for (let l = 0; l < depth; l++) {
    const linear = new tg.nn.Linear(l === 0 ? 784 : width, width);
    // Xavier suits sigmoid/tanh, He suits ReLU (example 14 compares them)
    if (init === "xavier") tg.nn.init.xavierNormal(linear.weight);
    else tg.nn.init.kaimingNormal(linear.weight, { nonlinearity: "relu" });
    tg.nn.init.zeros(linear.bias!);
    const block = new tg.nn.Sequential(linear, activation());
    // a skip connection needs equal shapes: every layer but the first
    layers.push(residual && l > 0 ? new tg.nn.Residual(block) : block);
  }
  layers.push(new tg.nn.Linear(width, 10));
  return new tg.nn.Sequential(...layers);
}

/** ‖∂L/∂W‖ for the weight of every Linear layer, input side first. */
function gradientNorms(model: tg.nn.Sequential): number[] {
  model.zeroGrad();
  tg.F.crossEntropy(model.call(xb) as tg.Tensor, yb).backward();
  return model
    .namedParameters()
    .filter(([name]) => name.endsWith("weight"))
    .map(([, p]) => p.grad!.square().sum().sqrt().item());
}
// #endregion

// #region measure
tg.manualSeed(0);
const runs = {
  "sigmoid (Xavier)": gradientNorms(deepNet(() => new tg.nn.Sigmoid(), "xavier")),
  "tanh (Xavier)": gradientNorms(deepNet(() => new tg.nn.Tanh(), "xavier")),
  "ReLU (He)": gradientNorms(deepNet(() => new tg.nn.ReLU(), "he")),
  "sigmoid + skip connections": gradientNorms(deepNet(() => new tg.nn.Sigmoid(), "xavier", true)),
};
for (const [name, norms] of Object.entries(runs)) {
  console.log(`${name.padEnd(28)} layer 1: ${norms[0]!.toExponential(2)}  layer ${norms.length}: ${norms.at(-1)!.toExponential(2)}  ratio first/last: ${(norms[0]! / norms.at(-1)!).toExponential(2)}`);
}
// #endregion

// #region bound
// Why: each sigmoid layer multiplies the gradient by σ'(u) ≤ 0.25; ten of them: ≤ 0.25¹⁰ ≈ 1e-6.
console.log("0.25^10 =", 0.25 ** 10);
// #endregion

const layersAxis = Array.from({ length: depth + 1 }, (_, i) => i + 1);
await ex.save(
  "gradient-norms",
  tg.viz.plot(
    Object.entries(runs).map(([label, norms]) => ({ x: layersAxis, y: norms, label, mode: "lines+markers" as const })),
    { title: `‖∂L/∂W‖ per layer, ${depth} hidden layers (input side = layer 1)`, xLabel: "layer", yLabel: "gradient norm", yScale: "log", xTicks: layersAxis, width: 620, height: 400 },
  ),
);

const ratio = (norms: number[]) => norms[0]! / norms.at(-1)!;
ex.report(Object.fromEntries([...Object.entries(runs).map(([k, v]) => [k, { first: v[0], last: v.at(-1), ratio: ratio(v) }])]));
