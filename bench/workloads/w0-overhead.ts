/**
 * @file W0, per-op overhead: tiny tensors, so the time is the front end (dispatch, type promotion,
 * broadcasting checks, allocation, graph recording), not the arithmetic. Mirrors peers/pytorch_w0.py.
 */
import * as tg from "../../src/index.ts";
import { type Figure, type RunOptions, usPerOp } from "../lib/figure.ts";
import type { Workload } from "./types.ts";

/** The op counts BENCHMARKS.md names (100 000 adds); the others are sized to take a similar time. */
export const W0_ITERS = { add: 100_000, mul_scalar: 100_000, sum: 100_000, matmul_8x8: 50_000, autograd_roundtrip: 20_000, linear_1x784: 20_000, conv2d_1x28x28: 5_000 };

/** Keeps the last result alive so no loop can be optimised away. */
let sink: unknown = null;

function measure(backend: string, opts: RunOptions): Figure[] {
  const iters = (n: number) => Math.max(1, Math.round(n * opts.scale));
  const figure = (op: string, value: number): Figure => ({
    framework: "tensorgrad",
    backend,
    threads: opts.threads,
    workload: "W0",
    metric: "us_per_op",
    value,
    unit: "us",
    op,
  });
  const a = tg.rand([8]);
  const b = tg.rand([8]);
  const m1 = tg.rand([8, 8]);
  // rows sum to 1, so the chain c = c·m2 stays bounded (each entry a weighted mean of the previous row)
  const m2raw = tg.rand([8, 8]).add(0.1);
  const m2 = m2raw.div(m2raw.sum(1, true));
  const out: Figure[] = [];

  // Each loop chains its results (c = c.op(...)) so that every result is consumed and no JIT can
  // drop the work; values stay bounded. peers/pytorch_w0.py runs the same chains.

  // (a) c = c + b, 8 float32 elements, no grad
  out.push(
    figure(
      "add",
      usPerOp((n) => {
        let c = a;
        for (let i = 0; i < n; i++) c = c.add(b);
        sink = c;
      }, iters(W0_ITERS.add), opts.repeats),
    ),
  );

  // (b) autograd round trip: y = relu(x * w + bias).sum(); y.backward() (gradient accumulates into x.grad)
  const x = tg.rand([8]).requiresGrad_();
  const w = tg.rand([8]);
  const bias = tg.rand([8]);
  out.push(
    figure(
      "autograd_roundtrip",
      usPerOp((n) => {
        for (let i = 0; i < n; i++) x.mul(w).add(bias).relu().sum().backward();
        sink = x.grad;
      }, iters(W0_ITERS.autograd_roundtrip), opts.repeats),
    ),
  );

  // (c) for information: more small ops (sum: 0-d results, not chainable; c = a.sum() each time)
  out.push(
    figure(
      "mul_scalar",
      usPerOp((n) => {
        let c = a;
        for (let i = 0; i < n; i++) c = c.mul(1.0001);
        sink = c;
      }, iters(W0_ITERS.mul_scalar), opts.repeats),
    ),
  );
  out.push(
    figure(
      "matmul_8x8",
      usPerOp((n) => {
        let c = m1;
        for (let i = 0; i < n; i++) c = c.matmul(m2);
        sink = c;
      }, iters(W0_ITERS.matmul_8x8), opts.repeats),
    ),
  );
  out.push(
    figure(
      "sum",
      usPerOp((n) => {
        let c = a;
        for (let i = 0; i < n; i++) c = a.sum();
        sink = c;
      }, iters(W0_ITERS.sum), opts.repeats),
    ),
  );
  // (d) batch-1 inference calls (no graph): a Linear(784→128) on [1, 784], a Conv2d(1→16, 3×3, pad 1) on one 28×28 image
  tg.manualSeed(0);
  const fc = new tg.nn.Linear(784, 128);
  const conv = new tg.nn.Conv2d(1, 16, 3, { padding: 1 });
  const row = tg.rand([1, 784]);
  const image = tg.rand([1, 1, 28, 28]);
  const batch1 = (op: string, layer: tg.nn.Module, input: tg.Tensor, n: number) =>
    out.push(figure(op, tg.noGrad(() => usPerOp((k) => {
      for (let i = 0; i < k; i++) sink = layer.call(input);
    }, iters(n), opts.repeats))));
  batch1("linear_1x784", fc, row, W0_ITERS.linear_1x784);
  batch1("conv2d_1x28x28", conv, image, W0_ITERS.conv2d_1x28x28);
  if (sink === undefined) throw new Error("W0: lost a result");
  return out;
}

export const w0: Workload = {
  id: "W0",
  title: "per-op overhead on 8-element tensors (add, autograd round trip, mul by a scalar, 8×8 matmul, sum) and batch-1 Linear(784→128) / Conv2d(1→16) on 28×28, µs per op",
  run: measure,
};
