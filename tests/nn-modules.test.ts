/**
 * @file nn layers and Module behaviour against PyTorch (tests/golden/nn.json): the printed text,
 * state-dict keys and values, a training and an eval step of Sequential(Linear, BatchNorm1d, ReLU,
 * Linear), multi-step BatchNorm runs; plus containers, loadStateDict strict/non-strict, train/eval,
 * and the lectures' hand-weighted networks (CURRICULUM §1).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";
import { assertClose, fromJson, type TensorJson } from "./nn-golden.ts";

type StateJson = Record<string, TensorJson>;

interface Golden {
  modules: {
    sequential: {
      repr: string;
      stateDictKeys: string[];
      namedParameters: string[];
      state: StateJson;
      xTrain: TensorJson;
      labels: TensorJson;
      outTrain: TensorJson;
      loss: number;
      grads: StateJson;
      stateAfterTrain: StateJson;
      xEval: TensorJson;
      outEval: TensorJson;
    };
  };
  batchnorm: {
    kind: "BatchNorm1d" | "BatchNorm2d";
    options: tg.nn.BatchNormOptions;
    repr: string;
    init: StateJson;
    trainInputs: TensorJson[];
    trainOutputs: TensorJson[];
    stateAfterTrain: StateJson;
    evalInput: TensorJson;
    evalOutput: TensorJson;
  }[];
  reprs: Record<string, string>;
  lossBuffers: Record<string, string[]>;
}

const golden = JSON.parse(readFileSync(new URL("./golden/nn.json", import.meta.url), "utf8")) as Golden;
const TOL = { rtol: 2e-5, atol: 2e-6 };
const stateOf = (j: StateJson): tg.nn.StateDict => Object.fromEntries(Object.entries(j).map(([k, v]) => [k, fromJson(v)]));

function assertState(m: tg.nn.Module, expected: StateJson, what: string): void {
  const sd = m.stateDict();
  assert.deepEqual(Object.keys(sd), Object.keys(expected), `${what}: keys`);
  for (const [k, v] of Object.entries(expected)) {
    assert.equal(sd[k]!.dtype, v.dtype, `${what}: dtype of ${k}`);
    assertClose(sd[k]!, v, TOL, `${what}: ${k}`);
  }
}

const mlp = () => new tg.nn.Sequential(new tg.nn.Linear(4, 8), new tg.nn.BatchNorm1d(8), new tg.nn.ReLU(), new tg.nn.Linear(8, 3));

describe("Sequential(Linear, BatchNorm1d, ReLU, Linear) against PyTorch", () => {
  const g = golden.modules.sequential;

  test("toString, namedParameters and stateDict keys are PyTorch's", () => {
    const model = mlp();
    assert.equal(model.toString(), g.repr);
    assert.deepEqual(
      model.namedParameters().map(([n]) => n),
      g.namedParameters,
    );
    assert.deepEqual(Object.keys(model.stateDict()), g.stateDictKeys);
    assert.equal(model.stateDict()["1.num_batches_tracked"]!.dtype, "int32"); // PyTorch: int64
  });

  test("a training step (forward, loss, gradients, running stats) and an eval step", () => {
    const model = mlp();
    assert.deepEqual(model.loadStateDict(stateOf(g.state)), { missingKeys: [], unexpectedKeys: [] });
    const out = model.call(fromJson(g.xTrain)) as tg.Tensor;
    assertClose(out, g.outTrain, TOL, "train output");
    const loss = new tg.nn.CrossEntropyLoss().call(out, fromJson(g.labels)) as tg.Tensor;
    assert.ok(Math.abs(loss.item() - g.loss) < 1e-5);
    loss.backward();
    for (const [name, p] of model.namedParameters()) assertClose(p.grad!, g.grads[name]!, TOL, `grad of ${name}`);
    assertState(model, g.stateAfterTrain, "after one training step");
    model.eval();
    assertClose(model.call(fromJson(g.xEval)) as tg.Tensor, g.outEval, TOL, "eval output");
  });

  test("loadStateDict: strict by default, non-strict reports the keys, shapes always checked", () => {
    const model = mlp();
    const sd = stateOf(g.state);
    const { "1.running_mean": _dropped, ...partial } = sd;
    assert.throws(() => model.loadStateDict(partial), /missing: 1\.running_mean/);
    assert.throws(() => model.loadStateDict({ ...sd, "9.weight": tg.zeros([1]) }), /unexpected: 9\.weight/);
    const r = model.loadStateDict({ ...partial, extra: tg.zeros([1]) }, { strict: false });
    assert.deepEqual(r, { missingKeys: ["1.running_mean"], unexpectedKeys: ["extra"] });
    assertClose((model.at(0) as tg.nn.Linear).weight, g.state["0.weight"]!, { rtol: 0, atol: 0 }, "loaded weight");
    assert.throws(() => model.loadStateDict({ ...sd, "0.bias": tg.zeros([3]) }), /size mismatch for "0\.bias"/);
  });

  test("train() / eval() reach every descendant; dropout and batch norm follow them", () => {
    const model = new tg.nn.Sequential(new tg.nn.Linear(3, 3), new tg.nn.Sequential(new tg.nn.Dropout(0.5), new tg.nn.BatchNorm1d(3)));
    model.eval();
    assert.ok(model.modules().every((m) => !m.training));
    const x = tg.randn([4, 3]);
    const inner = model.at(1) as tg.nn.Sequential;
    assert.equal(inner.at(0).call(x), x, "Dropout in eval mode is the identity");
    const bn = inner.at(1) as tg.nn.BatchNorm1d;
    bn.call(x);
    assert.equal(bn.numBatchesTracked!.item(), 0, "eval does not count batches");
    model.train();
    assert.ok(model.modules().every((m) => m.training));
    bn.call(x);
    assert.equal(bn.numBatchesTracked!.item(), 1);
  });
});

describe("BatchNorm1d / BatchNorm2d multi-step runs against PyTorch", () => {
  for (const c of golden.batchnorm) {
    test(c.repr, () => {
      const Layer = c.kind === "BatchNorm1d" ? tg.nn.BatchNorm1d : tg.nn.BatchNorm2d;
      const n = c.trainInputs[0]!.shape[1]!;
      const bn = new Layer(n, c.options);
      assert.equal(bn.toString(), c.repr);
      bn.loadStateDict(stateOf(c.init));
      for (const [i, x] of c.trainInputs.entries()) assertClose(bn.call(fromJson(x)), c.trainOutputs[i]!, TOL, `training step ${i}`);
      assertState(bn, c.stateAfterTrain, "after training");
      bn.eval();
      assertClose(bn.call(fromJson(c.evalInput)), c.evalOutput, TOL, "eval output");
    });
  }

  test("camelCase getters share storage with the buffers; resetRunningStats", () => {
    const bn = new tg.nn.BatchNorm2d(2);
    bn.call(tg.randn([3, 2, 4, 4]).add(5));
    assert.equal(bn.runningMean, bn.running_mean);
    assert.equal(bn.stateDict().running_var!.data, bn.runningVar!.data);
    assert.ok((bn.runningMean!.toArray() as number[]).every((v) => v > 0.3));
    bn.resetRunningStats();
    assert.deepEqual(bn.runningMean!.toArray(), [0, 0]);
    assert.deepEqual(bn.runningVar!.toArray(), [1, 1]);
    assert.equal(bn.numBatchesTracked!.item(), 0);
  });

  test("input rank is checked", () => {
    assert.throws(() => new tg.nn.BatchNorm1d(3).call(tg.zeros([2, 3, 4, 4])), /BatchNorm1d: expected 2D or 3D input/);
    assert.throws(() => new tg.nn.BatchNorm2d(3).call(tg.zeros([2, 3])), /BatchNorm2d: expected 4D input/);
  });
});

describe("layer text and buffers", () => {
  const make: Record<string, () => tg.nn.Module> = {
    "Linear(3, 2, bias=False)": () => new tg.nn.Linear(3, 2, { bias: false }),
    "Flatten()": () => new tg.nn.Flatten(),
    "Dropout(0.25)": () => new tg.nn.Dropout(0.25),
    "Dropout()": () => new tg.nn.Dropout(),
    "BatchNorm2d(16, momentum=None, affine=False)": () => new tg.nn.BatchNorm2d(16, { momentum: null, affine: false }),
    "BatchNorm1d(4, eps=0.001)": () => new tg.nn.BatchNorm1d(4, { eps: 0.001 }),
    "LeakyReLU(0.2)": () => new tg.nn.LeakyReLU(0.2),
    "LeakyReLU()": () => new tg.nn.LeakyReLU(),
    "GELU()": () => new tg.nn.GELU(),
    "Softmax(1)": () => new tg.nn.Softmax(1),
    "LogSoftmax(-1)": () => new tg.nn.LogSoftmax(-1),
    "Identity()": () => new tg.nn.Identity(),
    "Sigmoid()": () => new tg.nn.Sigmoid(),
    "Tanh()": () => new tg.nn.Tanh(),
    "ReLU()": () => new tg.nn.ReLU(),
    "MSELoss()": () => new tg.nn.MSELoss(),
    "CrossEntropyLoss()": () => new tg.nn.CrossEntropyLoss(),
    "BCEWithLogitsLoss()": () => new tg.nn.BCEWithLogitsLoss(),
    "Sequential(Linear(2, 3), Sequential(ReLU(), Linear(3, 1)))": () =>
      new tg.nn.Sequential(new tg.nn.Linear(2, 3), new tg.nn.Sequential(new tg.nn.ReLU(), new tg.nn.Linear(3, 1))),
  };
  for (const [key, expected] of Object.entries(golden.reprs)) {
    test(`toString of ${key}`, () => {
      assert.ok(make[key], `no TypeScript construction for ${key}`);
      assert.equal(make[key]!().toString(), expected);
    });
  }

  test("loss weights are buffers, under PyTorch's names", () => {
    const w = tg.ones([3]);
    assert.deepEqual(Object.keys(new tg.nn.CrossEntropyLoss({ weight: w }).stateDict()), golden.lossBuffers["CrossEntropyLoss(weight)"]);
    const bce = new tg.nn.BCEWithLogitsLoss({ weight: w, posWeight: w });
    assert.deepEqual(Object.keys(bce.stateDict()), golden.lossBuffers["BCEWithLogitsLoss(weight, pos_weight)"]);
    assert.deepEqual(Object.keys(new tg.nn.CrossEntropyLoss().stateDict()), []);
    assert.throws(() => new tg.nn.MSELoss({ reduction: "avg" as never }), /MSELoss: reduction must be/);
  });
});

describe("layers", () => {
  test("Linear: PyTorch layout, U(±1/√in) init, no bias on request", () => {
    const fc = new tg.nn.Linear(20, 7);
    assert.deepEqual(fc.weight.shape, [7, 20]);
    assert.deepEqual(fc.bias!.shape, [7]);
    const bound = 1 / Math.sqrt(20);
    for (const v of [...fc.weight.dataSync(), ...fc.bias!.dataSync()]) assert.ok(Math.abs(v) <= bound);
    const x = tg.randn([5, 20]);
    assertClose(fc.call(x), { data: Array.from(x.matmul(fc.weight.t()).add(fc.bias!).dataSync()), shape: [5, 7], dtype: "float32" }, TOL, "x·Wᵀ+b");
    const nb = new tg.nn.Linear(3, 2, { bias: false });
    assert.equal(nb.bias, null);
    assert.deepEqual(Object.keys(nb.stateDict()), ["weight"]);
    assert.equal(new tg.nn.Linear(3, 2, { dtype: "float64" }).weight.dtype, "float64");
    assert.throws(() => new tg.nn.Linear(2.5, 3), /Linear: inFeatures must be a non-negative integer/);
    assert.throws(() => fc.call(tg.zeros([2, 3])), /linear: input shape \[2,3\] does not fit weight shape \[7,20\]/);
  });

  test("activation layers match the functions", () => {
    const x = tg.tensor([[-2, -0.5, 0, 0.5, 2]]);
    const same = (m: tg.nn.Module, y: tg.Tensor) => assert.deepEqual((m.call(x) as tg.Tensor).toArray(), y.toArray());
    same(new tg.nn.ReLU(), x.relu());
    same(new tg.nn.LeakyReLU(0.1), x.leakyRelu(0.1));
    same(new tg.nn.Sigmoid(), x.sigmoid());
    same(new tg.nn.Tanh(), x.tanh());
    same(new tg.nn.GELU(), x.gelu());
    same(new tg.nn.GELU({ approximate: "tanh" }), tg.F.gelu(x, { approximate: "tanh" }));
    same(new tg.nn.Softmax(1), x.softmax(1));
    same(new tg.nn.LogSoftmax(-1), x.logSoftmax(-1));
    same(new tg.nn.Identity(), x);
    assert.deepEqual(new tg.nn.Step().call(x).toArray(), [[0, 0, 0, 1, 1]]);
    assert.equal(new tg.nn.Step().toString(), "Step()");
  });

  test("Flatten keeps the batch dim by default", () => {
    assert.deepEqual(new tg.nn.Flatten().call(tg.zeros([2, 1, 28, 28])).shape, [2, 784]);
    assert.deepEqual(new tg.nn.Flatten(0).call(tg.zeros([2, 3, 4])).shape, [24]);
    assert.deepEqual(new tg.nn.Flatten(1, 2).call(tg.zeros([2, 3, 4, 5])).shape, [2, 12, 5]);
  });

  test("Sequential: children 0, 1, …; at, length, append, iteration, named children", () => {
    const a = new tg.nn.Linear(2, 3);
    const b = new tg.nn.ReLU();
    const seq = new tg.nn.Sequential(a, b);
    assert.equal(seq.length, 2);
    assert.equal(seq.at(0), a);
    assert.equal(seq.at(-1), b);
    assert.throws(() => seq.at(2), /Sequential.at: index 2 is out of range for 2 modules/);
    const c = new tg.nn.Linear(3, 1);
    assert.equal(seq.append(c), seq);
    assert.deepEqual([...seq], [a, b, c]);
    assert.deepEqual(Object.keys(seq.stateDict()), ["0.weight", "0.bias", "2.weight", "2.bias"]);
    const x = tg.randn([4, 2]);
    assert.deepEqual((seq.call(x) as tg.Tensor).toArray(), c.call(b.call(a.call(x))).toArray());
    const named = new tg.nn.Sequential({ fc1: new tg.nn.Linear(2, 2), act: new tg.nn.Tanh() });
    assert.deepEqual(Object.keys(named.stateDict()), ["fc1.weight", "fc1.bias"]);
    assert.ok(named.toString().includes("(act): Tanh()"));
    assert.throws(() => new tg.nn.Sequential(42 as never), /Sequential: "0" is not a Module/);
  });

  test("Residual: y = x + block(x), gradients through both paths", () => {
    const fc = new tg.nn.Linear(3, 3, { bias: false, dtype: "float64" });
    const res = new tg.nn.Residual(fc);
    assert.deepEqual(Object.keys(res.stateDict()), ["block.weight"]);
    const x = tg.randn([2, 3], { dtype: "float64", requiresGrad: true });
    assert.deepEqual(res.call(x).toArray(), x.add(fc.call(x)).toArray());
    assert.ok(tg.gradcheck((v) => res.call(v), [x]));
    res.call(x).sum().backward();
    // d/dx Σ(x + xWᵀ) = 1 + column sums of W
    const colSums = fc.weight.sum(0).add(1);
    assertClose(x.grad!, { data: Array.from(colSums.expand([2, 3]).dataSync()), shape: [2, 3], dtype: "float64" }, { rtol: 1e-12, atol: 1e-12 }, "dx");
  });

  test("Dropout: identity in eval, zeros and 1/(1−p) scaling in training", () => {
    const drop = new tg.nn.Dropout(0.25, { generator: new tg.Generator(3) });
    const x = tg.ones([1000]);
    const y = drop.call(x).dataSync();
    assert.ok(Array.from(y, Number).every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    drop.eval();
    assert.equal(drop.call(x), x);
    assert.throws(() => new tg.nn.Dropout(-0.1), /Dropout: probability has to be between 0 and 1/);
  });

  test("loss modules equal the functions with the same options", () => {
    const x = tg.randn([4, 3]);
    const y = tg.randn([4, 3]);
    const t = tg.tensor([0, 2, 1, 1], { dtype: "int32" });
    const w = tg.tensor([1, 2, 0.5]);
    const eq = (a: tg.Tensor, b: tg.Tensor) => assert.deepEqual(a.toArray(), b.toArray());
    eq(new tg.nn.MSELoss({ reduction: "sum" }).call(x, y), tg.F.mseLoss(x, y, { reduction: "sum" }));
    eq(new tg.nn.L1Loss().call(x, y), tg.F.l1Loss(x, y));
    eq(new tg.nn.HuberLoss({ delta: 0.5 }).call(x, y), tg.F.huberLoss(x, y, { delta: 0.5 }));
    const ceOpts = { weight: w, labelSmoothing: 0.1, ignoreIndex: 2 };
    eq(new tg.nn.CrossEntropyLoss(ceOpts).call(x, t), tg.F.crossEntropy(x, t, ceOpts));
    eq(new tg.nn.NLLLoss({ weight: w, reduction: "none" }).call(x, t), tg.F.nllLoss(x, t, { weight: w, reduction: "none" }));
    const p = x.sigmoid();
    const q = y.sigmoid();
    eq(new tg.nn.BCELoss({ weight: w }).call(p, q), tg.F.binaryCrossEntropy(p, q, { weight: w }));
    eq(new tg.nn.BCEWithLogitsLoss({ posWeight: w }).call(x, q), tg.F.binaryCrossEntropyWithLogits(x, q, { posWeight: w }));
  });
});

describe("the lectures' networks (CURRICULUM §1)", () => {
  /** A Linear layer holding the lecture's NumPy-layout W [in, out] (PyTorch stores Wᵀ) and b. */
  function linearFrom(W: number[][], b: number[]): tg.nn.Linear {
    const fc = new tg.nn.Linear(W.length, W[0]!.length);
    fc.loadStateDict({ weight: tg.tensor(W).t(), bias: tg.tensor(b) });
    return fc;
  }
  const near = (t: tg.Tensor, expected: number[]) => {
    const v = Array.from(t.dataSync());
    assert.equal(v.length, expected.length);
    for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i]! - expected[i]!) < 1e-5, `${v} vs ${expected}`);
  };

  test("u = x·W + b with relu: x=[2,3], W=[[0.1],[0.2]], b=0.5 → [1.3]", () => {
    const fc = linearFrom([[0.1], [0.2]], [0.5]);
    near(fc.call(tg.tensor([2, 3])).relu(), [1.3]);
  });

  test("3-layer forward pass with the given W1..W3, b1..b3 (seed 000 §1.1)", () => {
    const l1 = linearFrom([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]);
    const l2 = linearFrom([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]);
    const l3 = linearFrom([[0.1, 0.3], [0.2, 0.4]], [1, 2]);
    const x = tg.tensor([1, 2]);
    const z1 = l1.call(x).relu();
    const z2 = l2.call(z1).relu();
    near(z1, [0.6, 1.3, 2.0]);
    near(z2, [1.02, 2.29]);
    near(l3.call(z2), [1.56, 3.222]);
    const net = new tg.nn.Sequential(l1, new tg.nn.ReLU(), l2, new tg.nn.ReLU(), l3);
    near(net.call(tg.tensor([[1, 2]])), [1.56, 3.222]);
  });

  test("2-3-2 regression network and mean_squared_error = mean((d − y)²)/2 → 0.971125", () => {
    const net = new tg.nn.Sequential(
      linearFrom([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], [0.1, 0.2, 0.3]),
      new tg.nn.ReLU(),
      linearFrom([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], [0.1, 0.2]),
    );
    const y = net.call(tg.tensor([1, 2]));
    near(y, [1.02, 2.29]);
    near(tg.F.mseLoss(y, tg.tensor([2, 4])).div(2), [0.971125]);
  });
});
