/**
 * @file `tg.nn.init` and dropout statistics: PyTorch's gain table and fan rule, sample mean and
 * variance of every random initialiser within statistical tolerance of its formula on
 * ≥ 100k-element tensors, reproducibility under manualSeed, and dropout's keep rate and scaling.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";

const { init } = tg.nn;
const gains = (JSON.parse(readFileSync(new URL("./golden/nn.json", import.meta.url), "utf8")) as { gains: Record<string, number> }).gains;

function stats(t: tg.Tensor): { mean: number; variance: number; min: number; max: number } {
  const d = t.dataSync();
  let s = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of d) {
    s += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / d.length;
  let ss = 0;
  for (const v of d) ss += (v - mean) ** 2;
  return { mean, variance: ss / d.length, min, max };
}

/**
 * Mean within 5 standard errors of 0, variance within 5 standard errors of `variance`
 * (kurtosis 1.8 for uniform, 3 for normal samples).
 */
function assertDistribution(t: tg.Tensor, variance: number, kind: "uniform" | "normal", what: string): void {
  const n = t.numel();
  assert.ok(n >= 100_000, `${what}: at least 100k samples`);
  const s = stats(t);
  const kurtosis = kind === "uniform" ? 1.8 : 3;
  assert.ok(Math.abs(s.mean) < 5 * Math.sqrt(variance / n), `${what}: mean ${s.mean}`);
  const relErr = Math.abs(s.variance / variance - 1);
  assert.ok(relErr < 5 * Math.sqrt((kurtosis - 1) / n), `${what}: variance ${s.variance}, expected ${variance} (relative error ${relErr})`);
  if (kind === "uniform") {
    const bound = Math.sqrt(3 * variance);
    assert.ok(s.min >= -bound && s.max <= bound, `${what}: samples inside ±${bound}`);
    assert.ok(s.max > 0.999 * bound && s.min < -0.999 * bound, `${what}: samples reach the bounds`);
  }
}

describe("nn.init", () => {
  test("calculateGain is PyTorch's table", () => {
    for (const [key, expected] of Object.entries(gains)) {
      const [name, param] = key.split(":");
      const got = init.calculateGain(name as tg.nn.init.Nonlinearity, param === undefined ? undefined : Number(param));
      assert.ok(Math.abs(got - expected) < 1e-15, `${key}: ${got} vs ${expected}`);
    }
    assert.equal(init.calculateGain("leakyRelu", 0.2), init.calculateGain("leaky_relu", 0.2));
    assert.throws(() => init.calculateGain("softplus" as never), /calculateGain: unsupported nonlinearity "softplus"/);
  });

  test("fan in / fan out as PyTorch computes them, conv weights included", () => {
    assert.deepEqual(init.calculateFanInAndFanOut(tg.zeros([128, 784])), { fanIn: 784, fanOut: 128 });
    assert.deepEqual(init.calculateFanInAndFanOut(tg.zeros([64, 32, 3, 3])), { fanIn: 288, fanOut: 576 });
    assert.throws(() => init.xavierUniform(tg.zeros([5])), /fewer than 2 dims, got shape \[5\]/);
  });

  test("xavierUniform / xavierNormal: Var = gain²·2/(fanIn + fanOut)", () => {
    tg.manualSeed(1);
    const w = tg.zeros([400, 300]);
    assertDistribution(init.xavierUniform(w), 2 / 700, "uniform", "xavierUniform");
    assertDistribution(init.xavierUniform(w, { gain: 5 / 3 }), (25 / 9) * (2 / 700), "uniform", "xavierUniform gain 5/3");
    assertDistribution(init.xavierNormal(w), 2 / 700, "normal", "xavierNormal");
  });

  test("kaimingUniform / kaimingNormal: Var = gain²/fan (fanIn or fanOut), conv weights", () => {
    tg.manualSeed(2);
    const w = tg.zeros([128, 96, 3, 3]); // fanIn 864, fanOut 1152, 110 592 elements
    assertDistribution(init.kaimingUniform(w), 2 / 864, "uniform", "kaimingUniform default (leaky_relu, a=0)");
    assertDistribution(init.kaimingUniform(w, { a: Math.sqrt(5) }), 1 / (3 * 864), "uniform", "kaimingUniform a=√5 (Linear/Conv default)");
    assertDistribution(init.kaimingNormal(w, { mode: "fanOut", nonlinearity: "relu" }), 2 / 1152, "normal", "kaimingNormal fanOut relu");
    assertDistribution(init.kaimingNormal(w, { mode: "fan_in", nonlinearity: "tanh" }), 25 / 9 / 864, "normal", "kaimingNormal tanh");
    assert.throws(() => init.kaimingUniform(w, { mode: "fanAll" as never }), /kaimingUniform: mode must be "fanIn" or "fanOut"/);
  });

  test("uniform, normal, constants, eye", () => {
    tg.manualSeed(3);
    const t = tg.zeros([100_000], { dtype: "float64" });
    assertDistribution(init.uniform(t, { a: -2, b: 2 }), 16 / 12, "uniform", "uniform(−2, 2)");
    const n = init.normal(t, { mean: 3, std: 0.5 });
    assertDistribution(n.sub(3), 0.25, "normal", "normal(3, 0.5)");
    assert.ok(stats(init.uniform(t)).min >= 0);
    assert.deepEqual(init.zeros(tg.ones([2])).toArray(), [0, 0]);
    assert.deepEqual(init.ones(tg.zeros([2])).toArray(), [1, 1]);
    assert.deepEqual(init.constant(tg.zeros([2]), 0.5).toArray(), [0.5, 0.5]);
    assert.deepEqual(init.eye(tg.zeros([2, 3])).toArray(), [[1, 0, 0], [0, 1, 0]]);
  });

  test("initialisers work in place on parameters, outside the graph", () => {
    const fc = new tg.nn.Linear(3, 2);
    const data = fc.weight.data;
    init.xavierNormal(fc.weight);
    init.zeros(fc.bias!);
    assert.equal(fc.weight.data, data, "same storage");
    assert.ok(fc.weight.requiresGrad && fc.weight.isLeaf);
    assert.deepEqual(fc.bias!.toArray(), [0, 0]);
  });

  test("reproducible with manualSeed, independent with a generator", () => {
    const draw = () => init.kaimingUniform(tg.zeros([50, 40])).dataSync();
    tg.manualSeed(42);
    const a = draw();
    tg.manualSeed(42);
    assert.deepEqual(draw(), a);
    assert.notDeepEqual(draw(), a);
    const g1 = init.normal(tg.zeros([10]), { generator: new tg.Generator(5) }).toArray();
    const g2 = init.normal(tg.zeros([10]), { generator: new tg.Generator(5) }).toArray();
    assert.deepEqual(g1, g2);
    tg.manualSeed(7);
    const l1 = new tg.nn.Linear(5, 3).weight.toArray();
    tg.manualSeed(7);
    assert.deepEqual(new tg.nn.Linear(5, 3).weight.toArray(), l1);
  });

  test("Linear's default init: weight and bias ~ U(±1/√in)", () => {
    tg.manualSeed(4);
    const fc = new tg.nn.Linear(400, 300);
    assertDistribution(fc.weight, 1 / (3 * 400), "uniform", "Linear.weight");
    const b = stats(fc.bias!);
    assert.ok(b.max <= 1 / 20 && b.min >= -1 / 20);
  });
});

describe("dropout statistics", () => {
  for (const p of [0.1, 0.5, 0.8]) {
    test(`p = ${p}: keep rate 1 − p and survivors scaled by 1/(1 − p)`, () => {
      tg.manualSeed(11);
      const n = 200_000;
      const y = tg.F.dropout(tg.ones([n]), p).dataSync();
      let kept = 0;
      for (const v of y) {
        if (v !== 0) {
          kept++;
          assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6);
        }
      }
      const rate = kept / n;
      assert.ok(Math.abs(rate - (1 - p)) < 5 * Math.sqrt((p * (1 - p)) / n), `keep rate ${rate}`);
      const mean = Array.from(y, Number).reduce((s, v) => s + v, 0) / n;
      assert.ok(Math.abs(mean - 1) < 5 * Math.sqrt(p / (1 - p) / n), `mean ${mean} (expected 1)`);
    });
  }

  test("the mask is reproducible with manualSeed and gradients use the same mask", () => {
    tg.manualSeed(5);
    const x = tg.randn([1000], { requiresGrad: true });
    tg.manualSeed(9);
    const y = tg.F.dropout(x, 0.5);
    tg.manualSeed(9);
    assert.deepEqual(tg.F.dropout(x, 0.5).toArray(), y.toArray());
    y.sum().backward();
    const g = x.grad!.dataSync();
    const yv = y.dataSync();
    const xv = x.dataSync();
    for (let i = 0; i < g.length; i++) assert.equal(g[i], yv[i] === 0 && xv[i] !== 0 ? 0 : 2);
  });

  test("p = 0, eval and p = 1", () => {
    const x = tg.randn([10]);
    assert.equal(tg.F.dropout(x, 0), x);
    assert.equal(tg.F.dropout(x, 0.5, false), x);
    assert.deepEqual(
      (tg.F.dropout(x, 1).toArray() as number[]).map((v) => v + 0),
      new Array(10).fill(0),
    );
  });
});
