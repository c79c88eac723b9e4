/**
 * @file Conformance at the level users see, on every backend against js: a small MLP trains to
 * the same losses; Adam, AdamW, AMSGrad and maximize step bit for bit (parameters made on the
 * backend or on js); matmul with broadcast batches, 1-D operands and transposes, and a conv /
 * pool / gather / where graph, forward and backward; F.conv2d as one recorded fused op whose
 * gradients, needed-only gradients and second order (createGraph) equal the composed path's; and
 * the PyTorch golden suites run with each backend active.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import * as tg from "../../src/index.ts";
import { childEnv } from "../gemm-helpers.ts";
import { withoutFused } from "../fused-access.ts";
import { onBackend } from "../tensor-helpers.ts";
import { FAST_TARGETS, type Target } from "./backends.ts";

const arrays = (ts: readonly tg.Tensor[]): number[][] => ts.map((t) => Array.from(t.dataSync() as ArrayLike<number>));

/** Every element of `got` within `tol`·(1 + |want|) of `want`. */
function near(got: number[][], want: number[][], what: string, tol = 1e-4): void {
  assert.equal(got.length, want.length, `${what}: outputs`);
  for (const [i, xs] of got.entries()) {
    assert.equal(xs.length, want[i]!.length, `${what}: output ${i} length`);
    for (const [k, v] of xs.entries())
      if (!(Math.abs(v - want[i]![k]!) <= tol * (1 + Math.abs(want[i]![k]!)))) assert.fail(`${what}: output ${i}[${k}] is ${v}, js gives ${want[i]![k]}`);
  }
}

function mlpLosses(): number[] {
  tg.manualSeed(42);
  const x = tg.randn([64, 20]);
  const target = x.narrow(1, 0, 5).sum(1).gt(0).to("int32");
  const model = new tg.nn.Sequential(new tg.nn.Linear(20, 33), new tg.nn.ReLU(), new tg.nn.Linear(33, 17), new tg.nn.Tanh(), new tg.nn.Linear(17, 2));
  const opt = new tg.optim.Adam(model.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    const loss = tg.F.crossEntropy(model.call(x) as tg.Tensor, target);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

/** Parameters made on `make`, stepped on `run` by `Opt` for 4 steps with seeded gradients (an exact zero, −0 and a huge one among them). */
function adamSteps(run: string, make: string, Opt: typeof tg.optim.Adam | typeof tg.optim.AdamW, opts: Partial<tg.optim.AdamOptions>, seed: number): Float32Array[] {
  const g = new tg.Generator(seed);
  // 1031 and 3001 elements: SIMD pairs and a scalar tail; a tiny one and a matrix
  const params = onBackend(make, () => [[1031], [3], [3001], [70, 50]].map((shape) => new tg.nn.Parameter(tg.randn(shape, { generator: g }))));
  return onBackend(run, () => {
    const opt = new Opt(params, { lr: 0.01, ...opts });
    for (let step = 0; step < 4; step++) {
      for (const p of params) {
        const grad = tg.randn(p.shape as number[], { generator: g });
        if (step === 2) (grad.data as Float32Array).set([0, -0, 1e30].slice(0, grad.data.length));
        p.grad = grad;
      }
      opt.step();
    }
    return params.map((p) => Float32Array.from(p.dataSync() as Float32Array));
  });
}

function matmulGraph(): number[][] {
  tg.manualSeed(3);
  const a = tg.randn([2, 1, 33, 7], { requiresGrad: true });
  const b = tg.randn([3, 7, 17], { requiresGrad: true });
  const v = tg.randn([17], { requiresGrad: true });
  const y = tg.matmul(a, b).matmul(v).sum().add(tg.matmul(b.transpose(1, 2), a.squeeze(1).narrow(0, 0, 1).transpose(1, 2)).sum());
  y.backward();
  return arrays([y, a.grad!, b.grad!, v.grad!]);
}

function convPoolGraph(): number[][] {
  tg.manualSeed(7);
  const x = tg.randn([2, 3, 6, 6], { requiresGrad: true });
  const w = tg.randn([4, 3, 3, 3], { requiresGrad: true });
  const y = tg.F.conv2d(x, w, null, { padding: 1 }).relu();
  const pooled = tg.F.maxPool2d(y, 2).add(tg.F.avgPool2d(y, 2));
  const flat = pooled.flatten(1);
  const z = tg.cat([flat.sigmoid(), flat.tanh()], 1);
  const g = tg.gather(z.narrow(1, 0, 3), 1, tg.tensor([[0, 1], [2, 0]], { dtype: "int32" }));
  const s = tg.where(z.gt(0), z, z.mul(0.1)).sum(1).add(g.sum(1)).max();
  s.backward();
  return arrays([s, pooled, g, x.grad!, w.grad!]);
}

const CONV_KERNELS = ["conv2d", "conv2dBackwardInput", "conv2dBackwardWeight"] as const;

for (const t of FAST_TARGETS)
  describe(`${t.name}: models and optimizers against js`, () => {
    test("a small MLP trains to the same losses", () => {
      const want = onBackend("js", mlpLosses);
      assert.ok(want[29]! < 0.5 * want[0]!, `the model should learn (js losses ${want[0]} → ${want[29]})`);
      near([onBackend(t.name, mlpLosses)], [want], "losses");
    });

    test("Adam, AdamW, AMSGrad, maximize: bit for bit, parameters made on the backend or on js", () => {
      const configs: Partial<tg.optim.AdamOptions>[] = [{}, { weightDecay: 0.1 }, { amsgrad: true }, { maximize: true, betas: [0.8, 0.99] }];
      for (const [i, opts] of configs.entries())
        for (const Opt of [tg.optim.Adam, tg.optim.AdamW])
          for (const make of [t.name, "js"]) {
            const want = adamSteps("js", "js", Opt, opts, 99 + i);
            const got = adamSteps(t.name, make, Opt, opts, 99 + i);
            for (const [k, w] of want.entries())
              for (let e = 0; e < w.length; e++)
                if (!Object.is(got[k]![e], w[e])) assert.fail(`${Opt.name} ${JSON.stringify(opts)} (made on ${make}): param ${k}[${e}] is ${got[k]![e]}, js gives ${w[e]}`);
          }
    });

    test("matmul with broadcast batch dims, 1-D operands and transposes, forward and backward", () => {
      near(onBackend(t.name, matmulGraph), onBackend("js", matmulGraph), "matmul graph");
    });

    test("conv, pooling, cat, gather, where and reductions, forward and backward", () => {
      near(onBackend(t.name, convPoolGraph), onBackend("js", convPoolGraph), "conv graph");
    });
  });

/** `body` on t, with t's fused conv kernels and with them removed (the composed path). */
function bothPaths<T>(t: Target, body: () => T): [T, T] {
  return onBackend(t.name, () => [body(), withoutFused(t.backend, CONV_KERNELS, body)]);
}

function close(a: tg.Tensor, b: tg.Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = a.dataSync();
  const y = b.dataSync();
  let scale = 1e-3;
  for (const v of y) scale = Math.max(scale, Math.abs(v));
  for (let k = 0; k < x.length; k++) if (!(Math.abs(x[k]! - y[k]!) <= tol * scale)) assert.fail(`${what}: element ${k} is ${x[k]}, the composed path gives ${y[k]}`);
}

const F = tg.nn.functional;
for (const t of FAST_TARGETS.filter((t) => t.backend.fused?.conv2d !== undefined))
  describe(`${t.name}: F.conv2d as one fused op`, () => {
    test("one recorded op whose output and gradients equal the composed path's", () => {
      for (const opts of [{ padding: 1 }, { stride: 2, dilation: [1, 2] as [number, number] }, { padding: "same" as const }]) {
        tg.manualSeed(3);
        const [x0, w0, b0] = [tg.randn([3, 4, 9, 8]), tg.randn([5, 4, 3, 3]), tg.randn([5])];
        const gy = tg.randn(F.conv2d(x0, w0, b0, opts).shape);
        const [fused, composed] = bothPaths(t, () => {
          const [x, w, b] = [x0, w0, b0].map((v) => v.clone().requiresGrad_());
          const y = F.conv2d(x!, w!, b!, opts);
          y.backward(gy);
          return { y, name: y.gradFn?.name, grads: [x!.grad!, w!.grad!, b!.grad!] };
        });
        assert.equal(fused.name, "Conv2dBackward0");
        close(fused.y, composed.y, `${JSON.stringify(opts)}: output`);
        for (const [k, g] of fused.grads.entries()) close(g, composed.grads[k]!, `${JSON.stringify(opts)}: gradient ${k}`);
      }
    });

    test("only the needed gradients: an input that does not require grad, no bias, unbatched", () => {
      tg.manualSeed(4);
      const x = tg.randn([2, 3, 6, 6]);
      const w0 = tg.randn([4, 3, 3, 3]);
      const [fused, composed] = bothPaths(t, () => {
        const w = w0.clone().requiresGrad_();
        F.conv2d(x, w, null, { padding: 1 }).square().sum().backward();
        return [x.grad, w.grad!] as const;
      });
      assert.equal(fused[0], null);
      close(fused[1], composed[1], "weight gradient");
      onBackend(t.name, () => {
        const xu = tg.randn([3, 5, 5], { requiresGrad: true });
        const y = F.conv2d(xu, w0, tg.randn([4]), { stride: 2 });
        assert.deepEqual(y.shape, [4, 2, 2]);
        y.sum().backward();
        assert.deepEqual(xu.grad!.shape, [3, 5, 5]);
      });
    });

    test("second order through the fused op (createGraph) matches the composed path", () => {
      tg.manualSeed(5);
      const [x0, w0] = [tg.randn([2, 2, 5, 5]), tg.randn([3, 2, 3, 3])];
      const [fused, composed] = bothPaths(t, () => {
        const [x, w] = [x0.clone().requiresGrad_(), w0.clone().requiresGrad_()];
        const [gx] = tg.grad(F.conv2d(x, w, null, { padding: 1 }).square().sum(), [x], { createGraph: true });
        return tg.grad(gx!.square().sum(), [w])[0]!;
      });
      close(fused, composed, "d/dw |d/dx conv|²", 1e-4);
    });
  });

// The suite runs on the default backend (or TG_BACKEND's); the PyTorch golden suites also run
// here with every other backend active, so each meets PyTorch's values in every `npm test`.
const DEFAULT_BACKEND = tg.backend.current();
const FORCED = (process.env.TG_BACKEND ?? "") !== "";
for (const name of tg.backend.list())
  test(`the PyTorch golden suites pass with TG_BACKEND=${name}`, { skip: FORCED ? `TG_BACKEND=${process.env.TG_BACKEND}` : name === DEFAULT_BACKEND && "the whole suite runs on it" }, () => {
    const files = ["tests/golden.test.ts", "tests/conv.test.ts", "tests/nn.test.ts", "tests/optim.test.ts"];
    const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", ...files], { encoding: "utf8", env: childEnv({ TG_BACKEND: name }) });
    const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(r.stdout)?.[1] ?? Number.NaN);
    assert.equal(r.status, 0, `golden suites failed on ${name}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
    assert.ok(count("pass") > 500, `expected the golden suites to run (${count("pass")} passed)`);
    assert.equal(count("fail"), 0);
  });
