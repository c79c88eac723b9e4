/**
 * @file The autograd engine's contract, PyTorch's semantics: accumulation into `.grad`, freed
 * graphs and `retainGraph`, `noGrad`, `detach`, `tg.grad` (higher order, `allowUnused`), node
 * names, non-scalar and explicit-gradient backward, broadcasting, mixed dtypes, `retainGrad`,
 * very deep graphs and in-place updates of leaves.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";

const f64 = { dtype: "float64" } as const;
const leaf = (data: tg.NestedArray, dtype: tg.DType = "float32") => tg.tensor(data, { dtype, requiresGrad: true });
/** `t.grad`, read without TypeScript's narrowing after an assignment of null. */
const gradOf = (t: tg.Tensor): tg.Tensor | null => t.grad;

function allClose(actual: tg.Tensor | null, expected: number[], tol: number, what = "tensor"): void {
  assert.ok(actual !== null, `${what} is null`);
  const got = Array.from(actual.dataSync(), Number);
  assert.equal(got.length, expected.length, `${what}: ${got.length} elements, expected ${expected.length}`);
  got.forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}[${i}]: expected ${expected[i]} ± ${tol}, got ${v}`);
  });
}

describe("backward() and .grad", () => {
  test("gradients ACCUMULATE across backward calls, until .grad is reset", () => {
    const x = leaf([1, 2, 3]);
    x.mul(x).sum().backward();
    assert.deepEqual(x.grad?.toArray(), [2, 4, 6]);
    x.mul(x).sum().backward();
    assert.deepEqual(x.grad?.toArray(), [4, 8, 12]);
    x.mul(3).sum().backward();
    assert.deepEqual(x.grad?.toArray(), [7, 11, 15]);
    // resetting, the two ways optimizers do it
    x.grad!.zero_();
    x.sum().backward();
    assert.deepEqual(x.grad?.toArray(), [1, 1, 1]);
    x.grad = null;
    x.mul(2).sum().backward();
    assert.deepEqual(gradOf(x)?.toArray(), [2, 2, 2]);
  });

  test("a leaf used twice in one graph sums both paths", () => {
    const x = leaf(3);
    x.mul(x).add(x).backward(); // d(x² + x) = 2x + 1
    assert.equal(x.grad?.item(), 7);
  });

  test(".grad is a plain tensor: it does not require grad, has no gradFn and its own storage", () => {
    const x = leaf([1, 2]);
    x.mul(x).sum().backward();
    const g = x.grad!;
    assert.equal(g.requiresGrad, false);
    assert.equal(g.gradFn, null);
    assert.equal(g.dtype, "float32");
    assert.deepEqual(g.shape, [2]);
    assert.notEqual(g.data, x.data);
  });

  test(".grad never shares storage with another .grad or with a gradient the caller passed in", () => {
    // add() hands the same upstream gradient to both operands: each .grad must own its storage
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    a.add(b).mul(tg.tensor([5, 6])).sum().backward();
    assert.notEqual(a.grad!.data, b.grad!.data);
    a.add(b).mul(tg.tensor([5, 6])).sum().backward(); // accumulates in place
    assert.deepEqual(a.grad!.toArray(), [10, 12]);
    assert.deepEqual(b.grad!.toArray(), [10, 12]);
    // a view op passes the caller's gradient through unchanged: it is copied, not adopted
    const x = leaf([1, 2, 3, 4]);
    const seed = tg.tensor([1, 1, 1, 1]);
    x.reshape([2, 2]).reshape([4]).backward(seed);
    assert.notEqual(x.grad!.data, seed.data);
    x.reshape([4]).backward(seed);
    assert.deepEqual(seed.toArray(), [1, 1, 1, 1], "accumulating into x.grad left the caller's tensor alone");
    assert.deepEqual(x.grad!.toArray(), [2, 2, 2, 2]);
    // a retained non-leaf gradient and the leaf's (a reshape of it) get separate storage
    const w = leaf([1, 2, 3, 4]);
    const h = w.reshape([2, 2]).retainGrad();
    h.mul(tg.tensor([[1, 2], [3, 4]])).sum().backward();
    assert.notEqual(h.grad!.data, w.grad!.data);
    // the common case adopts the engine's fresh gradient (no copy) and it still accumulates right
    const v = leaf([1, 2]);
    v.mul(tg.tensor([3, 4])).sum().backward();
    v.mul(tg.tensor([3, 4])).sum().backward();
    assert.deepEqual(v.grad!.toArray(), [6, 8]);
  });

  test("backward twice through a graph with saved values throws a clear error, unless { retainGraph: true }", () => {
    const x = leaf([1, 2]);
    const y = x.mul(x).sum();
    y.backward();
    assert.throws(() => y.backward(), (e: Error) => {
      assert.match(e.message, /backward through the graph a second time/);
      assert.match(e.message, /MulBackward0/);
      assert.match(e.message, /retainGraph: true/);
      return true;
    });

    const z = leaf([1, 2]);
    const w = z.mul(z).exp().sum();
    w.backward(undefined, { retainGraph: true });
    const first = Array.from(z.grad!.dataSync());
    w.backward(undefined, { retainGraph: true });
    allClose(z.grad, first.map((v) => 2 * v), 1e-3, "twice the gradient");
    w.backward(); // the last pass may free the graph
    allClose(z.grad, first.map((v) => 3 * v), 1e-3, "three times");
    assert.throws(() => w.backward(), /second time/);
  });

  test("tg.grad with retainGraph can be called repeatedly; a freed graph refuses it too", () => {
    const x = leaf(2, "float64");
    const y = x.pow(3);
    assert.equal(tg.grad(y, [x], { retainGraph: true })[0]?.item(), 12);
    assert.equal(tg.grad(y, [x])[0]?.item(), 12);
    assert.throws(() => tg.grad(y, [x]), /second time/);
  });

  test("non-scalar backward without a gradient throws, naming the shape", () => {
    const x = leaf([[1, 2, 3], [4, 5, 6]]);
    const y = x.mul(2);
    assert.throws(() => y.backward(), /backward: grad can be implicitly created only for scalar outputs, got shape \[2,3\]/);
    assert.throws(() => tg.grad(y, [x]), /scalar outputs.*\[2,3\]/);
    // a one-element tensor of any rank is fine
    x.sum().reshape([1, 1]).backward();
    assert.deepEqual(x.grad?.toArray(), [[1, 1, 1], [1, 1, 1]]);
  });

  test("backward with an explicit gradient tensor computes the vector-Jacobian product", () => {
    const x = leaf([1, 2, 3]);
    const y = x.mul(x); // J = diag(2x)
    y.backward(tg.tensor([1, 0.1, 0.01]));
    allClose(x.grad, [2, 0.4, 0.06], 1e-6, "vᵀJ");
    const x2 = leaf([[1, 2], [3, 4]]);
    x2.matmul(tg.tensor([[1, 0], [0, 2]])).backward(tg.ones([2, 2]));
    assert.deepEqual(x2.grad?.toArray(), [[1, 2], [1, 2]]);
    // a wrongly shaped gradient is rejected, naming both shapes
    assert.throws(() => leaf([1, 2]).mul(2).backward(tg.ones([3])), /gradient shape \[3\] does not match output shape \[2\]/);
    // tg.grad takes them as gradOutputs
    const z = leaf([1, 2, 3]);
    const [gz] = tg.grad(z.mul(z), [z], { gradOutputs: [tg.tensor([1, 1, 1])] });
    assert.deepEqual(gz?.toArray(), [2, 4, 6]);
  });

  test("backward on a tensor that does not require grad is an error", () => {
    assert.throws(() => tg.tensor([1, 2]).sum().backward(), /does not require grad/);
  });
});

describe("noGrad and detach", () => {
  test("noGrad records nothing: results do not require grad and have no gradFn", () => {
    const x = leaf([1, 2]);
    const y = tg.noGrad(() => x.mul(x).exp().sum());
    assert.equal(y.requiresGrad, false);
    assert.equal(y.gradFn, null);
    assert.equal(y.isLeaf, true);
    assert.throws(() => y.backward(), /does not require grad/);
    assert.equal(tg.isGradEnabled(), true);
  });

  test("noGrad nests, enableGrad re-enables inside it, and both restore the mode, even when the callback throws", () => {
    const x = leaf([1]);
    const modes: boolean[] = [];
    tg.noGrad(() => {
      modes.push(tg.isGradEnabled());
      tg.noGrad(() => modes.push(tg.isGradEnabled()));
      modes.push(tg.isGradEnabled());
      const recorded = tg.enableGrad(() => {
        modes.push(tg.isGradEnabled());
        return x.mul(2);
      });
      assert.equal(recorded.gradFn?.name, "MulBackward0");
      modes.push(tg.isGradEnabled());
    });
    modes.push(tg.isGradEnabled());
    assert.deepEqual(modes, [false, false, false, true, false, true]);

    assert.throws(() => tg.noGrad(() => {
      throw new Error("boom");
    }), /boom/);
    assert.equal(tg.isGradEnabled(), true, "restored after a throw");
    assert.throws(() =>
      tg.noGrad(() => {
        tg.enableGrad(() => {
          throw new Error("inner");
        });
      }), /inner/);
    assert.equal(tg.isGradEnabled(), true);
    tg.noGrad(() => {
      assert.throws(() => tg.enableGrad(() => {
        throw new Error("x");
      }));
      assert.equal(tg.isGradEnabled(), false, "back to disabled inside the outer noGrad");
    });
    assert.equal(x.mul(2).requiresGrad, true);
  });

  test("noGrad returns the callback's value", () => {
    assert.equal(tg.noGrad(() => 42), 42);
  });

  test("detach cuts the graph and shares storage", () => {
    const x = leaf([1, 2, 3]);
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.gradFn, null);
    assert.equal(d.isLeaf, true);
    assert.equal(d.data, x.data, "same storage");
    d.copy_(tg.tensor([7, 8, 9])); // allowed: d does not require grad
    assert.deepEqual(x.toArray(), [7, 8, 9], "the write is visible through x");

    // gradient flows only through the attached path: d(x · stop(x)) = stop(x)
    const y = x.mul(x.detach()).sum();
    y.backward();
    assert.deepEqual(x.grad?.toArray(), [7, 8, 9]);

    // detaching an intermediate cuts everything behind it
    const w = leaf([2]);
    const h = w.mul(3);
    const out = h.detach().requiresGrad_().mul(h).sum();
    out.backward();
    assert.deepEqual(w.grad?.toArray(), [18]); // h.detach() · 3
  });
});

describe("tg.grad", () => {
  test("returns gradients without touching .grad", () => {
    const x = leaf([1, 2, 3]);
    const w = leaf([4, 5, 6]);
    const [gx, gw] = tg.grad(x.mul(w).sum(), [x, w]);
    assert.deepEqual(gx?.toArray(), [4, 5, 6]);
    assert.deepEqual(gw?.toArray(), [1, 2, 3]);
    assert.equal(x.grad, null);
    assert.equal(w.grad, null);
    assert.equal(gx?.requiresGrad, false, "no graph without createGraph");
    // a single tensor is accepted for outputs and inputs
    assert.deepEqual(tg.grad(x.square().sum(), x)[0]?.toArray(), [2, 4, 6]);
  });

  test("gradients with respect to an intermediate (non-leaf) tensor", () => {
    const x = leaf([1, 2]);
    const h = x.mul(3);
    const [gh] = tg.grad(h.square().sum(), [h]);
    assert.deepEqual(gh?.toArray(), [6, 12]);
  });

  test("createGraph gives second derivatives: d²/dx² x³ at 2 = 12", () => {
    const x = leaf(2, "float64");
    const [dy] = tg.grad(x.pow(3), [x], { createGraph: true });
    assert.equal(dy?.item(), 12); // 3x²
    assert.equal(dy?.requiresGrad, true);
    assert.notEqual(dy?.gradFn, null);
    const [d2y] = tg.grad(dy!, [x], { createGraph: true });
    assert.equal(d2y?.item(), 12); // 6x
    const [d3y] = tg.grad(d2y!, [x]);
    assert.equal(d3y?.item(), 6);
    // the same through backward: x.grad becomes differentiable
    const z = leaf(2, "float64");
    z.pow(3).backward(undefined, { createGraph: true });
    const g = z.grad!;
    z.grad = null;
    g.backward();
    assert.equal(gradOf(z)?.item(), 12);
  });

  test("second derivatives of sin, exp, tanh and sigmoid are right", () => {
    const x = leaf([0.3, -1.2], "float64");
    const cases: [string, (t: tg.Tensor) => tg.Tensor, (v: number) => number][] = [
      ["sin", (t) => t.sin(), (v) => -Math.sin(v)],
      ["exp", (t) => t.exp(), (v) => Math.exp(v)],
      ["tanh", (t) => t.tanh(), (v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2)],
      ["sigmoid", (t) => t.sigmoid(), (v) => {
        const s = 1 / (1 + Math.exp(-v));
        return s * (1 - s) * (1 - 2 * s);
      }],
    ];
    for (const [name, f, f2] of cases) {
      const [g] = tg.grad(f(x).sum(), [x], { createGraph: true });
      const [h] = tg.grad(g!.sum(), [x]);
      allClose(h, [0.3, -1.2].map(f2), 1e-12, `${name}''`);
    }
  });

  test("a Hessian-vector product by double backward", () => {
    // f(x) = (x·x)²: ∇f = 4(x·x)x, H = 4(x·x)I + 8xxᵀ, so Hv = 4(x·x)v + 8(x·v)x
    const xs = [1, -2, 0.5];
    const vs = [0.3, 0.1, -1];
    const x = leaf(xs, "float64");
    const v = tg.tensor(vs, f64);
    const [g] = tg.grad(x.matmul(x).square(), [x], { createGraph: true });
    const [hv] = tg.grad(g!.mul(v).sum(), [x]);
    const xx = xs.reduce((s, a) => s + a * a, 0);
    const xv = xs.reduce((s, a, i) => s + a * vs[i]!, 0);
    allClose(hv, xs.map((a, i) => 4 * xx * vs[i]! + 8 * xv * a), 1e-12, "Hv");
    // and for a quadratic form ½xᵀAx the Hessian is A (symmetric): Hv = Av
    const A = tg.tensor([[2, 1, 0], [1, 3, 1], [0, 1, 4]], f64);
    const y = leaf(xs, "float64");
    const [gy] = tg.grad(y.matmul(A).matmul(y).mul(0.5), [y], { createGraph: true });
    const [av] = tg.grad(gy!.mul(v).sum(), [y]);
    allClose(av, Array.from(A.matmul(v).dataSync(), Number), 1e-12, "Av");
  });

  test("allowUnused: null for inputs the output does not depend on; an error without it", () => {
    const x = leaf([1, 2]);
    const unused = leaf([3]);
    const y = x.sum();
    assert.throws(() => tg.grad(y, [x, unused], { retainGraph: true }), /inputs\[1\] was not used.*allowUnused: true/);
    const [gx, gu] = tg.grad(y, [x, unused], { allowUnused: true });
    assert.deepEqual(gx?.toArray(), [1, 1]);
    assert.equal(gu, null);
  });

  test("inputs and outputs that do not require grad are rejected", () => {
    const x = leaf([1]);
    assert.throws(() => tg.grad(tg.tensor(1), [x]), /outputs\[0\] does not require grad/);
    assert.throws(() => tg.grad(x.sum(), [tg.tensor([1])]), /inputs\[0\] does not require grad/);
  });
});

describe("graph introspection", () => {
  test("gradFn has PyTorch's names and leaves have none", () => {
    const a = leaf([1, 2]);
    const b = leaf([3, 4]);
    assert.equal(a.gradFn, null);
    assert.equal(a.isLeaf, true);
    const cases: [tg.Tensor, string][] = [
      [a.mul(b), "MulBackward0"],
      [a.add(b), "AddBackward0"],
      [a.sub(b), "SubBackward0"],
      [a.div(b), "DivBackward0"],
      [a.exp(), "ExpBackward0"],
      [a.log(), "LogBackward0"],
      [a.sin(), "SinBackward0"],
      [a.neg(), "NegBackward0"],
      [a.relu(), "ReluBackward0"],
      [a.sigmoid(), "SigmoidBackward0"],
      [a.tanh(), "TanhBackward0"],
      [a.sum(), "SumBackward0"],
      [a.pow(2), "PowBackward0"],
    ];
    for (const [t, name] of cases) {
      assert.equal(t.gradFn?.name, name);
      assert.equal(t.isLeaf, false);
      assert.equal(t.requiresGrad, true);
      assert.match(String(t), new RegExp(`grad_fn=<${name}>`));
    }
    // the graph can be walked like PyTorch's next_functions
    const y = a.mul(b).sum();
    const mul = y.gradFn!.nextFunctions[0];
    assert.ok(mul !== null && mul !== "AccumulateGrad");
    assert.equal(mul.name, "MulBackward0");
    assert.deepEqual(mul.nextFunctions, ["AccumulateGrad", "AccumulateGrad"]);
    assert.deepEqual(a.mul(tg.tensor([1, 1])).gradFn?.nextFunctions, ["AccumulateGrad", null]);
  });

  test("tensors that do not require grad are leaves; results of ops on them are too", () => {
    const c = tg.tensor([1, 2]);
    assert.equal(c.isLeaf, true);
    assert.equal(c.mul(2).isLeaf, true);
    assert.equal(c.mul(2).gradFn, null);
    assert.equal(c.mul(leaf([1, 1])).isLeaf, false);
  });

  test("only leaves can switch requiresGrad off", () => {
    const x = leaf([1]);
    assert.throws(() => x.mul(2).requiresGrad_(false), /only leaf tensors/);
    x.requiresGrad = false;
    assert.equal(x.mul(2).requiresGrad, false);
  });
});

describe("shapes and dtypes of gradients", () => {
  test("broadcasting gradients reduce to each input's shape ([3] + [2, 3], [2, 1] · [1, 3], 0-d)", () => {
    const a = leaf([1, 2, 3]);
    const b = leaf([[1, 2, 3], [4, 5, 6]]);
    a.add(b).sum().backward();
    assert.deepEqual(a.grad?.shape, [3]);
    assert.deepEqual(a.grad?.toArray(), [2, 2, 2]);
    assert.deepEqual(b.grad?.toArray(), [[1, 1, 1], [1, 1, 1]]);

    const c = leaf([[1], [2]]);
    const d = leaf([[1, 10, 100]]);
    c.mul(d).sum().backward();
    assert.deepEqual(c.grad?.toArray(), [[111], [111]]);
    assert.deepEqual(d.grad?.toArray(), [[3, 3, 3]]);

    const s = leaf(2);
    const m = leaf([[1, 2], [3, 4]]);
    s.mul(m).sum().backward();
    assert.deepEqual(s.grad?.shape, []);
    assert.equal(s.grad?.item(), 10);

    // size-1 dims kept in the middle: [2,1,3] - [4,1]
    const p = leaf([[[1, 2, 3]], [[4, 5, 6]]]);
    const q = leaf([[1], [2], [3], [4]]);
    p.sub(q).sum().backward();
    assert.deepEqual(p.grad?.shape, [2, 1, 3]);
    assert.deepEqual(p.grad?.toArray(), [[[4, 4, 4]], [[4, 4, 4]]]);
    assert.deepEqual(q.grad?.toArray(), [[-6], [-6], [-6], [-6]]);
  });

  test("expand and a bias added over a batch reduce back as well", () => {
    const bias = leaf([1, 2]);
    const x = tg.ones([4, 2]);
    x.add(bias).square().sum().backward();
    assert.deepEqual(bias.grad?.toArray(), [16, 24]); // Σ over 4 rows of 2(1 + b)
    const e = leaf([[1], [2]]);
    e.expand([2, 3]).sum().backward();
    assert.deepEqual(e.grad?.toArray(), [[3], [3]]);
  });

  test("mixed float32/float64 ops give each leaf a gradient in its own dtype", () => {
    const a = leaf([1, 2], "float32");
    const b = leaf([3, 4], "float64");
    const c = a.mul(b);
    assert.equal(c.dtype, "float64");
    c.sum().backward();
    assert.equal(a.grad?.dtype, "float32");
    assert.equal(b.grad?.dtype, "float64");
    assert.deepEqual(a.grad?.toArray(), [3, 4]);
    assert.deepEqual(b.grad?.toArray(), [1, 2]);
    // an explicit cast in the graph too
    const x = leaf([0.5], "float32");
    x.to("float64").exp().sum().backward();
    assert.equal(x.grad?.dtype, "float32");
    allClose(x.grad, [Math.exp(0.5)], 1e-6, "d exp");
    // and a python-like float scalar keeps float32
    const y = leaf([1, 2], "float32");
    assert.equal(y.mul(0.1).dtype, "float32");
  });

  test("retainGrad() keeps .grad on a non-leaf", () => {
    const x = leaf([1, 2]);
    const h = x.mul(2);
    const k = h.exp();
    h.retainGrad();
    k.sum().backward();
    assert.equal(k.grad, null, "non-leaf without retainGrad");
    allClose(h.grad, [Math.exp(2), Math.exp(4)], 1e-3, "h.grad");
    allClose(x.grad, [2 * Math.exp(2), 2 * Math.exp(4)], 1e-3, "x.grad");
    assert.equal(h.retainGrad(), h, "chainable");
  });
});

describe("robustness", () => {
  test("a deep chain (10 000 ops) backward does not overflow the stack", () => {
    const x = leaf(1, "float64");
    let y = x;
    for (let i = 0; i < 10_000; i++) y = y.mul(1.0001);
    y.backward();
    assert.ok(Math.abs(x.grad!.item() - 1.0001 ** 10_000) < 1e-9);
    // a deep chain of additions that each reuse the leaf (a long DAG, not only a list)
    const z = leaf(1, "float64");
    let acc: tg.Tensor = z;
    for (let i = 0; i < 10_000; i++) acc = acc.add(z);
    acc.backward();
    assert.equal(z.grad?.item(), 10_001);
  });

  test("in-place sub_ on a leaf that requires grad throws outside noGrad and works inside", () => {
    const w = leaf([1, 2, 3]);
    assert.throws(() => w.sub_(1), /sub_: a tensor that requires grad cannot be modified in place.*noGrad/);
    assert.deepEqual(w.toArray(), [1, 2, 3], "unchanged by the failed update");
    for (const f of [() => w.add_(1), () => w.mul_(2), () => w.copy_(tg.zeros([3])), () => w.zero_()]) assert.throws(f, /noGrad/);
    w.square().sum().backward();
    tg.noGrad(() => w.sub_(w.grad!.mul(0.1)));
    allClose(w, [0.8, 1.6, 2.4], 1e-6, "w after one SGD step");
    assert.equal(w.requiresGrad, true, "still a leaf that requires grad");
    assert.equal(w.isLeaf, true);
    // and the updated leaf keeps working in a new graph
    w.grad = null;
    w.sum().backward();
    assert.deepEqual(gradOf(w)?.toArray(), [1, 1, 1]);
  });
});
