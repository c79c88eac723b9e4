/**
 * @file nn.Sequential's Conv2d → ReLU pairs: on backends with the fused conv2d kernels the relu is
 * applied in the convolution's pass and recorded in its one node. Output and gradients must equal
 * conv2d followed by a separate relu bit for bit, on every backend, with and without a graph.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tg from "../src/index.ts";

function sameBits(got: tg.Tensor, want: tg.Tensor, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const a = got.dataSync();
  const b = want.dataSync();
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i} is ${a[i]}, conv2d then relu gives ${b[i]}`);
}

type ConvOptions = ConstructorParameters<typeof tg.nn.Conv2d>[3];
const cases: [string, number[], [number, number, number, ConvOptions]][] = [
  ["3×3 pad 1", [2, 3, 9, 8], [3, 5, 3, { padding: 1 }]],
  ["stride 2, no bias", [3, 2, 11, 7], [2, 4, 3, { stride: 2, bias: false }]],
  ["dilation 2, 1 channel", [1, 1, 12, 12], [1, 6, 3, { dilation: 2 }]],
  ["unbatched 5×5", [4, 10, 10], [4, 3, 5, { padding: 2 }]],
];

for (const backend of tg.backend.list())
  test(`${backend}: Conv2d → ReLU (fused where the backend has it) equals conv2d then relu, output and gradients bit for bit`, () => {
    const before = tg.backend.current();
    tg.backend.use(backend);
    try {
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
    } finally {
      tg.backend.use(before);
    }
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
