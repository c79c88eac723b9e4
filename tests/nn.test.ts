/**
 * @file nn functional ops and losses: every PyTorch golden case in tests/golden/nn.json
 * (written by generate_nn.py: forward values, input gradients, in-place running-stat updates),
 * then gradcheck in float64 for each functional op and loss, and their argument errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";
import { assertClose, fromJson, type TensorJson } from "./nn-golden.ts";

interface GoldenCase {
  name: string;
  fn: string;
  inputs: (TensorJson & { requiresGrad: boolean })[];
  args: unknown[];
  output: TensorJson;
  gradOutput?: TensorJson;
  grads?: (TensorJson | null)[];
  after?: Record<string, TensorJson>;
  tol: { rtol: number; atol: number };
}

const golden = JSON.parse(readFileSync(new URL("./golden/nn.json", import.meta.url), "utf8")) as { cases: GoldenCase[] };

function resolveArgs(arg: unknown, xs: tg.Tensor[]): unknown {
  if (typeof arg === "string" && arg.startsWith("$")) return xs[Number(arg.slice(1))];
  if (Array.isArray(arg)) return arg.map((a) => resolveArgs(a, xs));
  if (arg !== null && typeof arg === "object") return Object.fromEntries(Object.entries(arg).map(([k, v]) => [k, resolveArgs(v, xs)]));
  return arg;
}

type AnyFn = (...args: unknown[]) => tg.Tensor;

describe("nn golden cases (PyTorch)", () => {
  for (const c of golden.cases) {
    test(c.name, () => {
      const xs = c.inputs.map((j) => {
        const t = fromJson(j);
        return j.requiresGrad ? t.requiresGrad_(true) : t;
      });
      const fn = (tg.F as unknown as Record<string, AnyFn>)[c.fn];
      assert.equal(typeof fn, "function", `tg.F.${c.fn}`);
      const out = fn!(...(resolveArgs(c.args, xs) as unknown[]));
      assert.equal(out.dtype, c.output.dtype, "output dtype");
      assertClose(out, c.output, c.tol, "output");
      for (const [i, j] of Object.entries(c.after ?? {})) assertClose(xs[Number(i)]!, j, c.tol, `input ${i} after the call`);
      if (c.grads) {
        out.backward(c.gradOutput ? fromJson(c.gradOutput) : undefined);
        c.grads.forEach((g, i) => {
          if (g === null) return;
          assert.ok(xs[i]!.grad, `input ${i} has a gradient`);
          assertClose(xs[i]!.grad!, g, c.tol, `grad of input ${i}`);
        });
      }
    });
  }
});

// ------------------------------------------------------------------------------------ gradcheck

const f64 = { dtype: "float64" as const };
tg.manualSeed(1234);
const rnd = (shape: number[], scale = 1) => tg.randn(shape, f64).mul(scale).requiresGrad_(true);
/** Normal values pushed at least `gap` away from every point in `kinks`, so finite differences do not straddle them. */
const away = (shape: number[], gap = 0.05) => {
  const x = tg.randn(shape, f64);
  return tg.where(x.ge(0), x.add(gap), x.sub(gap)).requiresGrad_(true);
};
const probs = (shape: number[]) => tg.rand(shape, f64).mul(0.9).add(0.05).requiresGrad_(true);
const labels = (values: number[] | number[][]) => tg.tensor(values, { dtype: "int32" });
const check = (fn: (...xs: tg.Tensor[]) => tg.Tensor, inputs: tg.Tensor[]) => assert.equal(tg.gradcheck(fn, inputs), true);

describe("gradcheck in float64", () => {
  test("activations", () => {
    check((x) => tg.F.relu(x), [away([3, 4])]);
    check((x) => tg.F.sigmoid(x), [rnd([3, 4], 2)]);
    check((x) => tg.F.tanh(x), [rnd([3, 4])]);
    check((x) => tg.F.gelu(x), [rnd([3, 4], 2)]);
    check((x) => tg.F.gelu(x, { approximate: "tanh" }), [rnd([3, 4], 2)]);
    check((x) => tg.F.leakyRelu(x, 0.2), [away([3, 4])]);
    check((x) => tg.F.softmax(x, 1), [rnd([2, 3, 4], 2)]);
    check((x) => tg.F.logSoftmax(x, -1), [rnd([2, 3, 4], 2)]);
  });

  test("linear", () => {
    check((x, w, b) => tg.F.linear(x, w, b), [rnd([5, 4]), rnd([3, 4]), rnd([3])]);
    check((x, w) => tg.F.linear(x, w), [rnd([2, 3, 4]), rnd([2, 4])]);
  });

  test("dropout with a fixed seed", () => {
    const fn = (x: tg.Tensor) => tg.F.dropout(x, 0.3, true, { generator: new tg.Generator(7) });
    check(fn, [rnd([4, 5])]);
  });

  test("batchNorm (training: batch statistics; eval: running statistics)", () => {
    check((x, w, b) => tg.F.batchNorm(x, null, null, w, b, true), [rnd([6, 3], 2), rnd([3]), rnd([3])]);
    check((x, w, b) => tg.F.batchNorm(x, null, null, w, b, true, 0.1, 1e-3), [rnd([3, 2, 2, 3], 2), rnd([2]), rnd([2])]);
    const rm = tg.tensor([0.1, -0.2, 0.3], f64);
    const rv = tg.tensor([1.5, 0.5, 2], f64);
    check((x, w, b) => tg.F.batchNorm(x, rm, rv, w, b, false), [rnd([4, 3]), rnd([3]), rnd([3])]);
  });

  test("mseLoss, l1Loss, huberLoss", () => {
    for (const reduction of ["mean", "sum", "none"] as const) {
      check((x, y) => tg.F.mseLoss(x, y, { reduction }), [rnd([3, 4]), rnd([3, 4])]);
      const target = tg.randn([3, 4], f64);
      check((x) => tg.F.l1Loss(x, target, { reduction }), [away([3, 4]).detach().add(target).requiresGrad_(true)]);
    }
    // Huber: differences well inside (|d| < 0.4) and well outside (|d| > 1.6) the delta = 1 kink
    const d = tg.tensor([0.3, -0.2, 2, -3, 0.1, -1.7], f64);
    const y = tg.randn([6], f64);
    check((x) => tg.F.huberLoss(x, y), [d.add(y).requiresGrad_(true)]);
    check((x) => tg.F.huberLoss(x, y, { delta: 0.5, reduction: "none" }), [d.mul(0.5).add(y).requiresGrad_(true)]);
  });

  test("crossEntropy: class indices (weight, ignoreIndex, label smoothing) and probabilities", () => {
    const t = labels([0, 2, 1, -100, 2]);
    const w = tg.tensor([0.5, 2, 1.5], f64);
    check((x) => tg.F.crossEntropy(x, t), [rnd([5, 3], 2)]);
    check((x) => tg.F.crossEntropy(x, t, { weight: w, labelSmoothing: 0.1 }), [rnd([5, 3], 2)]);
    check((x) => tg.F.crossEntropy(x, labels([0, 2, 1, 1, 2]), { ignoreIndex: 1, reduction: "none", labelSmoothing: 0.2 }), [rnd([5, 3], 2)]);
    check((x) => tg.F.crossEntropy(x, labels([[0, 1], [2, 2]]), { reduction: "sum" }), [rnd([2, 3, 2], 2)]);
    check((x, p) => tg.F.crossEntropy(x, p, { labelSmoothing: 0.1, weight: w }), [rnd([4, 3], 2), probs([4, 3])]);
  });

  test("nllLoss", () => {
    const w = tg.tensor([0.5, 2, 1.5], f64);
    check((x) => tg.F.nllLoss(x, labels([0, 2, 1, 2]), { weight: w }), [rnd([4, 3])]);
    check((x) => tg.F.nllLoss(x, labels([0, 2, -100, 2]), { reduction: "none" }), [rnd([4, 3])]);
  });

  test("binaryCrossEntropy and binaryCrossEntropyWithLogits", () => {
    check((p, y) => tg.F.binaryCrossEntropy(p, y), [probs([3, 4]), probs([3, 4])]);
    const w = tg.tensor([0.5, 1, 2, 1.5], f64);
    const y = tg.rand([3, 4], f64);
    check((p) => tg.F.binaryCrossEntropy(p, y, { weight: w, reduction: "sum" }), [probs([3, 4])]);
    check((x, y) => tg.F.binaryCrossEntropyWithLogits(x, y), [rnd([3, 4], 3), probs([3, 4])]);
    const pw = tg.tensor([1, 2, 3, 0.5], f64);
    check((x, y) => tg.F.binaryCrossEntropyWithLogits(x, y, { posWeight: pw, weight: w, reduction: "none" }), [rnd([3, 4], 3), probs([3, 4])]);
  });
});

// ------------------------------------------------------------------------------------ behaviour and errors

describe("functional behaviour", () => {
  test("softmax of [1000, 1001] is finite (the overflow guard)", () => {
    const s = tg.F.softmax(tg.tensor([1000, 1001]), 0).toArray() as number[];
    assert.ok(Math.abs(s[0]! - 0.2689414) < 1e-6 && Math.abs(s[1]! - 0.7310586) < 1e-6);
  });

  test("binaryCrossEntropy at p = 0 and 1: loss clamped at 100, PyTorch's gradient (p − y) / max(p(1 − p), 1e-12)", () => {
    const p = tg.tensor([0, 1, 0, 1], { dtype: "float64", requiresGrad: true });
    const loss = tg.F.binaryCrossEntropy(p, tg.tensor([1, 0, 0, 1], f64), { reduction: "none" });
    assert.deepEqual((loss.toArray() as number[]).map((v) => v + 0), [100, 100, 0, 0]);
    loss.sum().backward();
    const eps = Math.fround(1e-12); // PyTorch's EPSILON is a C++ float
    assert.deepEqual((p.grad!.toArray() as number[]).map((v) => v + 0), [-1 / eps, 1 / eps, 0, 0]);
  });

  test("binaryCrossEntropyWithLogits is stable for huge logits", () => {
    const x = tg.tensor([1e4, -1e4, 0], { requiresGrad: true });
    const loss = tg.F.binaryCrossEntropyWithLogits(x, tg.tensor([0, 1, 1]), { reduction: "none" });
    const v = loss.toArray() as number[];
    assert.deepEqual([v[0], v[1]], [1e4, 1e4]);
    assert.ok(Math.abs(v[2]! - Math.LN2) < 1e-6);
    loss.sum().backward();
    assert.deepEqual(p(x.grad!), [1, -1, -0.5]);
  });

  test("the lectures' MSE with ½: mseLoss / 2", () => {
    const e = tg.F.mseLoss(tg.tensor([1.02, 2.29], f64), tg.tensor([2, 4], f64)).div(2).item();
    assert.ok(Math.abs(e - 0.971125) < 1e-12);
  });

  test("one-hot targets give the same cross entropy as class indices", () => {
    const x = tg.randn([4, 5]);
    const t = labels([1, 0, 4, 2]);
    const a = tg.F.crossEntropy(x, t).item();
    const b = tg.F.crossEntropy(x, tg.oneHot(t, 5).to("float32")).item();
    assert.ok(Math.abs(a - b) < 1e-6);
  });

  test("losses name themselves and the shapes in errors", () => {
    const x = tg.zeros([4, 3]);
    assert.throws(() => tg.F.mseLoss(x, tg.zeros([4])), /mseLoss: input shape \[4,3\] and target shape \[4\]/);
    assert.throws(() => tg.F.l1Loss(x, tg.zeros([3, 4])), /l1Loss: .*\[4,3\].*\[3,4\]/);
    assert.throws(() => tg.F.huberLoss(x, x, { delta: 0 }), /huberLoss: delta/);
    assert.throws(() => tg.F.mseLoss(x, x, { reduction: "avg" as never }), /mseLoss: reduction must be/);
    assert.throws(() => tg.F.crossEntropy(x, tg.zeros([4])), /crossEntropy: class-index targets must be int32, got dtype float32/);
    assert.throws(() => tg.F.crossEntropy(x, labels([0, 1, 2])), /crossEntropy: target shape \[3\] does not fit input shape \[4,3\]/);
    assert.throws(() => tg.F.crossEntropy(x, labels([0, 1, 2, 3])), /crossEntropy: target 3 is out of bounds for 3 classes/);
    assert.throws(() => tg.F.crossEntropy(x, tg.zeros([4, 3], { dtype: "int32" })), /crossEntropy: .*must be floating point, got dtype int32/);
    assert.throws(() => tg.F.crossEntropy(x, tg.zeros([4, 3]), { ignoreIndex: 0 }), /ignoreIndex is not supported for probability targets/);
    assert.throws(() => tg.F.crossEntropy(x, labels([0, 1, 2, 0]), { weight: tg.ones([4]) }), /crossEntropy: weight .* must have shape \[3\], got \[4\]/);
    assert.throws(() => tg.F.crossEntropy(x, labels([0, 1, 2, 0]), { labelSmoothing: 1.5 }), /labelSmoothing/);
    assert.throws(() => tg.F.nllLoss(x, labels([0, 1, 2, 7])), /nllLoss: target 7 is out of bounds/);
    assert.throws(() => tg.F.nllLoss(x.to("int32"), labels([0, 1, 2, 0])), /nllLoss: input must be a floating-point tensor, got dtype int32/);
    assert.throws(() => tg.F.binaryCrossEntropy(tg.tensor([0.5, 1.5]), tg.tensor([1, 0])), /binaryCrossEntropy: every input element must be a probability/);
    assert.throws(() => tg.F.binaryCrossEntropy(tg.tensor([0.5]), tg.tensor([1, 0])), /binaryCrossEntropy: input shape \[1\] and target shape \[2\]/);
    assert.throws(() => tg.F.binaryCrossEntropyWithLogits(x, x, { posWeight: tg.ones([4]) }), /binaryCrossEntropyWithLogits: /);
    assert.throws(() => tg.F.mseLoss(x, x.gt(0)), /mseLoss: target must be numeric, got dtype bool/);
  });

  test("linear, batchNorm and dropout check their arguments", () => {
    assert.throws(() => tg.F.linear(tg.zeros([2, 3]), tg.zeros([4, 5])), /linear: input shape \[2,3\] does not fit weight shape \[4,5\]/);
    assert.throws(() => tg.F.linear(tg.zeros([2, 5]), tg.zeros([4, 5]), tg.zeros([5])), /linear: bias must have shape \[4\]/);
    assert.throws(() => tg.F.batchNorm(tg.zeros([1, 3]), null, null, null, null, true), /more than 1 value per channel when training, got input of shape \[1,3\]/);
    assert.throws(() => tg.F.batchNorm(tg.zeros([4, 3]), tg.zeros([2]), tg.ones([3]), null, null, true), /batchNorm: runningMean .*\[3\], got \[2\]/);
    assert.throws(() => tg.F.batchNorm(tg.zeros([4, 3]), null, null), /runningMean and runningVar must be given/);
    assert.throws(() => tg.F.dropout(tg.zeros([2]), 1.5), /dropout: probability has to be between 0 and 1, but got 1.5/);
  });
});

function p(t: tg.Tensor): number[] {
  return (t.toArray() as number[]).map((v) => Math.round(v * 1e6) / 1e6);
}
