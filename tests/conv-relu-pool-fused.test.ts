/**
 * @file nn.Sequential's Conv2d → ReLU → MaxPool2d runs as one op (one autograd node whose output
 * is the pooled tensor) where the backend has the fused kernels (wasm, native) and the pool's windows do
 * not overlap: its output, its pool indices' routing of the gradient and every parameter and input
 * gradient must equal the three modules run one by one bit for bit (−0, NaN, infinities and ties
 * included), for any thread count, with and without a graph; overlapping or padded pools, and
 * backends without the kernels, keep the unfused chain.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Backend } from "../src/backend/backend.ts";
import * as tg from "../src/index.ts";
import { kernels } from "../src/backend/registry.ts";
import { onBackend } from "./tensor-helpers.ts";
import { countingFused, withoutFused } from "./fused-access.ts";

const FUSED = "Conv2dReluMaxPoolBackward0";
/** The backends whose fused table has the Conv2d → ReLU → MaxPool2d kernels (wasm, native), each with its backend object. */
const POOLED = tg.backend
  .list()
  .map((name) => [name, onBackend(name, () => kernels())] as const)
  .filter(([, b]) => b.fused?.conv2dReluMaxPool !== undefined);

/** Asserts equal shapes and the same 32-bit patterns in every element (NaN payloads and −0 included). */
function sameBits(got: tg.Tensor, want: tg.Tensor, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const a = Float32Array.from(got.dataSync() as Float32Array);
  const b = Float32Array.from(want.dataSync() as Float32Array);
  const ua = new Uint32Array(a.buffer);
  const ub = new Uint32Array(b.buffer);
  for (let i = 0; i < ub.length; i++)
    if (ua[i] !== ub[i]) assert.fail(`${what}: element ${i} is ${a[i]} (0x${ua[i]!.toString(16)}), the unfused chain gives ${b[i]} (0x${ub[i]!.toString(16)})`);
}

type ConvOptions = ConstructorParameters<typeof tg.nn.Conv2d>[3];
type Case = [what: string, xShape: number[], conv: [number, number, number | [number, number], ConvOptions], pool: number | [number, number]];
const cases: Case[] = [
  ["W3 layer 1", [6, 1, 28, 28], [1, 16, 3, { padding: 1 }], 2],
  ["W3 layer 2", [6, 16, 14, 14], [16, 32, 3, { padding: 1 }], 2],
  ["odd 9×11, C=3, pool 3 (drops a row and columns)", [5, 3, 9, 11], [3, 4, 3, { padding: 1 }], 3],
  ["odd 13×15, pool 2 (drops the last row and column), batch 1", [1, 3, 13, 15], [3, 5, 3, { padding: 1 }], 2],
  ["stride-2 conv, no bias, pool 2", [5, 3, 13, 10], [3, 6, 3, { stride: 2, bias: false }], 2],
  ["stride-2 conv, batch 1, pool 3", [1, 2, 17, 19], [2, 3, 3, { stride: 2 }], 3],
  ["2×3 pool, 2×2 conv", [5, 2, 11, 9], [2, 3, 2, {}], [2, 3]],
  ["unbatched", [3, 10, 10], [3, 4, 3, { padding: 1 }], 2],
];

const POOL_KERNELS = ["conv2dReluMaxPool", "conv2dReluMaxPoolBackwardInput", "conv2dReluMaxPoolBackwardWeight"] as const;

/** Counts the backend's fused Conv2d → ReLU → MaxPool2d kernel calls while `body` runs. */
const countingHooks = <T>(b: Backend, body: () => T) => countingFused(b, POOL_KERNELS, body);

/** Runs `body` with the backend's fused Conv2d → ReLU → MaxPool2d kernels removed (Sequential then runs Conv2d → ReLU fused and the pool). */
const withoutHooks = <T>(b: Backend, body: () => T): T => withoutFused(b, POOL_KERNELS, body);

/** The name of the op that made `y`, looking through the squeeze of an unbatched input. */
function producer(y: tg.Tensor, unbatched: boolean): string | undefined {
  if (!unbatched) return y.gradFn?.name;
  const n = y.gradFn?.nextFunctions[0];
  return n === null || n === "AccumulateGrad" || n === undefined ? undefined : n.name;
}

/** A tensor of `shape` from N(0, 1) with some exact ties (repeated values), −0s and, when `special`, NaNs and infinities. */
function awkward(shape: readonly number[], special: boolean, gen: tg.Generator): tg.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = gen.normal();
  for (let i = 0; i < n; i += 7) d[i] = d[i + 1] ?? d[i]!; // ties
  for (let i = 3; i < n; i += 11) d[i] = -0;
  for (let i = 5; i < n; i += 13) d[i] = 0;
  if (special) {
    d[Math.floor(n / 3)] = Number.NaN;
    d[Math.floor(n / 2)] = Number.POSITIVE_INFINITY;
    d[Math.floor((2 * n) / 3)] = Number.NEGATIVE_INFINITY;
    d[n - 1] = Number.NaN;
  }
  return tg.tensor(d).reshape([...shape]);
}

/** The layers of one case with a few special weights: one output channel all zero (its conv output is the bias: ties everywhere). */
function layers(cin: number, cout: number, k: number | [number, number], opts: ConvOptions, pool: number | [number, number], negativeBias: boolean) {
  const conv = new tg.nn.Conv2d(cin, cout, k, opts);
  tg.noGrad(() => {
    const w = conv.weight.dataSync() as Float32Array;
    const per = w.length / cout;
    w.fill(0, 0, per);
    if (conv.bias !== null) {
      const b = conv.bias.dataSync() as Float32Array;
      b[0] = negativeBias ? -0.25 : 0.25;
      if (cout > 2) b[2] = -0;
    }
  });
  return { conv, relu: new tg.nn.ReLU(), pool: new tg.nn.MaxPool2d(pool) };
}

for (const [name, fusedBackend] of POOLED)
for (const threads of [1, 2])
  test(`${name}, ${threads} thread(s): Sequential(Conv2d, ReLU, MaxPool2d) is one fused node equal to the three modules bit for bit (output, pooled routing, every gradient)`, () => {
    const before = tg.backend.threads();
    tg.backend.setThreads(threads);
    try {
      onBackend(name, () => {
        tg.manualSeed(5);
        const gen = new tg.Generator(9);
        let clamped = 0;
        for (const [what, xShape, [cin, cout, k, opts], poolK] of cases)
          for (const special of [false, true]) {
            const label = `${what}${special ? " (NaN, ±∞ in x and g)" : ""}, ${threads} thread(s)`;
            const { conv, relu, pool } = layers(cin, cout, k, opts, poolK, special);
            const seq = new tg.nn.Sequential(conv, relu, pool);
            const x = awkward(xShape, special, gen).requiresGrad_(true);
            const params: tg.Tensor[] = conv.bias === null ? [x, conv.weight] : [x, conv.weight, conv.bias];
            const { result, calls } = countingHooks(fusedBackend, () => {
              const y = seq.call(x) as tg.Tensor;
              const seed = awkward(y.shape, special, gen);
              return { y, seed, grads: tg.grad(y.mul(seed).sum(), params) };
            });
            const { y, seed, grads } = result;
            const unbatched = xShape.length === 3;
            assert.equal(producer(y, unbatched), FUSED, `${label}: one fused node`);
            assert.deepEqual(calls, { conv2dReluMaxPool: 1, conv2dReluMaxPoolBackwardInput: 1, conv2dReluMaxPoolBackwardWeight: 1 }, `${label}: the fused kernels ran`);
            // the three modules one by one, and the Sequential without the fused hooks
            const ref = pool.call(relu.call(conv.call(x))) as tg.Tensor;
            assert.equal(producer(ref, unbatched), "MaxPool2dBackward0");
            const refGrads = tg.grad(ref.mul(seed).sum(), params);
            sameBits(y.detach(), ref.detach(), `${label}: output`);
            for (const [i, g] of refGrads.entries()) sameBits(grads[i]!, g!, `${label}: gradient ${i}`);
            withoutHooks(fusedBackend, () => {
              const y2 = seq.call(x) as tg.Tensor;
              assert.equal(producer(y2, unbatched), "MaxPool2dBackward0");
              sameBits(y.detach(), y2.detach(), `${label}: output (Sequential without the hook)`);
              const g2 = tg.grad(y2.mul(seed).sum(), params);
              for (const [i, g] of g2.entries()) sameBits(grads[i]!, g!, `${label}: gradient ${i} (Sequential without the hook)`);
            });
            sameBits(tg.noGrad(() => seq.call(x) as tg.Tensor), ref.detach(), `${label}: output without a graph`);
            // relu passes some pooled outputs in every case, and clamps whole windows in some
            const v = y.dataSync();
            assert.ok(v.some((e) => e > 0), `${label}: some pooled outputs are positive`);
            if (v.some((e) => e === 0)) clamped++;
          }
        assert.ok(clamped >= cases.length, `relu clamped a whole window in only ${clamped} runs`);
      });
    } finally {
      tg.backend.setThreads(before);
    }
  });

for (const [name] of POOLED)
test(`${name}: the fused node's gradients under createGraph (second order) equal the unfused chain's`, () => {
  onBackend(name, () => {
    tg.manualSeed(7);
    const gen = new tg.Generator(3);
    const { conv, relu, pool } = layers(3, 4, 3, { padding: 1 }, 2, false);
    const seq = new tg.nn.Sequential(conv, relu, pool);
    const x = awkward([2, 3, 9, 8], false, gen).requiresGrad_(true);
    const params = [x, conv.weight, conv.bias!];
    const run = (y: tg.Tensor) => {
      const seed = awkward(y.shape, false, new tg.Generator(4));
      const first = tg.grad(y.mul(seed).sum(), params, { createGraph: true });
      const penalty = first.map((g) => g!.mul(g!).sum()).reduce((a, b) => a.add(b));
      return [...first, ...tg.grad(penalty, [conv.weight, conv.bias!], { allowUnused: true })];
    };
    const y = seq.call(x) as tg.Tensor;
    assert.equal(y.gradFn?.name, FUSED);
    const got = run(y);
    const want = run(pool.call(relu.call(conv.call(x))) as tg.Tensor);
    for (const [i, g] of want.entries()) {
      if (g === null) assert.equal(got[i], null);
      else sameBits(got[i]!, g, `second order: gradient ${i}`);
    }
  });
});

for (const [name] of POOLED)
test(`${name}: overlapping or padded pools, ceil mode, and hooked modules are not fused, and still train`, () => {
  onBackend(name, () => {
    const pools: [string, () => tg.nn.MaxPool2d][] = [
      ["stride ≠ kernel", () => new tg.nn.MaxPool2d(3, { stride: 2 })],
      ["padding 1", () => new tg.nn.MaxPool2d(2, { padding: 1 })],
      ["dilation 2", () => new tg.nn.MaxPool2d(2, { dilation: 2 })],
      ["ceil mode", () => new tg.nn.MaxPool2d(2, { ceilMode: true })],
    ];
    for (const [what, make] of pools) {
      tg.manualSeed(11);
      const conv = new tg.nn.Conv2d(2, 3, 3, { padding: 1 });
      const seq = new tg.nn.Sequential(conv, new tg.nn.ReLU(), make(), new tg.nn.Flatten());
      const x = tg.randn([4, 2, 9, 9]);
      const y = seq.call(x) as tg.Tensor;
      const before = y.gradFn!.nextFunctions[0];
      assert.ok(before !== null && before !== "AccumulateGrad" && before !== undefined, what);
      assert.equal(before.name, "MaxPool2dBackward0", what);
      const opt = new tg.optim.Adam(seq.parameters(), { lr: 0.01 });
      const w0 = conv.weight.clone();
      for (let s = 0; s < 3; s++) {
        opt.zeroGrad();
        (seq.call(x) as tg.Tensor).square().mean().backward();
        opt.step();
      }
      assert.ok(conv.weight.sub(w0).abs().sum().item() > 0, `${what}: the weights moved`);
      assert.ok(Number.isFinite(conv.weight.sum().item()), `${what}: finite weights`);
    }
    // a hook on any of the three modules keeps them apart
    for (const at of [0, 1, 2]) {
      const seq = new tg.nn.Sequential(new tg.nn.Conv2d(1, 2, 3), new tg.nn.ReLU(), new tg.nn.MaxPool2d(2));
      let calls = 0;
      seq.at(at).registerForwardHook(() => {
        calls++;
      });
      const y = seq.call(tg.randn([1, 1, 6, 6]).requiresGrad_(true)) as tg.Tensor;
      assert.equal(calls, 1);
      assert.equal(y.gradFn?.name, "MaxPool2dBackward0");
    }
  });
});

test("backends without the fused kernels keep Conv2d → ReLU fused and the pool separate", () => {
  for (const backend of tg.backend.list().filter((b) => POOLED.every(([name]) => name !== b)))
    onBackend(backend, () => {
      tg.manualSeed(2);
      const seq = new tg.nn.Sequential(new tg.nn.Conv2d(2, 3, 3, { padding: 1 }), new tg.nn.ReLU(), new tg.nn.MaxPool2d(2));
      const y = seq.call(tg.randn([2, 2, 6, 6]).requiresGrad_(true)) as tg.Tensor;
      assert.equal(y.gradFn?.name, "MaxPool2dBackward0", backend);
    });
});

for (const [name, fusedBackend] of POOLED)
test(`${name}: a few Adam steps of a small CNN give the same parameters fused and unfused, for 1 and 2 threads`, () => {
  const before = tg.backend.threads();
  try {
    onBackend(name, () => {
      const build = () => {
        tg.manualSeed(3);
        return new tg.nn.Sequential(
          new tg.nn.Conv2d(1, 8, 3, { padding: 1 }),
          new tg.nn.ReLU(),
          new tg.nn.MaxPool2d(2),
          new tg.nn.Conv2d(8, 16, 3, { padding: 1 }),
          new tg.nn.ReLU(),
          new tg.nn.MaxPool2d(2),
          new tg.nn.Flatten(),
          new tg.nn.Linear(16 * 4 * 3, 10),
        );
      };
      const gen = new tg.Generator(8);
      const x = awkward([12, 1, 17, 13], false, gen);
      const target = tg.tensor(Int32Array.from({ length: 12 }, (_, i) => i % 10));
      const train = (model: tg.nn.Sequential) => {
        const opt = new tg.optim.Adam(model.parameters(), { lr: 0.01 });
        for (let s = 0; s < 4; s++) {
          opt.zeroGrad();
          tg.F.crossEntropy(model.call(x) as tg.Tensor, target).backward();
          opt.step();
        }
        return model.parameters();
      };
      let reference: tg.Tensor[] | null = null;
      for (const threads of [1, 2]) {
        tg.backend.setThreads(threads);
        const fusedModel = build();
        const { result: fused, calls } = countingHooks(fusedBackend, () => train(fusedModel));
        assert.ok(calls.conv2dReluMaxPool! >= 8 && calls.conv2dReluMaxPoolBackwardWeight! >= 8, "the fused kernels ran");
        const unfused = withoutHooks(fusedBackend, () => train(build()));
        reference ??= unfused;
        for (const [i, p] of fused.entries()) {
          sameBits(p, unfused[i]!, `${threads} thread(s): parameter ${i} after 4 Adam steps`);
          sameBits(p, reference[i]!, `${threads} thread(s): parameter ${i} equals the 1-thread run`);
        }
      }
    });
  } finally {
    tg.backend.setThreads(before);
  }
});
