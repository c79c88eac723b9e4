/**
 * @file nn.Sequential's Conv2d → ReLU pairs: on backends with the fused conv2d kernels the relu is
 * applied in the convolution's pass and recorded in its one node. Output and gradients must equal
 * conv2d followed by a separate relu bit for bit, on every backend, with and without a graph.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tg from "../src/index.ts";
import { onBackend, sameBits as sameBitsAs } from "./tensor-helpers.ts";
import { hooks } from "./fused-access.ts";

const sameBits = (got: tg.Tensor, want: tg.Tensor, what: string) => sameBitsAs(got, want, what, "conv2d then relu gives");

type ConvOptions = ConstructorParameters<typeof tg.nn.Conv2d>[3];
const cases: [string, number[], [number, number, number, ConvOptions]][] = [
  ["3×3 pad 1", [2, 3, 9, 8], [3, 5, 3, { padding: 1 }]],
  ["stride 2, no bias", [3, 2, 11, 7], [2, 4, 3, { stride: 2, bias: false }]],
  ["dilation 2, 1 channel", [1, 1, 12, 12], [1, 6, 3, { dilation: 2 }]],
  ["unbatched 5×5", [4, 10, 10], [4, 3, 5, { padding: 2 }]],
];

for (const backend of tg.backend.list())
  test(`${backend}: Conv2d → ReLU (fused where the backend has it) equals conv2d then relu, output and gradients bit for bit`, () => {
    onBackend(backend, () => {
      tg.manualSeed(21);
      for (const [what, xShape, [cin, cout, k, opts]] of cases) {
        const conv = new tg.nn.Conv2d(cin, cout, k, opts);
        const seq = new tg.nn.Sequential(conv, new tg.nn.ReLU());
        const x = tg.randn(xShape).requiresGrad_(true);
        const y = seq.call(x) as tg.Tensor;
        const seed = tg.randn(y.shape);
        const params: tg.Tensor[] = conv.bias === null ? [x, conv.weight] : [x, conv.weight, conv.bias];
        const fusedGrads = tg.grad(y.mul(seed).sum(), params);
        const ref = conv.call(x).relu();
        const refGrads = tg.grad(ref.mul(seed).sum(), params);
        sameBits(y.detach(), ref.detach(), `${what}: output`);
        for (const [i, g] of refGrads.entries()) sameBits(fusedGrads[i]!, g!, `${what}: gradient ${i}`);
        sameBits(tg.noGrad(() => seq.call(x) as tg.Tensor), ref.detach(), `${what}: output without a graph`);
        // some outputs are clamped, some pass: both branches of the fused relu ran
        const v = y.dataSync();
        assert.ok(v.some((e) => e === 0) && v.some((e) => e > 0), `${what}: relu clamps some outputs and passes others`);
      }
    });
  });

test("a hooked ReLU after a Conv2d is not fused away", () => {
  const seq = new tg.nn.Sequential(new tg.nn.Conv2d(1, 2, 3), new tg.nn.ReLU());
  let calls = 0;
  seq.at(1).registerForwardHook(() => {
    calls++;
  });
  seq.call(tg.randn([1, 1, 5, 5]));
  assert.equal(calls, 1);
});

test("the gradient hooks' relu mask (y) equals reluBackward first, for strided g and y views, on native and wasm", async () => {
  const { nativeBackend, nativeAddon } = await import("../src/backend/native/index.ts");
  const { wasmBackend } = await import("../src/backend/wasm/index.ts");
  const backends = [...(nativeAddon() !== null ? [nativeBackend] : []), ...(tg.backend.list().includes("wasm") ? [wasmBackend] : [])];
  const win = { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], outSize: [6, 5] } as const;
  tg.manualSeed(4);
  const x = tg.randn([3, 2, 6, 5]);
  const w = tg.randn([4, 2, 3, 3]);
  // g and y as permuted views (NHWC storage); y with positives, exact zeros, −0 and a NaN
  const g = tg.randn([3, 6, 5, 4]).permute([0, 3, 1, 2]);
  const yData = tg.randn([3, 6, 5, 4]).relu().dataSync() as Float32Array;
  yData[0] = -0;
  yData[1] = Number.NaN;
  const y = tg.tensor(yData).reshape([3, 6, 5, 4]).permute([0, 3, 1, 2]);
  const { reluBackward } = await import("../src/fused/relu-backward.ts");
  const masked = tg.noGrad(() => reluBackward(g, y)).contiguous();
  for (const b of backends) {
    const dx = hooks(b).conv2dBackwardInput!(g, w, win, [6, 5], y)!;
    const dxRef = hooks(b).conv2dBackwardInput!(masked, w, win, [6, 5])!;
    sameBits(tg.tensor(Array.from(dx)), tg.tensor(Array.from(dxRef)), `${b.name} input gradient`);
    const r = hooks(b).conv2dBackwardWeight!(g, x, win, true, y)!;
    const rRef = hooks(b).conv2dBackwardWeight!(masked, x, win, true)!;
    sameBits(tg.tensor(Array.from(r.dw)), tg.tensor(Array.from(rRef.dw)), `${b.name} weight gradient`);
    sameBits(tg.tensor(Array.from(r.db!)), tg.tensor(Array.from(rRef.db!)), `${b.name} bias gradient`);
  }
});
