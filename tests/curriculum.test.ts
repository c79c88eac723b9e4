/**
 * @file Every "check" value of CURRICULUM.md §1 (tensors, the forward pass) and §2 (learning =
 * minimising a loss with gradients), reproduced with the public API only. Values that the design
 * doc does not spell out were taken from the seed lectures in ../shared/seeds/ and PyTorch 1.13.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";

const f64 = { dtype: "float64" } as const;

function close(actual: number, expected: number, tol: number, what = "value"): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: expected ${expected} ± ${tol}, got ${actual}`);
}

function allClose(actual: tg.Tensor | null, expected: number[], tol: number, what = "tensor"): void {
  assert.ok(actual !== null, `${what} is null`);
  const got = Array.from(actual.dataSync(), Number);
  assert.equal(got.length, expected.length, `${what}: ${got.length} elements, expected ${expected.length}`);
  got.forEach((v, i) => {
    close(v, expected[i]!, tol, `${what}[${i}]`);
  });
}

/** The scalar value of a 0-d/one-element tensor. */
const item = (t: tg.Tensor | null): number => {
  assert.ok(t !== null);
  return t.item();
};

describe("§1 tensors and the forward pass", () => {
  test("u = x·W + b with a broadcast bias, then relu → [1.3] (seed 000 §1.1, 単層・単ユニット)", () => {
    const x = tg.tensor([2, 3]);
    const W = tg.tensor([[0.1], [0.2]]);
    const u = tg.matmul(x, W).add(0.5);
    assert.deepEqual(u.shape, [1]);
    allClose(tg.relu(u), [1.3], 1e-6, "relu(x·W + b)");
    allClose(x.matmul(W).add(tg.tensor(0.5)).relu(), [1.3], 1e-6, "method form");
  });

  // seed 000 §1.1 (順伝播 3層・複数ユニット): u1 = x·W1 + b1, z1 = relu(u1), u2 = z1·W2 + b2,
  // z2 = relu(u2), y = u3 = z2·W3 + b3 (identity output). All pre-activations are positive,
  // so z1 = u1 = [0.6, 1.3, 2.0] and z2 = u2 = [1.02, 2.29].
  const network = () => ({
    W1: tg.tensor([[0.1, 0.3, 0.5], [0.2, 0.4, 0.6]], f64),
    W2: tg.tensor([[0.1, 0.4], [0.2, 0.5], [0.3, 0.6]], f64),
    W3: tg.tensor([[0.1, 0.3], [0.2, 0.4]], f64),
    b1: tg.tensor([0.1, 0.2, 0.3], f64),
    b2: tg.tensor([0.1, 0.2], f64),
    b3: tg.tensor([1, 2], f64),
  });

  test("3-layer forward pass of seed 000: z1 = [0.6, 1.3, 2.0], z2 = [1.02, 2.29], y = [1.56, 3.222]", () => {
    const { W1, W2, W3, b1, b2, b3 } = network();
    const x = tg.tensor([1, 2], f64);
    const u1 = x.matmul(W1).add(b1);
    const z1 = u1.relu();
    const u2 = z1.matmul(W2).add(b2);
    const z2 = u2.relu();
    const y = z2.matmul(W3).add(b3);
    allClose(u1, [0.6, 1.3, 2.0], 1e-12, "u1");
    allClose(z1, [0.6, 1.3, 2.0], 1e-12, "z1");
    allClose(u2, [1.02, 2.29], 1e-12, "u2");
    allClose(z2, [1.02, 2.29], 1e-12, "z2");
    allClose(y, [1.56, 3.222], 1e-12, "y");
    close(item(z1.sum()), 3.9, 1e-12, "np.sum(z1)");
  });

  test("the same network as a batch: rows of X go through independently (bias broadcasts over the batch)", () => {
    const { W1, W2, W3, b1, b2, b3 } = network();
    const X = tg.tensor([[1, 2], [1, 2], [0, 0]], f64);
    const Y = X.matmul(W1).add(b1).relu().matmul(W2).add(b2).relu().matmul(W3).add(b3);
    assert.deepEqual(Y.shape, [3, 2]);
    // the last row is the network's response to x = 0: relu(relu(b1)·W2 + b2)·W3 + b3
    const zero = b1.relu().matmul(W2).add(b2).relu().matmul(W3).add(b3);
    allClose(Y, [1.56, 3.222, 1.56, 3.222, ...Array.from(zero.dataSync(), Number)], 1e-12, "Y");
  });

  test("2-3-2 network loss mean((d − y)²)/2 with y = [1.02, 2.29], d = [2, 4] → 0.971125", () => {
    const y = tg.tensor([1.02, 2.29], f64);
    const d = tg.tensor([2, 4], f64);
    close(item(d.sub(y).pow(2).mean().div(2)), 0.971125, 1e-12, "mean_squared_error");
    close(item(tg.mean(tg.square(tg.sub(d, y))).div(2)), 0.971125, 1e-12, "function form");
    // float32, as a user would write it without a dtype
    close(item(tg.tensor([2, 4]).sub(tg.tensor([1.02, 2.29])).pow(2).mean().div(2)), 0.971125, 1e-6, "float32");
  });

  test("softmax of [1000, 1001] is finite: [0.2689…, 0.7311…] (the max-subtraction guard)", () => {
    for (const dtype of ["float32", "float64"] as const) {
      const s = tg.softmax(tg.tensor([1000, 1001], { dtype }), 0);
      const v = Array.from(s.dataSync(), Number);
      assert.ok(v.every(Number.isFinite), `${dtype}: ${v}`);
      allClose(s, [0.2689414213699951, 0.7310585786300049], dtype === "float64" ? 1e-15 : 1e-6, `softmax ${dtype}`);
      close(item(s.sum()), 1, 1e-6, "sum");
    }
    // and the naive formula really overflows, which is why the guard is needed
    const naive = tg.tensor([1000, 1001]).exp();
    assert.ok(Array.from(naive.dataSync()).every((v) => v === Number.POSITIVE_INFINITY));
    allClose(tg.tensor([[1000, 1001], [-1000, -1001]]).logSoftmax(1), [-1.3132617, -0.3132617, -0.3132617, -1.3132617], 1e-5, "logSoftmax");
  });

  test("the other activations of §1: step, sigmoid, tanh, relu", () => {
    const x = tg.tensor([-2, -0.5, 0, 0.5, 2], f64);
    allClose(tg.step(x), [0, 0, 0, 1, 1], 0, "step");
    allClose(tg.sigmoid(x), [2, 0.5, 0, -0.5, -2].map((v) => 1 / (1 + Math.exp(v))), 1e-15, "sigmoid");
    allClose(tg.tanh(x), [-2, -0.5, 0, 0.5, 2].map(Math.tanh), 1e-15, "tanh");
    allClose(tg.relu(x), [0, 0, 0, 0.5, 2], 0, "relu");
  });

  describe("closed-form linear regression (seed 003: N = 100, D = 20, y = Xw + ε)", () => {
    // X_ij, w_i ~ N(0, 1); ε_i ~ N(0, 4) (std 2)
    const data = () => {
      tg.manualSeed(3);
      const X = tg.randn([100, 20], f64);
      const wTrue = tg.randn([20], f64);
      const y = X.matmul(wTrue).add(tg.randn([100], f64).mul(2));
      return { X, y, wTrue };
    };

    test("normal equations XᵀX w = Xᵀy (linalg.solve) agree with linalg.lstsq (QR) and with inv", () => {
      const { X, y } = data();
      const wSolve = tg.linalg.solve(X.t().matmul(X), X.t().matmul(y));
      const wLstsq = tg.linalg.lstsq(X, y);
      const wInv = tg.linalg.inv(X.t().matmul(X)).matmul(X.t()).matmul(y);
      assert.deepEqual(wSolve.shape, [20]);
      assert.deepEqual(wLstsq.shape, [20]);
      assert.equal(wSolve.dtype, "float64");
      allClose(wLstsq, Array.from(wSolve.dataSync(), Number), 1e-10, "lstsq vs solve");
      allClose(wInv, Array.from(wSolve.dataSync(), Number), 1e-10, "inv vs solve");
      // the gradient Xᵀ(Xw − y) vanishes at the solution
      const g = X.t().matmul(X.matmul(wSolve).sub(y));
      assert.ok(item(g.abs().max()) < 1e-9);
    });

    test("gradient descent w ← w − η Xᵀ(Xw − y), with the gradient from autograd, converges to the closed form", () => {
      const { X, y, wTrue } = data();
      const wClosed = tg.linalg.solve(X.t().matmul(X), X.t().matmul(y));
      const w = tg.zeros([20], { dtype: "float64", requiresGrad: true });
      const eta = 0.004; // below 2 / λmax(XᵀX) ≈ 2 / 210
      for (let t = 0; t < 500; t++) {
        const loss = X.matmul(w).sub(y).square().sum().div(2); // L(w) = ½‖Xw − y‖²
        w.grad = null;
        loss.backward();
        tg.noGrad(() => w.sub_(w.grad!.mul(eta)));
      }
      allClose(w, Array.from(wClosed.dataSync(), Number), 1e-9, "GD vs closed form");
      // and it estimates the true weights (noise std 2, N = 100): ‖ŵ − w‖ / ‖w‖ is small
      const rel = item(w.detach().sub(wTrue).square().sum().sqrt()) / item(wTrue.square().sum().sqrt());
      assert.ok(rel < 0.5, `relative error ${rel}`);
    });
  });

  test("logistic regression: autograd's gradient of the cross entropy is (y − d)x (seed 003)", () => {
    tg.manualSeed(30);
    const X = tg.randn([8, 3], f64);
    const d = tg.tensor([1, 0, 1, 1, 0, 0, 1, 0], f64);
    const w = tg.randn([3], { dtype: "float64", requiresGrad: true });
    const y = X.matmul(w).sigmoid();
    const H = d.mul(y.log()).add(tg.sub(1, d).mul(tg.sub(1, y).log())).sum().neg();
    H.backward();
    const byHand = X.t().matmul(y.detach().sub(d));
    allClose(w.grad, Array.from(byHand.dataSync(), Number), 1e-12, "∂H/∂w");
  });
});

describe("§2 learning = minimising a loss with gradients", () => {
  test("gradient descent on f = x² from x0 = 3 with η = 0.1: x1..x3 = 2.4, 1.92, 1.536 and x100 = 6.1111e-10", () => {
    // (seed 004 prints x100 = 0.000000006111107929, one zero short: 3·0.8¹⁰⁰ = 6.111107929e-10)
    const x = tg.tensor(3, { dtype: "float64", requiresGrad: true });
    const history: number[] = [];
    for (let i = 0; i < 100; i++) {
      x.grad = null;
      x.square().backward();
      tg.noGrad(() => x.sub_(x.grad!.mul(0.1)));
      history.push(x.item());
    }
    allClose(tg.tensor(history.slice(0, 3), f64), [2.4, 1.92, 1.536], 1e-12, "x1..x3");
    close(x.item(), 6.111107929003464e-10, 1e-20, "x100");
    close(x.item(), 3 * 0.8 ** 100, 1e-22, "x100 = 3·0.8¹⁰⁰");
  });

  test("gradient descent on f = x² + e^(−x) from 3, η = 0.01, 1000 steps → 0.3517337 (autograd + noGrad updates, float64)", () => {
    const x = tg.tensor(3, { dtype: "float64", requiresGrad: true });
    let x1 = Number.NaN;
    for (let i = 0; i < 1000; i++) {
      const f = x.square().add(x.neg().exp());
      x.grad = null;
      f.backward();
      tg.noGrad(() => x.sub_(x.grad!.mul(0.01)));
      if (i === 0) x1 = x.item();
    }
    close(x1, 2.9404978706836786, 1e-14, "x1"); // the value printed in seed 004
    close(x.item(), 0.35173371125366865, 1e-11, "x1000"); // seed 004; PyTorch 1.13 gives 0.35173371125354774
    close(x.item(), 0.3517337, 5e-8, "x1000 (CURRICULUM)");
  });

  test("the same descent with tg.grad (no .grad accumulation) and fresh leaves each step", () => {
    let x = tg.tensor(3, f64);
    for (let i = 0; i < 1000; i++) {
      x.requiresGrad_(true);
      const [g] = tg.grad(x.square().add(x.neg().exp()), [x]);
      x = tg.noGrad(() => x.sub(g!.mul(0.01)));
      assert.equal(x.requiresGrad, false);
    }
    close(x.item(), 0.3517337, 5e-8, "x1000");
  });

  test("autograd: d/dx (x² + 4x + 3) at x = 2 is 8", () => {
    const x = tg.tensor(2, { requiresGrad: true });
    const y = x.pow(2).add(x.mul(4)).add(3);
    assert.equal(y.item(), 15);
    y.backward();
    assert.equal(item(x.grad), 8);
  });

  test("autograd: d/dx sin((x + 2) + (1 + e^(x²))) at x = 2 is −218.46256", () => {
    const x = tg.tensor(2, { dtype: "float64", requiresGrad: true });
    const y = tg.sin(x.add(2).add(tg.add(1, tg.exp(x.pow(2)))));
    y.backward();
    close(item(x.grad), -218.46255913000275, 1e-9, "dy/dx"); // PyTorch 1.13, float64
    close(item(x.grad), -218.46256, 5e-6, "dy/dx (CURRICULUM)");
    // analytic: cos(x + 3 + e^(x²)) · (1 + 2x e^(x²))
    close(item(x.grad), Math.cos(5 + Math.exp(4)) * (1 + 4 * Math.exp(4)), 1e-9, "analytic");
  });

  test("∇(x₁² + x₂² + x₃²) at (1, 2, 3) = (2, 4, 6)", () => {
    const x = tg.tensor([1, 2, 3], { requiresGrad: true });
    x.pow(2).sum().backward();
    assert.deepEqual(x.grad?.toArray(), [2, 4, 6]);
  });

  test("∇ xᵀAx with A = [[1, 2], [2, 1]] at (1, 2) = (10, 8)", () => {
    const A = tg.tensor([[1, 2], [2, 1]]);
    const x = tg.tensor([1, 2], { requiresGrad: true });
    const q = x.matmul(A).matmul(x);
    assert.deepEqual(q.shape, []);
    assert.equal(q.item(), 13);
    q.backward();
    assert.deepEqual(x.grad?.toArray(), [10, 8]); // (A + Aᵀ)x
    // the same with a column vector and explicit transposes
    const xc = tg.tensor([[1], [2]], { requiresGrad: true });
    xc.t().matmul(A).matmul(xc).sum().backward();
    assert.deepEqual(xc.grad?.toArray(), [[10], [8]]);
  });

  test("chain rule = sum over paths: z = (u + v)(u − v) at u = 1.5, v = 0.5 → ∂z/∂u = 3, ∂z/∂v = −1", () => {
    const u = tg.tensor(1.5, { requiresGrad: true });
    const v = tg.tensor(0.5, { requiresGrad: true });
    const z = u.add(v).mul(u.sub(v));
    assert.equal(z.item(), 2);
    assert.equal(z.gradFn?.name, "MulBackward0");
    z.backward();
    assert.equal(item(u.grad), 3); // 2u
    assert.equal(item(v.grad), -1); // −2v
  });

  test("minimise f(x) = −log(1/(1 + e^(−x)) + 1)/(x² + 1) by gradient descent → x ≈ 0.1900, f ≈ −0.42134", () => {
    const f = (x: tg.Tensor) => tg.sigmoid(x).add(1).log().neg().div(x.square().add(1));
    // written out as in the lecture, to check sigmoid against the formula
    const fLecture = (x: tg.Tensor) => tg.div(1, x.neg().exp().add(1)).add(1).log().neg().div(x.pow(2).add(1));
    const x = tg.tensor(0, { dtype: "float64", requiresGrad: true });
    for (let i = 0; i < 300; i++) {
      x.grad = null;
      f(x).backward();
      tg.noGrad(() => x.sub_(x.grad!.mul(0.5)));
    }
    close(x.item(), 0.1900087837274012, 1e-9, "argmin"); // PyTorch 1.13 (5000 steps, η = 0.1)
    close(x.item(), 0.19, 5e-5, "argmin (CURRICULUM)");
    const fx = tg.noGrad(() => f(x)).item();
    close(fx, -0.42133839756370395, 1e-12, "min");
    close(tg.noGrad(() => fLecture(x)).item(), fx, 1e-15, "lecture formula");
    // a minimum: the derivative is zero there and f is larger on both sides
    x.grad = null;
    f(x).backward();
    assert.ok(Math.abs(item(x.grad)) < 1e-9);
    for (const dx of [-1e-3, 1e-3]) assert.ok(f(tg.tensor(x.item() + dx, f64)).item() > fx);
  });

  test("numerical differentiation (E(w+h) − E(w−h))/2h agrees with autograd for a small MLP loss", () => {
    tg.manualSeed(7);
    const X = tg.randn([5, 3], f64);
    const d = tg.tensor([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], f64);
    const params = [
      tg.randn([3, 4], { dtype: "float64", requiresGrad: true }),
      tg.randn([4], { dtype: "float64", requiresGrad: true }),
      tg.randn([4, 2], { dtype: "float64", requiresGrad: true }),
      tg.randn([2], { dtype: "float64", requiresGrad: true }),
    ];
    const loss = (W1: tg.Tensor, b1: tg.Tensor, W2: tg.Tensor, b2: tg.Tensor) => {
      const z1 = X.matmul(W1).add(b1).sigmoid();
      const logits = z1.matmul(W2).add(b2);
      return d.mul(logits.logSoftmax(1)).sum(1).mean().neg(); // cross entropy −Σ d log y
    };
    const numeric = tg.numericalGrad(loss, params, { eps: 1e-6 });
    loss(params[0]!, params[1]!, params[2]!, params[3]!).backward();
    params.forEach((p, i) => {
      assert.deepEqual(numeric[i]!.shape, p.shape);
      allClose(p.grad, Array.from(numeric[i]!.dataSync(), Number), 1e-7, `param ${i}`);
    });
    assert.equal(tg.gradcheck(loss, params), true);
    // with a relu network too (away from the kink)
    const reluLoss = (W1: tg.Tensor, b1: tg.Tensor, W2: tg.Tensor, b2: tg.Tensor) =>
      X.matmul(W1).add(b1).relu().matmul(W2).add(b2).sub(d).square().mean().div(2);
    assert.equal(tg.gradcheck(reluLoss, params), true);
  });

  test("control flow: only the ops that actually ran are differentiated", () => {
    const a = tg.tensor(3, { requiresGrad: true });
    const b = tg.tensor(5, { requiresGrad: true });
    const f = (x: tg.Tensor) => {
      // data-dependent branch and loop, decided at run time (define-by-run)
      let y = x.item() > 0 ? x.mul(a) : x.mul(b);
      for (let i = 0; i < Math.abs(x.item()); i++) y = y.mul(2);
      return y;
    };
    f(tg.tensor(2)).backward(); // y = 2·a·2² = 8a
    assert.equal(item(a.grad), 8);
    assert.equal(b.grad, null, "the branch not taken leaves no gradient");
    f(tg.tensor(-1)).backward(); // y = −1·b·2 = −2b
    assert.equal(item(a.grad), 8, "unchanged");
    assert.equal(item(b.grad), -2);

    // the graph itself only holds the ops that ran
    const x = tg.tensor(1.5, { requiresGrad: true });
    const y = x.item() > 1 ? x.exp() : x.sin();
    assert.equal(y.gradFn?.name, "ExpBackward0");
    y.backward();
    close(item(x.grad), Math.exp(1.5), 1e-5, "d exp");

    // where() on tensors, element by element: the gradient follows the chosen branch
    const z = tg.tensor([-1, 2], { requiresGrad: true });
    tg.where(z.gt(0), z.square(), z.mul(3)).sum().backward();
    assert.deepEqual(z.grad?.toArray(), [3, 4]);
  });

  test("only floating tensors can require gradients: integer and bool tensors throw a clear error", () => {
    assert.throws(() => tg.tensor([1, 2], { dtype: "int32", requiresGrad: true }), /only floating-point tensors can require gradients.*int32/);
    assert.throws(() => tg.tensor([true], { requiresGrad: true }), /floating-point.*bool/);
    assert.throws(() => tg.arange(3).requiresGrad_(), /int32/);
    assert.throws(() => {
      tg.zeros([2], { dtype: "int32" }).requiresGrad = true;
    }, /int32/);
    // ops on an integer tensor never record a graph; converting first works
    const i = tg.tensor([1, 2, 3], { dtype: "int32" });
    assert.equal(i.requiresGrad, false);
    const x = i.to("float32").requiresGrad_();
    x.mul(x).sum().backward();
    assert.deepEqual(x.grad?.toArray(), [2, 4, 6]);
  });
});
