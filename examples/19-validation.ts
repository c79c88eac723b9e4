/**
 * @file Lecture: バリデーション (validation done right and wrong, seed 004 lecture 5). Validation
 * imitates "data the model has never seen". For a time series, the unseen data is the *future*:
 * a random split puts days after the validation days into training ("Randomly selecting 25% of
 * images for validation" — the climate-forecast paper's mistake), so the model only interpolates
 * and the score is far too good. A time-series split trains on the past and validates on what
 * follows, and gives the honest (much worse) number — no better than "tomorrow = today".
 *
 *   npx tsx examples/19-validation.ts      → examples/out/19-validation/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region series
// A daily series: a random walk plus a slow wave. The model sees the (scaled) day and predicts the value.
const n = 240;
const gen = new tg.Generator(0);
const values: number[] = [];
for (let i = 0, walk = 0; i < n; i++) {
  walk += 0.3 * gen.normal();
  values.push(walk + Math.sin((2 * Math.PI * i) / 80));
}
const day = tg.arange(n).to("float32").div(n).unsqueeze(1); // [n, 1] in [0, 1)
const target = tg.tensor(values).unsqueeze(1); //                [n, 1]
// #endregion

// #region model
/** Fits a small MLP to the training days and returns the mean squared error on the validation days. */
function fitAndScore(train: number[], val: number[]) {
  tg.manualSeed(1);
  const model = new tg.nn.Sequential(new tg.nn.Linear(1, 64), new tg.nn.Tanh(), new tg.nn.Linear(64, 64), new tg.nn.Tanh(), new tg.nn.Linear(64, 1));
  const opt = new tg.optim.Adam(model.parameters(), { lr: 0.01 });
  const tr = tg.tensor(train, { dtype: "int32" });
  const va = tg.tensor(val, { dtype: "int32" });
  const steps = ex.quick ? 80 : 1500;
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    tg.F.mseLoss(model.call(day.index(tr)) as tg.Tensor, target.index(tr)).backward();
    opt.step();
  }
  return tg.noGrad(() => ({
    mse: tg.F.mseLoss(model.call(day.index(va)) as tg.Tensor, target.index(va)).item(),
    curve: (model.call(day) as tg.Tensor).dataSync(),
  }));
}
// #endregion

// #region splits
const k = 4;
// wrong for time series: shuffled k-fold (validation days surrounded by training days)
const randomFolds = tg.data.kFold(n, k, { shuffle: true, seed: 0 });
// right: every fold trains on a prefix and validates on the block right after it
const timeFolds = tg.data.timeSeriesSplit(n, k);

const leaks = (f: tg.data.Fold) => Math.max(...f.train) > Math.min(...f.val); // any training day after a validation day?
console.log("random folds use the future:", randomFolds.map(leaks), "; time-series folds:", timeFolds.map(leaks));

const randomScores = randomFolds.map((f) => fitAndScore(f.train, f.val));
const timeScores = timeFolds.map((f) => fitAndScore(f.train, f.val));
// a baseline that needs no model: predict every validation day as the last training day's value
const naive = timeFolds.map((f) => f.val.reduce((s, i) => s + (values[i]! - values[Math.max(...f.train)]!) ** 2, 0) / f.val.length);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(`validation MSE, random k-fold:        ${mean(randomScores.map((s) => s.mse)).toFixed(3)}   ← looks great, is wrong`);
console.log(`validation MSE, time-series split:    ${mean(timeScores.map((s) => s.mse)).toFixed(3)}   ← the honest forecast error`);
console.log(`"tomorrow = last known day" baseline: ${mean(naive).toFixed(3)}`);
// #endregion

const days = Array.from({ length: n }, (_, i) => i);
const pointsOf = (idx: number[], label: string, color: string) => ({ x: idx, y: idx.map((i) => values[i]!), label, mode: "markers" as const, color, width: 1.3 });
const rf = randomFolds[0]!;
const tf = timeFolds[1]!;
const foldBars = timeFolds.flatMap((f, i) => [
  { x: [0, Math.max(...f.train)], y: [i + 1, i + 1], color: tg.viz.COLORS[0], width: 8, label: i === 0 ? "train" : undefined },
  { x: [Math.min(...f.val), Math.max(...f.val)], y: [i + 1, i + 1], color: tg.viz.COLORS[1], width: 8, label: i === 0 ? "validation" : undefined },
]);
await ex.save(
  "random-vs-time-split",
  tg.viz.figure(
    [
      tg.viz.plot([pointsOf(rf.train, "train", tg.viz.COLORS[0]!), pointsOf(rf.val, "validation", tg.viz.COLORS[1]!), { x: days, y: randomScores[0]!.curve, label: "model", color: "#333" }], {
        title: `Random split (wrong): validation MSE ${randomScores[0]!.mse.toFixed(3)}`,
        xLabel: "day",
        yLabel: "value",
        width: 470,
      }),
      tg.viz.plot([pointsOf(tf.train, "train", tg.viz.COLORS[0]!), pointsOf(tf.val, "validation", tg.viz.COLORS[1]!), { x: days, y: timeScores[1]!.curve, label: "model", color: "#333" }], {
        title: `Time-series split (right): validation MSE ${timeScores[1]!.mse.toFixed(3)}`,
        xLabel: "day",
        yLabel: "value",
        width: 470,
      }),
      tg.viz.plot(foldBars, { title: "timeSeriesSplit(240, 4): the folds", xLabel: "day", yLabel: "fold", yLim: [0.3, k + 1.4], yTicks: [1, 2, 3, 4], width: 380, legend: "top-left" }),
    ],
    { columns: 3 },
  ),
);

ex.report({
  randomLeaks: randomFolds.map(leaks),
  timeLeaks: timeFolds.map(leaks),
  timeFolds: timeFolds.map((f) => ({ trainEnd: Math.max(...f.train), valStart: Math.min(...f.val), valEnd: Math.max(...f.val) })),
  mseRandom: mean(randomScores.map((s) => s.mse)),
  mseTime: mean(timeScores.map((s) => s.mse)),
  mseNaive: mean(naive),
});
