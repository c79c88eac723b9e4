/**
 * @file Lecture: 畳み込みニューラルネットワーク (convolution, seed 001). A convolution by hand and by
 * `F.conv2d`; output sizes with padding and stride, OH = ⌊(H + 2P − FH)/S⌋ + 1 (the lecture's
 * 6×6, pad 1, 2×2, stride 1 → 7×7; and 8×8, pad 1, 3×3, stride 2 → 4×4 — the report's "3×3" is
 * a slip); RGB = a sum over the channels; max, average and global average pooling; and two edge
 * filters applied to a digit.
 *
 *   npx tsx examples/20-cnn-basics.ts      → examples/out/20-cnn-basics/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

// #region by-hand
// A 4×4 input and a 3×3 filter: slide the filter, multiply elementwise, sum (no padding, stride 1).
const input = tg.tensor([
  [1, 2, 3, 0],
  [0, 1, 2, 3],
  [3, 0, 1, 2],
  [2, 3, 0, 1],
]);
const filter = tg.tensor([
  [2, 0, 1],
  [0, 1, 2],
  [1, 0, 2],
]);
const byHand: number[][] = [];
for (let i = 0; i < 2; i++) {
  byHand.push([]);
  for (let j = 0; j < 2; j++) byHand[i]!.push(input.narrow(0, i, 3).narrow(1, j, 3).mul(filter).sum().item());
}
// F.conv2d takes batches of images [N, C, H, W] and filters [out channels, in channels, FH, FW]
const byConv = tg.F.conv2d(input.reshape([1, 1, 4, 4]), filter.reshape([1, 1, 3, 3]));
console.log("by hand:", byHand, " F.conv2d:", byConv.reshape([2, 2]).toArray()); // [[15, 16], [6, 15]]
// #endregion

// #region sizes
// Output size: OH = floor((H + 2P − FH) / S) + 1, and the same for the width.
const outSize = (h: number, p: number, f: number, s: number) => Math.floor((h + 2 * p - f) / s) + 1;
const cases = [
  { h: 6, p: 1, f: 2, s: 1 }, // → 7
  { h: 8, p: 1, f: 3, s: 2 }, // → 4
  { h: 28, p: 0, f: 5, s: 1 }, // → 24
  { h: 28, p: 2, f: 5, s: 1 }, // → 28: "same" padding keeps the size
  { h: 7, p: 0, f: 3, s: 2 }, // → 3
];
const sizes = cases.map(({ h, p, f, s }) => {
  const conv = new tg.nn.Conv2d(1, 1, f, { padding: p, stride: s });
  const shape = (conv.call(tg.zeros([1, 1, h, h])) as tg.Tensor).shape;
  console.log(`${h}×${h}, padding ${p}, ${f}×${f} filter, stride ${s} → formula ${outSize(h, p, f, s)}, Conv2d ${shape[2]}×${shape[3]}`);
  return { formula: outSize(h, p, f, s), conv2d: [shape[2], shape[3]] };
});
// #endregion

// #region rgb
// An RGB image has 3 channels; one filter has 3 slices, and the output is the sum over channels (+ bias).
tg.manualSeed(0);
const rgb = tg.randn([1, 3, 5, 5]);
const conv3 = new tg.nn.Conv2d(3, 1, 3); // 1 output channel: weight [1, 3, 3, 3]
const whole = conv3.call(rgb) as tg.Tensor;
let summed = tg.zeros([1, 1, 3, 3]);
for (let c = 0; c < 3; c++) summed = summed.add(tg.F.conv2d(rgb.narrow(1, c, 1), conv3.weight.narrow(1, c, 1)));
summed = summed.add(conv3.bias!.reshape([1, 1, 1, 1]));
console.log("3-channel conv = Σ per-channel convs + bias: max difference", whole.sub(summed).abs().max().item());
// #endregion

// #region pooling
const x4 = tg.tensor([
  [1, 2, 3, 0],
  [0, 1, 2, 4],
  [3, 0, 1, 2],
  [2, 4, 0, 1],
]).reshape([1, 1, 4, 4]);
const maxPooled = new tg.nn.MaxPool2d(2).call(x4) as tg.Tensor; //           the largest of each 2×2 window
const avgPooled = new tg.nn.AvgPool2d(2).call(x4) as tg.Tensor; //           the mean of each 2×2 window
const globalAvg = new tg.nn.AdaptiveAvgPool2d(1).call(x4) as tg.Tensor; //   one number per channel
console.log("max pool:", maxPooled.reshape([2, 2]).toArray(), " avg pool:", avgPooled.reshape([2, 2]).toArray(), " global avg:", globalAvg.item());
// #endregion

// #region edges
// Filters detect patterns: Sobel filters respond to vertical and horizontal edges.
const { x } = await tg.datasets.mnist({ split: "test" });
const digit = x.narrow(0, 1500, 1).reshape([1, 1, 28, 28]);
const sobel = tg.tensor([
  [[[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]], // vertical edges
  [[[-1, -2, -1], [0, 0, 0], [1, 2, 1]]], // horizontal edges
]); // [2 out channels, 1 in channel, 3, 3]
const edges = tg.F.conv2d(digit, sobel, null, { padding: 1 }); // [1, 2, 28, 28]
// #endregion
const show = (t: tg.Tensor) => t.abs().div(t.abs().max()).reshape([1, 28, 28]);
await ex.save(
  "edge-filters",
  tg.viz.imageGrid(tg.cat([digit.reshape([1, 28, 28]), show(edges.narrow(1, 0, 1)), show(edges.narrow(1, 1, 1))], 0), {
    columns: 3,
    scale: 5,
    labels: ["input", "|vertical-edge filter|", "|horizontal-edge filter|"],
  }),
);

ex.report({
  byHand,
  byConv: byConv.reshape([2, 2]).toArray(),
  sizes,
  rgbDiff: whole.sub(summed).abs().max().item(),
  maxPool: maxPooled.reshape([2, 2]).toArray(),
  avgPool: avgPooled.reshape([2, 2]).toArray(),
  globalAvg: globalAvg.item(),
  edgesShape: edges.shape,
});
