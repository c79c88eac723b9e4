/**
 * @file PyTorch's exported CNNs on every backend: the W3 CNN, LeNet and the residual block, imported
 * with tg.onnx.importModel, give PyTorch's outputs on each registered backend (js, the oracle, with
 * no fused table, too), train for a few Adam steps to js's parameters, and reach the backend's fused
 * kernels wherever the importer's fusion matched the pattern: Conv → Relu → MaxPool as
 * conv2dReluMaxPool, Conv (→ Relu) as conv2d, Gemm (→ Relu) as linear, forward and backward,
 * each pattern once per pass (countingFused wraps the backend's table).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import type { FusedOp } from "../../src/backend/fused.ts";
import * as tg from "../../src/index.ts";
import { onTarget, TARGETS } from "../conformance/backends.ts";
import { countingFused } from "../fused-access.ts";

interface Case {
  name: string;
  file: string;
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}
const golden = JSON.parse(readFileSync(new URL("../golden/onnx_import.json", import.meta.url), "utf8")) as { cases: Case[] };
const RTOL = 1e-5; // to PyTorch, as torch.test.ts
const TRAINED_RTOL = 1e-4; // to js after the Adam steps: the fused kernels sum in their own order
const STEPS = 3;
const worst = { torch: 0, trained: 0 };
after(() => console.log(`# largest relative difference on any backend: ${worst.torch.toExponential(2)} to PyTorch, ${worst.trained.toExponential(2)} to js after ${STEPS} Adam steps`));

/**
 * Fused-kernel calls per forward pass and per backward pass, where the backend has the kernel. The
 * first conv's input is the data (no gradient), so only the later convs ask for an input gradient.
 */
const EXPECTED: Record<string, { forward: { [K in FusedOp]?: number }; backward: { [K in FusedOp]?: number } }> = {
  // Conv → Relu → MaxPool ×2, Flatten, Gemm → Relu, Gemm, Softmax
  w3_cnn: {
    forward: { conv2dReluMaxPool: 2, linear: 2 },
    backward: { conv2dReluMaxPoolBackwardInput: 1, conv2dReluMaxPoolBackwardWeight: 2, linearBackward: 2, adamStep: 8 },
  },
  // Conv → Relu → MaxPool ×2, Reshape, (Gemm → Relu) ×2, Gemm
  lenet: {
    forward: { conv2dReluMaxPool: 2, linear: 3 },
    backward: { conv2dReluMaxPoolBackwardInput: 1, conv2dReluMaxPoolBackwardWeight: 2, linearBackward: 3, adamStep: 10 },
  },
  // Conv → Relu, Conv, Add, BatchNormalization, Relu, GlobalAveragePool, Flatten, Gemm
  residual_bn: {
    forward: { conv2d: 2, linear: 1 },
    backward: { conv2dBackwardInput: 1, conv2dBackwardWeight: 2, linearBackward: 1, adamStep: 7 },
  },
};
const COUNTED = [...new Set(Object.values(EXPECTED).flatMap((e) => [...Object.keys(e.forward), ...Object.keys(e.backward)]))] as FusedOp[];

function relDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  assert.equal(got.length, want.length);
  let m = 0;
  for (let i = 0; i < got.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
  return m;
}

interface Run {
  output: Float32Array;
  trained: Float32Array;
  losses: number[];
  forwardCalls: Record<string, number>;
  trainCalls: Record<string, number>;
}

/** Imports `c` on the active backend, runs one forward pass and STEPS Adam steps, counting the fused calls of each. */
function run(c: Case, backend: (typeof TARGETS)[number]["backend"]): Run {
  const model = tg.onnx.importModelSync(readFileSync(new URL(`../golden/${c.file}`, import.meta.url)));
  const x = tg.tensor(Float32Array.from(c.input.data)).reshape(c.input.shape);
  const forward = countingFused(backend, COUNTED, () => Float32Array.from((model.call(x) as tg.Tensor).dataSync()));
  tg.manualSeed(7);
  const target = tg.randn(c.output.shape);
  const opt = new tg.optim.Adam(
    model.parameters().filter((p) => p.requiresGrad),
    { lr: 1e-3 },
  );
  const losses: number[] = [];
  const train = countingFused(backend, COUNTED, () => {
    for (let i = 0; i < STEPS; i++) {
      opt.zeroGrad();
      const loss = tg.F.mseLoss(model.call(x) as tg.Tensor, target);
      loss.backward();
      opt.step();
      losses.push(loss.item());
    }
  });
  const trained = Float32Array.from(model.parameters().flatMap((p) => Array.from(p.dataSync() as Float32Array)));
  return { output: forward.result, trained, losses, forwardCalls: forward.calls, trainCalls: train.calls };
}

describe("PyTorch's CNNs imported from ONNX on every backend, with its fused kernels", () => {
  for (const name of Object.keys(EXPECTED)) {
    const c = golden.cases.find((k) => k.name === name)!;
    const js = TARGETS.find((t) => t.name === "js")!;
    let reference: Run | undefined;
    const oracle = () => (reference ??= onTarget(js, 1, () => run(c, js.backend)));
    for (const t of TARGETS) {
      test(`${name} on ${t.name}: PyTorch's outputs, js's training, fused kernels where it has them`, () => {
        const r = onTarget(t, 1, () => run(c, t.backend));
        const want = oracle();
        worst.torch = Math.max(worst.torch, relDiff(r.output, c.output.data));
        worst.trained = Math.max(worst.trained, relDiff(r.trained, want.trained));
        assert.ok(relDiff(r.output, c.output.data) <= RTOL, `outputs differ from PyTorch's by ${relDiff(r.output, c.output.data)}`);
        assert.ok(r.losses.at(-1)! < r.losses[0]!, `${STEPS} Adam steps: loss ${r.losses.join(" → ")}`);
        assert.ok(relDiff(r.output, want.output) <= RTOL, "outputs differ from js's");
        assert.ok(relDiff(r.trained, want.trained) <= TRAINED_RTOL, `parameters after ${STEPS} steps differ from js's by ${relDiff(r.trained, want.trained)}`);
        const fused = t.backend.fused ?? {};
        const { forward, backward } = EXPECTED[name]!;
        for (const [op, n] of Object.entries(forward) as [FusedOp, number][]) {
          const expected = op in fused ? n : 0;
          assert.equal(r.forwardCalls[op], expected, `forward: ${op} calls`);
          assert.equal(r.trainCalls[op], STEPS * expected, `training: ${op} calls`);
        }
        for (const [op, n] of Object.entries(backward) as [FusedOp, number][])
          assert.equal(r.trainCalls[op], op in fused ? STEPS * n : 0, `training: ${op} calls`);
      });
    }
  }

  test("the js backend has no fused table, so it ran the compositions", () => {
    assert.equal(Object.keys(TARGETS.find((t) => t.name === "js")!.backend.fused ?? {}).length, 0);
  });
});
