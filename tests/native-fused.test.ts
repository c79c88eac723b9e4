/**
 * @file The native backend's linearBackward and Conv2d → ReLU → MaxPool2d kernels against the
 * composite (the same model with those table entries removed) bit for bit, with every
 * micro-kernel this CPU runs and 1–3 threads, on shapes the wasm-oriented tests do not reach:
 * images whose conv output spans several pool-row bands and several column blocks, odd pools
 * that drop rows, gradients with −0s. Skipped when the addon is not built.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { FusedOp } from "../src/backend/fused.ts";
import { nativeAddon, nativeBackend, nativeUnavailableReason } from "../src/backend/native/index.ts";
import * as tg from "../src/index.ts";
import { countingFused, withoutFused } from "./fused-access.ts";
import { onBackend, sameBits } from "./tensor-helpers.ts";

const addon = nativeAddon();
const skip = addon === null && `native addon unavailable: ${nativeUnavailableReason()}`;
const POOL: FusedOp[] = ["conv2dReluMaxPool", "conv2dReluMaxPoolBackwardInput", "conv2dReluMaxPoolBackwardWeight"];

/** N(0, 1) gradient with −0s (a negative value times 0) in about half the elements. */
const gradient = (shape: number[]) => tg.randn(shape).mul(tg.randn(shape).gt(0).to("float32"));

/** Output and input/parameter gradients of `build()` on x, with upstream gradient `gout` (built from the output's shape). */
function run(build: () => tg.nn.Sequential, xShape: number[]): tg.Tensor[] {
  tg.manualSeed(7);
  const model = build();
  const x = tg.randn(xShape).requiresGrad_(true);
  const y = model.call(x) as tg.Tensor;
  y.mul(gradient(y.shape as number[])).sum().backward();
  return [y.detach(), x.grad!, ...model.parameters().map((p) => p.grad!)];
}

/** Runs `body` on native for every micro-kernel and 1, 2 and 3 threads. */
function everyConfiguration(body: (what: string) => void): void {
  const threads = tg.backend.threads();
  try {
    onBackend("native", () => {
      for (const kernel of addon!.kernels()) {
        addon!.setKernel(kernel);
        for (const t of [1, 2, 3]) {
          tg.backend.setThreads(t);
          body(`${kernel}, ${t} thread(s)`);
        }
      }
    });
  } finally {
    addon!.setKernel("auto");
    tg.backend.setThreads(threads);
  }
}

type PoolCase = [what: string, x: number[], inC: number, outC: number, k: number, padding: number, pool: number | [number, number]];
const poolCases: PoolCase[] = [
  ["several pool-row bands and column blocks, batch 4", [4, 16, 36, 40], 16, 8, 3, 1, 2],
  ["odd 19×23 with a 3×2 pool, no padding", [5, 3, 19, 23], 3, 7, 3, 0, [3, 2]],
  ["one sample, 1 channel", [1, 1, 10, 12], 1, 4, 3, 1, 2],
];

test("native Conv2d → ReLU → MaxPool2d kernels equal the composite bit for bit (every micro-kernel, 1–3 threads)", { skip }, () => {
  everyConfiguration((cfg) => {
    for (const [what, xShape, inC, outC, k, padding, pool] of poolCases) {
      const build = () => new tg.nn.Sequential(new tg.nn.Conv2d(inC, outC, k, { padding }), new tg.nn.ReLU(), new tg.nn.MaxPool2d(pool));
      const { result: fused, calls } = countingFused(nativeBackend, POOL, () => run(build, xShape));
      for (const op of POOL) assert.equal(calls[op], 1, `${cfg}, ${what}: ${op} calls`);
      const composite = withoutFused(nativeBackend, POOL, () => run(build, xShape));
      for (const [i, t] of fused.entries()) sameBits(t, composite[i]!, `${cfg}, ${what}: result ${i}`, "the composite gives");
    }
  });
});

test("native linearBackward equals the composite bit for bit (with and without relu, every micro-kernel, 1–3 threads)", { skip }, () => {
  everyConfiguration((cfg) => {
    for (const [m, inF, outF] of [
      [3, 5, 7],
      [67, 129, 33],
    ] as const)
      for (const relu of [false, true]) {
        const build = () => new tg.nn.Sequential(new tg.nn.Linear(inF, outF), ...(relu ? [new tg.nn.ReLU()] : []), new tg.nn.Linear(outF, 3));
        const { result: fused, calls } = countingFused(nativeBackend, ["linearBackward"], () => run(build, [m, inF]));
        assert.equal(calls.linearBackward, 2, `${cfg}: linearBackward calls`);
        const composite = withoutFused(nativeBackend, ["linearBackward"], () => run(build, [m, inF]));
        for (const [i, t] of fused.entries()) sameBits(t, composite[i]!, `${cfg}, [${m}, ${inF}] → ${outF}${relu ? ", relu" : ""}: result ${i}`, "the composite gives");
      }
  });
});
