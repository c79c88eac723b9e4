/**
 * @file Lecture: 誤差関数 (loss functions). The lecture's `mean_squared_error` on the 2-3-2
 * regression network (seed 000 §1.3), cross entropy `−Σ d log y` with one-hot and index labels
 * and its `1e-7` guard, and why tensorgrad's `crossEntropy` takes logits instead (log-sum-exp:
 * exact where the guard is not). Binary cross entropy and Huber (seed 002 §8.3) too.
 *
 *   npx tsx examples/03-losses.ts      → examples/out/03-losses/losses.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region mse
// The 2-3-2 regression network of the lecture: y = relu(x·W1 + b1)·W2 + b2
const W1 = tg.tensor([
  [0.1, 0.3, 0.5],
  [0.2, 0.4, 0.6],
]);
const W2 = tg.tensor([
  [0.1, 0.4],
  [0.2, 0.5],
  [0.3, 0.6],
]);
const y = tg.tensor([1, 2]).matmul(W1).add(tg.tensor([0.1, 0.2, 0.3])).relu().matmul(W2).add(tg.tensor([0.1, 0.2]));
const d = tg.tensor([2, 4]); // 目標出力

// mean_squared_error(d, y) = np.mean(np.square(d - y)) / 2  — the ½ only simplifies the derivative
const lectureMse = d.sub(y).square().mean().div(2);
// F.mseLoss is PyTorch's: the mean of the squares, without the ½
const mse = tg.F.mseLoss(y, d);
console.log("y =", y, " lecture MSE =", lectureMse.item(), " F.mseLoss / 2 =", mse.item() / 2); // 0.971125
// #endregion

// #region cross-entropy
// Cross entropy, the lecture's way: probabilities y (after softmax), then −Σ d log(y + 1e-7) / N.
function crossEntropyError(d: tg.Tensor, y: tg.Tensor): tg.Tensor {
  const n = y.shape[0]!;
  return d.mul(y.add(1e-7).log()).sum().neg().div(n);
}
const logits = tg.tensor([
  [2.0, 1.0, 0.1],
  [0.5, 2.5, 0.3],
]);
const labels = tg.tensor([0, 1], { dtype: "int32" }); // index labels
const oneHot = tg.oneHot(labels, 3).to("float32"); // one-hot labels [[1,0,0],[0,1,0]]

const lectureCe = crossEntropyError(oneHot, tg.softmax(logits, 1));
const ceIndex = tg.F.crossEntropy(logits, labels); // logits + class indices
const ceOneHot = tg.F.crossEntropy(logits, oneHot); // logits + one-hot (probability) targets
console.log("lecture CE =", lectureCe.item(), " F.crossEntropy =", ceIndex.item(), "(index) =", ceOneHot.item(), "(one-hot)");
// #endregion

// #region guard
// When the network is confidently wrong, softmax underflows to exactly 0 and log(0) = −∞.
// The 1e-7 guard caps the loss at −log(1e-7) ≈ 16.1 — and its gradient vanishes exactly there.
// crossEntropy works on logits with log-sum-exp, so it stays exact: here 200.
const wrong = tg.tensor([[100, -100]]); // very sure of class 0, but the answer is class 1
const answer = tg.tensor([1], { dtype: "int32" });
const guarded = crossEntropyError(tg.oneHot(answer, 2).to("float32"), tg.softmax(wrong, 1));
const exact = tg.F.crossEntropy(wrong, answer);
console.log("confidently wrong: lecture CE =", guarded.item(), " F.crossEntropy =", exact.item());
// #endregion

// #region bce-huber
// Binary cross entropy (two classes, one sigmoid output) and Huber (MSE near 0, L1 far away).
const p = tg.tensor([0.9, 0.2, 0.7]);
const t = tg.tensor([1, 0, 0]);
const bce = tg.F.binaryCrossEntropy(p, t); // −mean(t log p + (1 − t) log(1 − p))
const bceLogits = tg.F.binaryCrossEntropyWithLogits(p.div(p.neg().add(1)).log(), t); // same, from logits
const huber = tg.F.huberLoss(tg.tensor([0.5, 3]), tg.tensor([0, 0]), { delta: 1 }); // mean(½·0.5², 1·(3 − ½))
console.log("BCE =", bce.item(), " BCE from logits =", bceLogits.item(), " Huber =", huber.item());
// #endregion

// The losses as curves of the prediction, for a target of 1 (regression) or class 1 (classification).
const pred = tg.linspace(-2, 4, 121);
const one = tg.onesLike(pred);
const prob = tg.linspace(0.005, 0.995, 121);
const lossPlot = tg.viz.plot(
  [
    { x: pred.dataSync(), y: tg.F.mseLoss(pred, one, { reduction: "none" }).dataSync(), label: "squared error (y − 1)²" },
    { x: pred.dataSync(), y: tg.F.l1Loss(pred, one, { reduction: "none" }).dataSync(), label: "absolute error |y − 1|" },
    { x: pred.dataSync(), y: tg.F.huberLoss(pred, one, { reduction: "none" }).dataSync(), label: "Huber (δ = 1)", dashed: true },
  ],
  { title: "Regression losses, target 1", xLabel: "prediction y", yLabel: "loss", yLim: [0, 4], width: 480 },
);
const cePlot = tg.viz.plot([{ x: prob.dataSync(), y: prob.log().neg().dataSync(), label: "−log y (true class)" }], {
  title: "Cross entropy of the true class's probability",
  xLabel: "y (softmax output of the true class)",
  yLabel: "loss",
  width: 480,
});
await ex.save("losses", tg.viz.figure([lossPlot, cePlot]));

ex.report({
  y: y.toArray(),
  lectureMse: lectureMse.item(),
  mseHalf: mse.item() / 2,
  lectureCe: lectureCe.item(),
  ceIndex: ceIndex.item(),
  ceOneHot: ceOneHot.item(),
  guarded: guarded.item(),
  exact: exact.item(),
  bce: bce.item(),
  bceLogits: bceLogits.item(),
  huber: huber.item(),
});
