/**
 * @file `logSoftmax` as one primitive (the backend's logSoftmax kernel, one `LogSoftmaxBackward0`
 * node, the logSoftmaxBackward kernel outside createGraph): gradchecks on odd shapes, dims and
 * strided inputs, second order, PyTorch's values for rows with −∞ and NaN, and the single node
 * crossEntropy now records.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { jsBackend } from "../src/backend/js/index.ts";
import * as tg from "../src/index.ts";
import { onBackend, sameBits } from "./tensor-helpers.ts";

const gen = new tg.Generator(20251123);
const leaf = (shape: number[]) => tg.randn(shape, { dtype: "float64", generator: gen }).mul(2).requiresGrad_(true);
const ops = (t: tg.Tensor): string[] => tg.viz.describeGraph(t).nodes.map((n) => n.label[0]!);

/** The composition logSoftmax used to be (float64 reference values). */
function composed(x: tg.Tensor, dim: number): tg.Tensor {
  const m = x.detach().amax(dim, true);
  const s = x.sub(m);
  return s.sub(s.exp().sum(dim, true).log());
}

function closeTo(got: tg.Tensor, want: tg.Tensor | number[], tol: number, what: string): void {
  const a = got.dataSync();
  const b = want instanceof tg.Tensor ? want.dataSync() : want;
  assert.equal(a.length, b.length, `${what}: size`);
  for (let i = 0; i < b.length; i++) {
    const [u, v] = [a[i]!, b[i]!];
    if (Number.isNaN(v) || !Number.isFinite(v)) assert.ok(Object.is(u, v), `${what}: element ${i} is ${u}, expected ${v}`);
    else assert.ok(Math.abs(u - v) <= tol * (1 + Math.abs(v)), `${what}: element ${i} is ${u}, expected ${v}`);
  }
}

describe("logSoftmax: gradcheck (float64)", () => {
  const cases: [string, number[], number][] = [
    ["1-D", [5], 0],
    ["1-D, dim -1", [1], -1],
    ["3-D, dim 0", [3, 2, 5], 0],
    ["3-D, dim 1", [2, 7, 3], 1],
    ["3-D, dim 2", [2, 3, 4], 2],
    ["3-D, dim -1", [4, 1, 3], -1],
    ["4-D, dim 1 (crossEntropy's [N, C, d1, d2])", [2, 3, 2, 2], 1],
    ["0-d", [], 0],
  ];
  for (const [name, shape, dim] of cases) {
    test(name, () => {
      const x = leaf(shape);
      const y = x.logSoftmax(dim);
      assert.equal(y.gradFn?.name, "LogSoftmaxBackward0");
      assert.equal(y.dtype, "float64");
      closeTo(y, composed(x, dim), 1e-14, "values");
      assert.equal(tg.gradcheck((t) => t.logSoftmax(dim), [x]), true);
    });
  }
  test("non-contiguous inputs: a transposed view, a permuted 3-D view, a narrowed view", () => {
    const x = leaf([4, 3]);
    assert.ok(!x.t().isContiguous());
    closeTo(x.t().logSoftmax(1), x.t().contiguous().logSoftmax(1), 0, "transposed");
    assert.equal(tg.gradcheck((t) => t.t().logSoftmax(1), [x]), true);
    assert.equal(tg.gradcheck((t) => t.t().logSoftmax(0), [x]), true);
    const z = leaf([2, 3, 4]);
    for (const dim of [0, 1, 2]) {
      closeTo(z.permute(2, 0, 1).logSoftmax(dim), z.permute(2, 0, 1).contiguous().logSoftmax(dim), 0, `permuted, dim ${dim}`);
      assert.equal(tg.gradcheck((t) => t.permute(2, 0, 1).logSoftmax(dim), [z]), true);
    }
    assert.equal(tg.gradcheck((t) => t.narrow(1, 1, 2).logSoftmax(0), [z]), true);
  });
  test("an upstream gradient that is a broadcast view (stride 0), as after mean()", () => {
    const x = leaf([3, 4]);
    assert.equal(tg.gradcheck((t) => t.logSoftmax(1).mean(), [x]), true);
    const [g] = tg.grad(x.logSoftmax(0), [x], { gradOutputs: [tg.tensor([[1, -2, 0.5, 3]], { dtype: "float64" }).expand(3, 4)] });
    const [want] = tg.grad(composed(x, 0), [x], { gradOutputs: [tg.tensor([[1, -2, 0.5, 3]], { dtype: "float64" }).expand(3, 4)] });
    closeTo(g!, want!, 1e-14, "dx");
  });
});

describe("logSoftmax: second order (createGraph composes the backward from differentiable ops)", () => {
  const w = tg.randn([3, 5], { dtype: "float64", generator: gen });
  const firstDerivative =
    (dim: number, transposed = false) =>
    (x: tg.Tensor) => {
      const xs = transposed ? x.t() : x;
      const [g] = tg.grad(xs.logSoftmax(dim).mul(w).sum(), [x], { createGraph: true });
      return g!;
    };
  for (const dim of [0, 1, -1]) test(`dim ${dim}`, () => assert.equal(tg.gradcheck(firstDerivative(dim), [leaf([3, 5])]), true));
  test("transposed input", () => assert.equal(tg.gradcheck(firstDerivative(1, true), [leaf([5, 3])]), true));
  test("the fused backward kernel and the createGraph composition agree", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const x = tg.randn([6, 7], { dtype, generator: gen }).requiresGrad_(true);
      const g = tg.randn([6, 7], { dtype, generator: gen });
      const [fused] = tg.grad(x.logSoftmax(1), [x], { gradOutputs: [g] });
      const [graph] = tg.grad(x.logSoftmax(1), [x], { gradOutputs: [g], createGraph: true });
      assert.equal(fused!.requiresGrad, false);
      assert.equal(graph!.requiresGrad, true);
      closeTo(fused!, graph!.detach(), dtype === "float32" ? 1e-6 : 1e-14, dtype);
    }
  });
});

describe("logSoftmax: −∞ and NaN rows (PyTorch's torch.log_softmax values)", () => {
  const I = Number.POSITIVE_INFINITY;
  // rows: all −∞, one −∞, a NaN, a +∞, only one finite, ordinary
  const rows = [
    [-I, -I, -I],
    [-I, 1, 2],
    [Number.NaN, 1, 2],
    [I, 1, 2],
    [1, -I, -I],
    [1, 2, 3],
  ];
  // torch.log_softmax(x, 1) and x.grad for grad_output rows [1, 2, 3], float64 (torch 2.x)
  const want = [
    [Number.NaN, Number.NaN, Number.NaN],
    [-I, -1.3132616875182228, -0.31326168751822286],
    [Number.NaN, Number.NaN, Number.NaN],
    [Number.NaN, Number.NaN, Number.NaN],
    [0, -I, -I],
    [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804],
  ].flat();
  const wantGrad = [
    [Number.NaN, Number.NaN, Number.NaN],
    [1, 0.3863514717800294, -1.3863514717800294],
    [Number.NaN, Number.NaN, Number.NaN],
    [Number.NaN, Number.NaN, Number.NaN],
    [-5, 2, 3],
    [0.4598165609777174, 0.5316291736712142, -0.9914457346489307],
  ].flat();
  for (const dtype of ["float64", "float32"] as const) {
    const tol = dtype === "float64" ? 1e-15 : 1e-7;
    for (const layout of ["rows", "columns (dim 0 of the transpose)"] as const) {
      test(`${dtype}, ${layout}`, () => {
        const base = layout === "rows" ? tg.tensor(rows, { dtype }) : tg.tensor(rows, { dtype }).t().contiguous();
        const x = base.requiresGrad_(true);
        const view = layout === "rows" ? x : x.t();
        const y = view.logSoftmax(layout === "rows" ? 1 : -1);
        assert.equal(y.dtype, dtype);
        closeTo(y, want, tol, "values");
        y.backward(tg.tensor([[1, 2, 3]], { dtype }).expand(6, 3));
        closeTo(layout === "rows" ? x.grad! : x.grad!.t(), wantGrad, tol, "gradient");
      });
    }
  }
  test("0-d: a finite value gives 0, −∞ and NaN give NaN", () => {
    assert.equal(tg.tensor(3).logSoftmax(0).item(), 0);
    assert.ok(Number.isNaN(tg.tensor(-I).logSoftmax(-1).item()));
    assert.ok(Number.isNaN(tg.tensor(Number.NaN).logSoftmax(0).item()));
  });
  test("empty tensors keep their shape", () => {
    assert.deepEqual(tg.zeros([2, 0]).logSoftmax(1).shape, [2, 0]);
    assert.deepEqual(tg.zeros([0, 3]).logSoftmax(1).shape, [0, 3]);
  });
  test("large logits stay finite; int32 input becomes float32", () => {
    closeTo(tg.tensor([[1000, 1001, 999]], { dtype: "float32" }).logSoftmax(1), [-1.4076059644443804, -0.4076059644443804, -2.4076059644443806], 1e-7, "large");
    const y = tg.tensor([1, 2, 3], { dtype: "int32" }).logSoftmax(0);
    assert.equal(y.dtype, "float32");
    closeTo(y, [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804], 1e-7, "int32");
  });
});

describe("logSoftmax: one node, one kernel", () => {
  test("crossEntropy's graph holds a single LogSoftmaxBackward0 and none of the old composition's ops", () => {
    const logits = tg.randn([8, 10], { generator: gen }).requiresGrad_(true);
    const labels = tg.tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: "int32" });
    const loss = tg.F.crossEntropy(logits, labels);
    const names = ops(loss);
    assert.equal(names.filter((n) => n === "LogSoftmaxBackward0").length, 1, names.join(", "));
    for (const old of ["AmaxBackward0", "ExpBackward0", "LogBackward0", "SubBackward0"]) assert.ok(!names.includes(old), `${old} in ${names.join(", ")}`);
    // the node reads the logits leaf directly
    const nodes: tg.Node[] = [];
    const stack = [loss.gradFn!];
    while (stack.length > 0) {
      const n = stack.pop()!;
      nodes.push(n);
      for (const t of n.inputs) if (t.gradFn) stack.push(t.gradFn);
    }
    const ls = nodes.filter((n) => n.op === "logSoftmax");
    assert.equal(ls.length, 1);
    assert.equal(ls[0]!.inputs.length, 1);
    assert.equal(ls[0]!.inputs[0], logits);
    assert.deepEqual(ops(logits.logSoftmax(1)), ["[8, 10] float32", "LogSoftmaxBackward0", "output"]);
  });
  test("the forward and (outside createGraph) the backward each call one backend kernel", () => {
    const calls: string[] = [];
    const k = jsBackend as unknown as Record<string, unknown>;
    const saved = new Map<string, unknown>();
    for (const name of Object.keys(k)) {
      const f = k[name];
      if (typeof f !== "function") continue;
      saved.set(name, f);
      k[name] = (...args: unknown[]) => {
        calls.push(name);
        return (f as (...a: unknown[]) => unknown).apply(jsBackend, args);
      };
    }
    try {
      onBackend("js", () => {
        const x = tg.randn([4, 5], { generator: gen }).requiresGrad_(true);
        calls.length = 0;
        const y = x.logSoftmax(1);
        assert.deepEqual(calls, ["logSoftmax"]);
        calls.length = 0;
        const [g] = tg.grad(y, [x], { gradOutputs: [tg.ones([4, 5])] });
        assert.deepEqual(
          calls.filter((c) => c !== "copy"),
          ["logSoftmaxBackward"],
        );
        assert.deepEqual(g!.shape, [4, 5]);
      });
    } finally {
      for (const [name, f] of saved) k[name] = f;
    }
  });
  for (const name of ["wasm", "native"]) {
    test(`${name} inherits the js kernels: the same bits`, { skip: !tg.backend.list().includes(name) && `${name} backend not available` }, () => {
      const x = tg.randn([5, 9], { generator: gen }).requiresGrad_(true);
      const g = tg.randn([5, 9], { generator: gen });
      const run = () => {
        const y = x.logSoftmax(0);
        const [dx] = tg.grad(y, [x], { gradOutputs: [g] });
        return [y.detach(), dx!];
      };
      const [yJs, dJs] = onBackend("js", run);
      const [yB, dB] = onBackend(name, run);
      sameBits(yB!, yJs!, "forward", "js gives");
      sameBits(dB!, dJs!, "backward", "js gives");
    });
  }
});
