/**
 * @file Every lecture example runs (quick mode, as child processes, a few at a time) and prints the
 * lectures' values: the final JSON line of each is checked against CURRICULUM.md's check values,
 * PyTorch's values for the same computations where they are deterministic (tests/golden/
 * examples.json, from generate_examples.py), and the properties the lecture demonstrates (orderings, no leakage, hand-written == autograd).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";

const names = readdirSync("examples")
  .filter((f) => /^\d\d-[\w-]+\.ts$/.test(f))
  .map((f) => f.slice(0, -3))
  .sort();
const outRoot = mkdtempSync(join(tmpdir(), "tg-examples-"));
after(() => rmSync(outRoot, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: each example prints its own JSON shape
  json: any;
  outDir: string;
}

/**
 * Examples whose lesson needs their full size (the quick sizes are too small for the effect to
 * show): a dozen seconds each, run first.
 */
const fullSize = new Set(["13-autoencoder-pretraining", "18-data-augmentation"]);

function runExample(name: string): Promise<Run> {
  const outDir = join(outRoot, name);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", `examples/${name}.ts`], {
      env: { ...process.env, TG_QUICK: fullSize.has(name) ? "0" : "1", TG_PNG: "0", TG_OUT: outDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      const last = stdout.trimEnd().split("\n").at(-1) ?? "";
      let json: unknown = null;
      try {
        json = JSON.parse(last);
      } catch {
        // reported by the test below
      }
      resolve({ code, stdout, stderr, json, outDir });
    });
  });
}

// Start every example now, a few at a time (the slow ones first), and let each test await its own.
const slowFirst = ["13-autoencoder-pretraining", "18-data-augmentation", "17-regularization", "15-batch-norm", "10-mnist-mlp", "22-keras-mnist-cnn", "21-alexnet-small"];
const queue = [...names].sort((a, b) => (slowFirst.includes(b) ? 1 : 0) - (slowFirst.includes(a) ? 1 : 0));
const runs = new Map<string, Promise<Run>>();
const resolvers = new Map<string, (r: Run) => void>();
for (const name of names) runs.set(name, new Promise((r) => resolvers.set(name, r)));
const workers = Math.max(2, Math.min(4, availableParallelism()));
for (let w = 0; w < workers; w++) {
  (async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) resolvers.get(name)!(await runExample(name));
  })();
}

/** |actual − expected| ≤ tol (numbers, or arrays of them elementwise). */
function close(actual: unknown, expected: unknown, tol: number, what = "value"): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${what}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${what}: length`);
    for (const [i, e] of expected.entries()) close((actual as unknown[])[i], e, tol, `${what}[${i}]`);
    return;
  }
  assert.equal(typeof actual, "number", `${what}: expected a number, got ${JSON.stringify(actual)}`);
  assert.ok(Math.abs((actual as number) - (expected as number)) <= tol, `${what}: ${actual} is not within ${tol} of ${expected}`);
}

const rel = (actual: number, expected: number, r: number, what: string) => close(actual, expected, Math.abs(expected) * r, what);

/** PyTorch's values for the same computations (tests/golden/generate_examples.py). */
// biome-ignore lint/suspicious/noExplicitAny: the generator's JSON shape
const golden: Record<string, any> = JSON.parse(readFileSync("tests/golden/examples.json", "utf8"));

/** Every value PyTorch computed for `name` equals the example's within `tol` (relative to its size, at least `tol`). */
function matchesTorch(name: string, j: Record<string, unknown>, tol: number): void {
  const want = golden[name] as Record<string, unknown>;
  assert.ok(want !== undefined, `no golden values for ${name}`);
  const walk = (a: unknown, e: unknown, what: string): void => {
    if (typeof e === "number") close(a, e, tol * Math.max(1, Math.abs(e)), `${what} (PyTorch ${e})`);
    else if (Array.isArray(e)) {
      assert.ok(Array.isArray(a) && a.length === e.length, `${what}: expected ${e.length} values like PyTorch's, got ${JSON.stringify(a)?.slice(0, 200)}`);
      e.forEach((v, i) => {
        walk(a[i], v, `${what}[${i}]`);
      });
    } else for (const [k, v] of Object.entries(e as object)) walk((a as Record<string, unknown>)?.[k], v, `${what}.${k}`);
  };
  walk(j, want, name);
}

// biome-ignore lint/suspicious/noExplicitAny: each example prints its own JSON shape
const checks: Record<string, (j: any) => void> = {
  "01-forward-pass": (j) => {
    close(j.u, 1.3, 1e-6, "single unit u");
    close(j.z, 1.3, 1e-6, "relu(u)");
    close(j.z1, [0.6, 1.3, 2.0], 1e-6, "z1");
    close(j.z2, [1.02, 2.29], 1e-6, "z2");
    close(j.y, [1.56, 3.222], 1e-6, "y");
    close(j.yLayers, j.y, 1e-6, "nn.Linear layers = matmul");
    matchesTorch("01-forward-pass", j, 1e-6);
  },
  "02-activations": (j) => {
    close(j.softmax, [0.2689414213699951, 0.7310585786300049], 1e-6, "softmax([1000, 1001])");
    assert.equal(j.naiveHasNaN, true, "the unguarded softmax overflows to NaN");
    close(j.sigmoidAt0, 0.5, 0, "σ(0)");
    close(j.maxSigmoidGrad, 0.25, 1e-6, "max σ'");
    close(j.maxTanhGrad, 1, 1e-6, "max tanh'");
    matchesTorch("02-activations", j, 1e-6);
  },
  "03-losses": (j) => {
    close(j.y, [1.02, 2.29], 1e-6, "2-3-2 output");
    close(j.lectureMse, 0.971125, 1e-6, "lecture MSE");
    close(j.mseHalf, 0.971125, 1e-6, "F.mseLoss / 2");
    close(j.ceIndex, 0.3185397696491856, 1e-6, "crossEntropy, index targets");
    close(j.ceOneHot, j.ceIndex, 1e-6, "one-hot = index targets");
    close(j.lectureCe, j.ceIndex, 1e-5, "the 1e-7 guard barely matters for sane outputs");
    close(j.guarded, -Math.log(1e-7), 1e-4, "the guard caps the loss at −log 1e-7");
    close(j.exact, 200, 1e-4, "log-sum-exp stays exact");
    close(j.bce, 0.5108256237659907, 1e-6, "BCE");
    close(j.bceLogits, j.bce, 1e-5, "BCE from logits");
    close(j.huber, 1.3125, 1e-6, "Huber");
    matchesTorch("03-losses", j, 1e-6);
  },
  "04-gradient-descent": (j) => {
    close(j.x1, 2.4, 1e-12, "x1");
    rel(j.x100, 6.1111e-10, 1e-4, "x²: x100");
    close(j.x1000, 0.3517337, 1e-7, "x² + e^(−x): x1000");
    close(j.x1000Autograd, j.x1000, 1e-12, "autograd descent");
    close(j.x1000SGD, j.x1000, 1e-12, "optim.SGD descent");
    assert.ok(j.x30[3] > 3, "η = 1.05 diverges");
    assert.ok(j.x30[1] < 0.01 && j.x30[0] > 1, "η = 0.1 converges, η = 0.01 crawls");
    close(j.difficultX, 0.19, 5e-4, "difficult function: argmin");
    close(j.difficultF, -0.42134, 1e-5, "difficult function: min");
    matchesTorch("04-gradient-descent", j, 1e-12);
  },
  "05-numerical-vs-autograd": (j) => {
    close(j.dPoly, 8, 1e-12, "d/dx(x² + 4x + 3)");
    close(j.dSin, -218.46256, 1e-4, "d/dx sin((x+2) + (1+e^(x²)))");
    close(j.gradSquares, [2, 4, 6], 1e-12, "∇(x1² + x2² + x3²)");
    close(j.gradQuadratic, [10, 8], 1e-12, "∇ xᵀAx");
    close(j.forwardDiff, 4.0000010006480125, 1e-12, "forward difference of x² at 2");
    assert.ok(j.bestCentralErr < j.bestForwardErr, "central differences are more accurate");
    for (const c of j.costs) {
      assert.equal(c.numericEvals, 2 * c.n, `n = ${c.n}: 2n evaluations`);
      assert.ok(c.maxDiff < 1e-6, `n = ${c.n}: numerical ≈ autograd (${c.maxDiff})`);
    }
    const big = j.costs.at(-1);
    assert.ok(big.numericMs > 5 * big.autoMs, `n = ${big.n}: numerical (${big.numericMs} ms) much slower than autograd (${big.autoMs} ms)`);
  },
  "06-computational-graph": (j) => {
    close(j.z, 2, 1e-6, "z = (u+v)(u−v)");
    close(j.dzdu, 3, 1e-6, "∂z/∂u");
    close(j.dzdv, -1, 1e-6, "∂z/∂v");
    close(j.byHandU, 3, 1e-6, "sum over paths, u");
    close(j.byHandV, -1, 1e-6, "sum over paths, v");
    assert.equal(j.svgHasNodes, true, "the SVG shows u, v and the three ops");
    assert.equal(j.dotEdges, 7, "DOT edges");
    close(j.sinGrad, [Math.cos(8), Math.cos(8), Math.cos(8)], 1e-5, "∇ sin(Σx + 2)");
    close(j.branchGrads, [4, -Math.exp(2)], 1e-4, "define-by-run branches");
  },
  "07-linear-regression": (j) => {
    assert.equal(j.N, 100);
    assert.equal(j.D, 20);
    assert.ok(j.relGap < 1e-6, `gradient descent closes on the closed form (relative gap ${j.relGap})`);
    rel(j.lossGD, j.lossClosed, 1e-9, "GD loss = closed-form loss");
    assert.ok(j.autogradVsHand < 1e-9 && j.invVsSolve < 1e-9 && j.lstsqVsSolve < 1e-9, "autograd, inv, lstsq agree");
  },
  "08-logistic-regression": (j) => {
    assert.ok(j.gradDiff < 1e-9, `(y − d)x = autograd (${j.gradDiff})`);
    assert.ok(j.finalLoss < 0.6 * j.firstLoss, "the cross entropy falls");
    assert.ok(j.accuracy > 0.8, `accuracy ${j.accuracy}`);
    close(j.libraryW, j.w, 1e-9, "nn.Linear + BCE-with-logits takes the same steps (w)");
    close(j.libraryB, j.b, 1e-9, "… (b)");
    close(j.yBest, 0.7, 1e-9, "cross entropy is smallest at y = p");
  },
  "09-backprop-by-hand": (j) => {
    for (const [k, v] of Object.entries(j.gradDiffs)) assert.ok((v as number) < 1e-12, `δ-rule ∂L/∂${k} = autograd (${v})`);
    assert.ok(j.drift < 1e-10, `SGD with either gradient gives the same weights (${j.drift})`);
    assert.ok(j.lastLoss < j.firstLoss, "the loss falls");
  },
  "10-mnist-mlp": (j) => {
    assert.ok(j.lastTrainLoss < j.firstLoss, "training loss falls");
    assert.ok(j.testAccuracy > 0.5, `test accuracy ${j.testAccuracy}`);
  },
  "12-vanishing-gradients": (j) => {
    const sig = j["sigmoid (Xavier)"];
    const relu = j["ReLU (He)"];
    const skip = j["sigmoid + skip connections"];
    assert.ok(sig.ratio < 1e-3, `sigmoid: the first layer's gradient vanishes (ratio ${sig.ratio})`);
    assert.ok(relu.ratio > 0.1 && relu.ratio < 10, `ReLU: gradients keep their size (ratio ${relu.ratio})`);
    assert.ok(skip.ratio > 100 * sig.ratio, "skip connections carry the gradient back");
  },
  "14-weight-init": (j) => {
    const ratio = (s: number[]) => s.at(-1)! / s[0]!;
    assert.ok(ratio(j.stats["relu He"]) > 0.5 && ratio(j.stats["relu He"]) < 2, "He keeps ReLU activations' spread");
    assert.ok(ratio(j.stats["relu Xavier"]) < 0.5, "Xavier lets ReLU activations shrink");
    assert.ok(j.stats["relu N(0, 0.01²)"].at(-1) < 1e-4, "tiny weights: activations die out");
    assert.ok(j.saturatedStd1 > 0.3, "N(0, 1) saturates the sigmoid");
    assert.ok(j.saturatedXavier < 0.05, "Xavier does not");
    close(j.heWeightStd, Math.sqrt(2 / 100), 0.01, "kaimingNormal std");
  },
  "15-batch-norm": (j) => {
    assert.ok(j.formulaDiff < 1e-5, "BatchNorm1d = (x − m)/√(v + ε)");
    close(j.runningMean, [0.25, 2.5, 0], 1e-6, "running mean after one batch");
    assert.ok(j.lastLossWith < j.lastLossWithout - 0.3, `BatchNorm trains faster (${j.lastLossWith} vs ${j.lastLossWithout})`);
    assert.ok(j.accuracyWith > j.accuracyWithout, "and generalises better here");
    assert.ok(j.evalBatchIndependence < 1e-6, "eval mode: a sample's output does not depend on its batch");
  },
  "16-optimizers": (j) => {
    for (const name of ["Momentum", "AdaGrad", "RMSProp", "Adam"]) {
      assert.ok(j.bowl[name] < j.bowl.SGD, `bowl: ${name} (${j.bowl[name]}) beats SGD (${j.bowl.SGD})`);
      assert.ok(j.mnist[name] < j.mnist.SGD, `MNIST: ${name} (${j.mnist[name]}) beats SGD (${j.mnist.SGD})`);
    }
    matchesTorch("16-optimizers", j, 1e-9); // the bowl trajectories, step by step, against torch.optim
  },
  "17-regularization": (j) => {
    const none = j["no regularisation"];
    assert.ok(none.train > 0.95, "without regularisation the training set is learnt (almost) perfectly");
    assert.ok(none.testLoss > 1.1 * none.minTestLoss, "… while the test loss rises again: overfitting");
    for (const k of ["L2 (λ = 0.01)", "L1 (λ = 0.001)", "dropout (p = 0.5)"]) assert.ok(j[k].testLoss < none.testLoss, `${k}: lower test loss (${j[k].testLoss} vs ${none.testLoss})`);
    assert.ok(j["L2 (λ = 0.01)"].weightNorm < none.weightNorm, "L2 shrinks the weights");
    assert.ok(j["L1 (λ = 0.001)"].nearZero > 0.3 && none.nearZero < 0.1, "L1 makes weights (nearly) zero");
  },
  "18-data-augmentation": (j) => {
    assert.equal(j.reproducible, true, "same seed, same augmented images");
    assert.equal(j.seedsDiffer, true, "another seed, other images");
    assert.deepEqual(j.shape, [8, 1, 28, 28]);
    assert.equal(j.flipIsMirror, true, "a horizontal flip mirrors the columns");
    assert.ok(j.accuracyPlain > 0.75, `without augmentation the small training set is learnt (test accuracy ${j.accuracyPlain})`);
    assert.ok(j.accuracyAugmented > j.accuracyPlain + 0.02, `augmentation generalises better (${j.accuracyAugmented} vs ${j.accuracyPlain})`);
  },
  "19-validation": (j) => {
    assert.ok(j.randomLeaks.every(Boolean), "random folds train on days after their validation days");
    assert.ok(!j.timeLeaks.some(Boolean), "time-series folds never do");
    for (const f of j.timeFolds) assert.ok(f.trainEnd < f.valStart, "training ends before validation starts");
    assert.ok(j.mseTime > 2 * j.mseRandom, `the random split's score is far too optimistic (${j.mseRandom} vs ${j.mseTime})`);
  },
  "20-cnn-basics": (j) => {
    assert.deepEqual(j.byHand, [
      [15, 16],
      [6, 15],
    ]);
    assert.deepEqual(j.byConv, j.byHand);
    assert.deepEqual(
      j.sizes.map((s: { conv2d: number[] }) => s.conv2d),
      [
        [7, 7],
        [4, 4],
        [24, 24],
        [28, 28],
        [3, 3],
      ],
    );
    for (const s of j.sizes) assert.equal(s.formula, s.conv2d[0], "formula = Conv2d");
    assert.ok(j.rgbDiff < 1e-5, "a 3-channel filter sums over the channels");
    assert.deepEqual(j.maxPool, [
      [2, 4],
      [4, 2],
    ]);
    assert.deepEqual(j.avgPool, [
      [1, 2.25],
      [2.25, 1],
    ]);
    close(j.globalAvg, 1.625, 1e-6, "global average pooling");
  },
  "21-alexnet-small": (j) => {
    const shapes = j.rows.map((r: { shape: number[] }) => r.shape.join("x"));
    assert.deepEqual(
      shapes.filter((_: string, i: number) => j.rows[i].layer.startsWith("Conv2d") || j.rows[i].layer.startsWith("MaxPool") || j.rows[i].layer.startsWith("Linear")),
      ["1x16x28x28", "1x16x14x14", "1x32x14x14", "1x32x7x7", "1x48x7x7", "1x48x7x7", "1x32x7x7", "1x32x3x3", "1x128", "1x64", "1x10"],
    );
    assert.equal(j.rows.filter((r: { layer: string }) => r.layer.startsWith("Conv2d")).length, 5, "5 convolutions");
    assert.equal(j.rows.filter((r: { layer: string }) => r.layer.startsWith("Linear")).length, 3, "3 fully connected layers");
    assert.equal(j.totalParams, 99210);
    assert.ok(Number.isFinite(j.lastLoss) && j.steps >= 2);
  },
  "13-autoencoder-pretraining": (j) => {
    for (const [l, first] of (j.aeFirst as number[]).entries()) assert.ok(j.aeLast[l] < 0.7 * first, `autoencoder ${l + 1} learns to reconstruct`);
    assert.ok(j.pretrainedAccuracy > 0.8, `pre-trained deep sigmoid net fine-tunes (test accuracy ${j.pretrainedAccuracy})`);
    assert.ok(j.randomAccuracy < 0.3, `the same net from random init barely moves in as many steps (test accuracy ${j.randomAccuracy})`);
  },
  "11-universal-approximation": (j) => {
    for (let i = 1; i < j.stairErrors.length; i++) assert.ok(j.stairErrors[i] < j.stairErrors[i - 1], "more steps, closer staircase");
    assert.ok(j.mse[10] < j.mse[3] && j.mse[3] < j.mse[1] && j.mse[50] < j.mse[3], `more hidden units, smaller error (${JSON.stringify(j.mse)})`);
  },
  "22-keras-mnist-cnn": (j) => {
    assert.ok(j.mlp.accuracy > 0.5, `Keras MLP accuracy ${j.mlp.accuracy}`);
    assert.ok(j.cnn.accuracy > 0.2, `Keras CNN accuracy ${j.cnn.accuracy}`);
    assert.deepEqual(j.historyKeys, ["accuracy", "loss", "val_accuracy", "val_loss"]);
    assert.deepEqual(j.params, { trainable: 105866, nonTrainable: 0 });
  },
};

describe("examples (quick mode)", () => {
  test("every example has checks, and every check an example", () => {
    assert.deepEqual(Object.keys(checks).sort(), names);
  });

  for (const name of names) {
    test(name, async () => {
      const run = await runs.get(name)!;
      assert.equal(run.code, 0, `${name} failed:\n${run.stderr.slice(-3000)}`);
      assert.ok(run.json !== null && typeof run.json === "object", `${name}: the last line of its output is not JSON:\n${run.stdout.slice(-500)}`);
      checks[name]?.(run.json);
      // and it drew its figures
      const svgs = readdirSync(run.outDir).filter((f) => f.endsWith(".svg"));
      assert.ok(svgs.length > 0, `${name} wrote no figure`);
      for (const f of svgs) {
        const svg = readFileSync(join(run.outDir, f), "utf8");
        assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/, `${f} is an SVG`);
        assert.ok(svg.trimEnd().endsWith("</svg>"), `${f} is complete`);
        assert.ok(!/NaN|undefined/.test(svg), `${f} has no NaN/undefined coordinates`);
      }
    });
  }
});
