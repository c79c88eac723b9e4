/**
 * @file Conformance of every fused op of the table (src/backend/fused.ts) on every backend that
 * has its kernel: the dispatcher's op (src/fused/) with the kernel, against the same op with that
 * one kernel removed (its composition — what runs where a backend lacks it), bit for bit unless
 * the backend declares the op inexact (backends.ts: then within 10⁻⁵ of the output's scale), at
 * every thread count; each test asserts the kernel ran. Operands: odd sizes, strided, transposed,
 * offset, negative-walk and channel-slice views, −0, NaN and ±∞ where the op is bit-exact.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, type TestContext, test } from "node:test";
import { noGrad } from "../../src/autograd/mode.ts";
import type { StridedView, Window2d } from "../../src/backend/backend.ts";
import type { FusedOp } from "../../src/backend/fused.ts";
import { adamStep } from "../../src/fused/adam.ts";
import { convReluMaxPool, convReluMaxPoolGradients } from "../../src/fused/conv-relu-pool.ts";
import { conv2dGradients, convolve } from "../../src/fused/conv2d.ts";
import { FrozenLinear } from "../../src/fused/frozen-linear.ts";
import { linearGradients, linearOp } from "../../src/fused/linear.ts";
import { reluBackward } from "../../src/fused/relu-backward.ts";
import { maxPool2dWindows } from "../../src/ops/conv.ts";
import { Tensor } from "../../src/tensor/tensor.ts";
import type { TypedArray } from "../../src/base/dtype.ts";
import { countingFused, withoutFused } from "../fused-access.ts";
import { lacks, onTarget, type Target, TARGETS } from "./backends.ts";
import { acrossThreads, arraysOf, type Layout, randomView, type Result, sameResult } from "./views.ts";

const T = (v: StridedView) => new Tensor(v.data, v.dtype, v.shape, v.strides, v.offset);
const data = (r: Tensor | null): TypedArray | null => (r === null ? null : (r.contiguous().data as TypedArray));

/** Within 10⁻⁵ of the larger of the output's largest magnitude and 10⁻³ (non-finite values exactly): a declared inexact kernel. */
function nearResult(got: Result, want: Result, what: string): void {
  const a = arraysOf(got);
  const b = arraysOf(want);
  assert.equal(a.length, b.length, `${what}: parts`);
  for (let p = 0; p < b.length; p++) {
    const x = a[p]!;
    const y = b[p]!;
    assert.equal(x.length, y.length, `${what}: length`);
    let scale = 1e-3;
    for (let i = 0; i < y.length; i++) if (Number.isFinite(y[i]!)) scale = Math.max(scale, Math.abs(y[i]!));
    for (let i = 0; i < y.length; i++) {
      const ok = Number.isFinite(y[i]!) ? Math.abs(x[i]! - y[i]!) <= 1e-5 * scale : Object.is(x[i], y[i]) || (Number.isNaN(x[i]!) && Number.isNaN(y[i]!));
      if (!ok) assert.fail(`${what} [part ${p}]: element ${i} is ${x[i]}, the composition gives ${y[i]}`);
    }
  }
}

/** Ops whose kernels use no selectable variant (the rest run in each of native's micro-kernels). */
const VARIANT_FREE: ReadonlySet<FusedOp> = new Set(["reluBackward", "adamStep"]);

/**
 * `run` on t with kernel `op` and with it removed (composed on t itself), at every thread count and
 * in each of t's kernel variants: equal (bit for bit, or near where t declares `op` inexact).
 * Returns how many calls of the kernel did not decline.
 */
function conforms(t: Target, op: FusedOp, what: string, run: () => Result): number {
  let ran = 0;
  for (const variant of VARIANT_FREE.has(op) ? [null] : t.variants) {
    const restore = t.selectVariant(variant);
    const label = variant === null ? what : `${what} (${variant})`;
    try {
      acrossThreads(t, label, () => {
        const { result, calls } = countingFused(t.backend, [op], () => noGrad(run));
        if (calls[op]! > 0) ran++;
        return result;
      }, (got, at) => {
        // the composition runs on t itself (its primitives): another backend's would sum in its own order
        const want = onTarget(t, t.threads[0]!, () => withoutFused(t.backend, [op], () => noGrad(run)));
        if (t.inexact[op] !== undefined) nearResult(got, want, `${at} (${op} is inexact on ${t.name}: ${t.inexact[op]})`);
        else sameResult(got, want, `${at} vs the composition`, "the composition gives");
      });
    } finally {
      restore();
    }
  }
  return ran;
}

/** One test per target for fused op `op`, skipped (with the reason) where the target lacks the kernel. */
function forEachTarget(op: FusedOp, title: string, body: (t: Target, ctx: TestContext) => number): void {
  for (const t of TARGETS)
    test(`${t.name}: ${op}: ${title}`, { skip: lacks(t, op) }, (ctx) => {
      assert.ok(body(t, ctx) > 0, `${t.name}: the ${op} kernel never ran`);
    });
}

describe("linear, linearBackward, packLinear/linearPacked, reluBackward, adamStep", () => {
  const shapes: [number, number, number][] = [];
  for (const M of [1, 2, 3, 5, 13, 130]) for (const [K, N] of [[1, 1], [7, 5], [33, 7], [300, 65], [784, 33]] as const) shapes.push([M, K, N]);
  const linearCase = (i: number, [M, K, N]: number[]) => {
    const x = T(randomView(i, [M!, K!], "float32", [{}, { pad: 1, offset: 3 }, { negative: [0] }, { order: [1, 0] }][i % 4]!));
    const w = T(randomView(i + 1, [N!, K!], "float32", i % 2 === 0 ? {} : { order: [1, 0], offset: 2 }));
    const b = i % 3 === 1 ? null : T(randomView(i + 2, [N!], "float32", { pad: 1, offset: 1 }));
    return { x, w, b, relu: i % 3 !== 0 };
  };

  forEachTarget("linear", "x·wᵀ + bias, relu: strided x, w and bias; rows alone equal the batch's; float64", (t) => {
    let ran = 0;
    for (const [i, s] of shapes.entries()) {
      const { x, w, b, relu } = linearCase(i, s);
      ran += conforms(t, "linear", `[${s}] bias=${b !== null} relu=${relu}`, () => {
        const y = data(linearOp(x, w, b, relu))!;
        const last = data(linearOp(x.narrow(0, s[0]! - 1, 1), w, b, relu))!;
        assert.ok(Object.is(last[last.length - 1], y[y.length - 1]), "the last row alone gives the batch's bits");
        return y;
      });
    }
    const x64 = T(randomView(5, [3, 4], "float64"));
    const w64 = T(randomView(6, [2, 4], "float64"));
    ran += conforms(t, "linear", "float64", () => data(linearOp(x64, w64, null, true)));
    return ran;
  });

  forEachTarget("linearBackward", "dx, dw, db from g (contiguous, transposed, broadcast), relu mask, each subset of needs", (t) => {
    let ran = 0;
    for (const [M, K, N] of [[1, 7, 5], [3, 33, 17], [5, 300, 65], [128, 784, 64], [64, 40, 257]] as const) {
      const x = T(randomView(M, [M, K], "float32", {}, false));
      const w = T(randomView(K, [N, K], "float32", {}, false));
      const y = T(randomView(N, [M, N], "float32", {})).relu();
      const gs = [T(randomView(1, [M, N], "float32")), T(randomView(2, [M, N], "float32", { order: [1, 0] })), T(randomView(3, [M, N], "float32", { broadcast: [0] }))];
      for (const [gi, g] of gs.entries())
        for (const relu of [false, true])
          for (const needs of [[true, true, true], [false, true, true], [true, false, false]])
            ran += conforms(t, "linearBackward", `[${M},${K}]→${N} g#${gi} relu=${relu} needs=${needs}`, () => linearGradients(g, x, w, true, relu ? y : null, needs).map(data));
    }
    return ran;
  });

  forEachTarget("linearPacked", "a frozen layer (weight packed once) equals the ordinary linear on its snapshot", (t) => {
    let ran = 0;
    for (const [i, s] of shapes.entries()) {
      const { x, w, b, relu } = linearCase(i, s);
      ran += conforms(t, "linearPacked", `[${s}]`, () => {
        const f = withoutFused(t.backend, [], () => new FrozenLinear(w, b));
        return data(f.forward(x, relu) ?? linearOp(x, f.weight, f.bias, relu));
      });
    }
    return ran;
  });

  forEachTarget("reluBackward", "g·(y > 0) on strided, broadcast and large views with −0, NaN, ±∞", (t) => {
    let ran = 0;
    const shapes: number[][] = [[1], [7], [1025], [33, 257], [2, 1, 33, 17], [3, 4, 5, 6, 7], [540001], [3, 257, 701]];
    const layouts: Layout[] = [{}, { offset: 3, pad: 1 }, { broadcast: [0] }, { negative: [0] }];
    for (const [i, shape] of shapes.entries())
      for (const [k, l] of layouts.entries()) {
        const g = T(randomView(i + k, shape, "float32", l));
        const y = T(randomView(i + k + 1, shape, "float32", layouts[(k + 1) % 4]!));
        ran += conforms(t, "reluBackward", `[${shape}] layout ${k}`, () => data(reluBackward(g, y)));
      }
    return ran;
  });

  forEachTarget("adamStep", "Adam, L2, AdamW, AMSGrad and maximize on odd lengths, zero, −0 and huge gradients", (t) => {
    let ran = 0;
    const hs = [
      [0.9, 0.999, 0.01, 0.3, 1e-8, 0, 1, 0, 1],
      [0.9, 0.999, 0.01, 0.3, 1e-8, 0.1, 1, 0, 1],
      [0.8, 0.99, 0.02, 0.1, 1e-8, 0, 0.999, 1, 1],
      [0.9, 0.999, 0.01, 0.5, 1e-8, 0, 1, 0, -1],
    ];
    for (const n of [3, 1031, 2053, 530001])
      for (const [i, h] of hs.entries()) {
        const base = [1, 2, 3, 4].map((s) => randomView(n + s, [n], "float32", {}, false).data as Float32Array);
        base[1]!.set([0, -0, 1e30, -1e-40], 0);
        const amsgrad = i % 2 === 1;
        ran += conforms(t, "adamStep", `n=${n} h=${h}`, () => {
          const [w, g, m, v] = base.map((a) => a.slice(0, n));
          m!.fill(0.01);
          v!.fill(0.02);
          const vMax = amsgrad ? new Float32Array(n).fill(0.03) : null;
          for (let s = 0; s < 2; s++) adamStep(w!, g!, m!, v!, vMax, h);
          return [w!, m!, v!, vMax];
        });
      }
    return ran;
  });
});

interface Conv {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  k: [number, number];
  stride?: [number, number];
  pad?: [number, number];
  /** Padding after the last row and column where it differs from `pad` (asymmetric padding). */
  padEnd?: [number, number];
  dilation?: [number, number];
  bias?: boolean;
  x?: Layout;
  w?: Layout;
  g?: Layout;
}

function windowOf(c: Conv): Window2d {
  const [sh, sw] = c.stride ?? [1, 1];
  const [ph, pw] = c.pad ?? [0, 0];
  const [eh, ew] = c.padEnd ?? [ph, pw];
  const [dh, dw] = c.dilation ?? [1, 1];
  const outSize = [Math.floor((c.H + ph + eh - dh * (c.k[0] - 1) - 1) / sh) + 1, Math.floor((c.W + pw + ew - dw * (c.k[1] - 1) - 1) / sw) + 1] as const;
  return { kernel: c.k, stride: [sh, sw], padding: [ph, pw], dilation: [dh, dw], outSize };
}

const NHWC: Layout = { order: [0, 2, 3, 1] };
const CONVS: Conv[] = [
  { N: 3, C: 1, H: 28, W: 28, O: 16, k: [3, 3], pad: [1, 1] },
  { N: 2, C: 16, H: 14, W: 14, O: 32, k: [3, 3], pad: [1, 1] },
  { N: 2, C: 3, H: 9, W: 11, O: 5, k: [3, 2], stride: [2, 2], pad: [1, 0], bias: false },
  { N: 2, C: 2, H: 10, W: 7, O: 3, k: [3, 3], pad: [2, 2], dilation: [2, 2] },
  { N: 1, C: 1, H: 6, W: 5, O: 1, k: [2, 2] },
  { N: 2, C: 3, H: 11, W: 13, O: 4, k: [3, 3], stride: [2, 1], pad: [0, 3], dilation: [1, 3] },
  { N: 2, C: 40, H: 20, W: 20, O: 9, k: [3, 3], pad: [1, 1] },
  { N: 2, C: 7, H: 5, W: 6, O: 133, k: [1, 1] },
  { N: 3, C: 2, H: 4, W: 5, O: 7, k: [4, 5] },
  { N: 2, C: 3, H: 4, W: 25, O: 2, k: [1, 17], pad: [0, 2] },
  { N: 2, C: 3, H: 7, W: 6, O: 5, k: [3, 3], pad: [1, 1], x: { order: [0, 1, 3, 2] } },
  { N: 2, C: 2, H: 9, W: 8, O: 4, k: [3, 3], stride: [2, 2], x: { pad: 3, offset: 7 } },
  { N: 2, C: 2, H: 6, W: 9, O: 5, k: [2, 3], pad: [1, 1], x: { negative: [2] }, w: { negative: [2], offset: 7 } },
  { N: 3, C: 4, H: 8, W: 7, O: 6, k: [3, 3], stride: [2, 1], pad: [1, 1], x: { ...NHWC, offset: 5 }, w: { order: [1, 0, 2, 3], pad: 1 }, g: { order: [1, 0, 2, 3], offset: 2 } },
  { N: 2, C: 3, H: 7, W: 5, O: 6, k: [3, 2], pad: [1, 0], g: { order: [0, 1, 3, 2] }, w: { order: [1, 0, 3, 2] } },
  { N: 2, C: 9, H: 41, W: 37, O: 5, k: [3, 3], pad: [1, 1] },
  { N: 1, C: 40, H: 20, W: 21, O: 3, k: [3, 3], stride: [2, 1], pad: [1, 1], x: NHWC, bias: false },
  { N: 1, C: 16, H: 40, W: 100, O: 4, k: [3, 3], pad: [1, 1] },
  { N: 1, C: 16, H: 32, W: 32, O: 64, k: [3, 3], pad: [1, 1] },
  { N: 16, C: 16, H: 14, W: 14, O: 32, k: [3, 3], pad: [1, 1] },
  { N: 7, C: 8, H: 21, W: 19, O: 12, k: [3, 3], stride: [2, 2], pad: [1, 1] },
  // asymmetric padding, padding beyond half the kernel (windows wholly in the padding), channel slices of x, g and y
  { N: 2, C: 3, H: 9, W: 11, O: 5, k: [2, 3], stride: [2, 2], pad: [0, 1], padEnd: [1, 0] },
  { N: 3, C: 5, H: 10, W: 9, O: 7, k: [3, 2], dilation: [2, 2], pad: [2, 0], padEnd: [1, 3] },
  { N: 2, C: 2, H: 5, W: 4, O: 3, k: [3, 3], pad: [3, 3] },
  { N: 2, C: 3, H: 4, W: 6, O: 4, k: [2, 2], stride: [3, 2], pad: [2, 3], padEnd: [3, 0] },
  { N: 2, C: 4, H: 7, W: 6, O: 5, k: [3, 3], pad: [1, 1], x: { within: [0, 3, 0, 0] }, g: { within: [0, 2, 0, 0] } },
  { N: 3, C: 6, H: 8, W: 8, O: 16, k: [3, 3], pad: [1, 1], x: { within: [1, 2, 0, 0], offset: 3 }, w: { within: [2, 0, 0, 0] }, g: { within: [0, 5, 0, 0], ...NHWC } },
  { N: 0, C: 2, H: 5, W: 5, O: 3, k: [3, 3] },
  { N: 2, C: 0, H: 5, W: 5, O: 3, k: [3, 3], pad: [1, 1] },
];

function convOperands(c: Conv, i: number) {
  const win = windowOf(c);
  const x = T(randomView(i, [c.N, c.C, c.H, c.W], "float32", c.x ?? {}, false));
  const w = T(randomView(i + 1, [c.O, c.C, ...c.k], "float32", c.w ?? {}, false));
  const b = c.bias === false ? null : T(randomView(i + 2, [c.O], "float32", { pad: 1, offset: 1 }, false));
  const g = T(randomView(i + 3, [c.N, c.O, ...win.outSize], "float32", c.g ?? {}));
  // relu's output with exact zeros, −0 and a NaN: the mask the gradient kernels apply
  const y = T(randomView(i + 4, [c.N, c.O, ...win.outSize], "float32", c.g ?? {})).relu();
  return { win, x, w, b, g, y };
}

describe("conv2d, its gradients, and Conv2d → ReLU → MaxPool2d", () => {
  forEachTarget("conv2d", "x ⋆ w + bias, relu or not: odd sizes, stride, dilation, padding, strided views, empty batch, no channels", (t) => {
    let ran = 0;
    for (const [i, c] of CONVS.entries()) {
      const { win, x, w, b } = convOperands(c, i);
      for (const relu of [false, true]) ran += conforms(t, "conv2d", `${JSON.stringify(c)} relu=${relu}`, () => data(convolve(x, w, b, win, 1, relu)));
    }
    // float64 operands: kernels decline, the dispatcher composes
    const c64: Conv = { N: 2, C: 3, H: 6, W: 5, O: 4, k: [3, 3], pad: [1, 1] };
    const [x64, w64, b64] = [[2, 3, 6, 5], [4, 3, 3, 3], [4]].map((shape, i) => T(randomView(i, shape, "float64", {}, false)));
    conforms(t, "conv2d", "float64", () => data(convolve(x64!, w64!, b64!, windowOf(c64), 1, true)));
    return ran;
  });

  // random geometries (fast-check, seeded): every target sees the same ones
  const RANDOM_CONVS: Conv[] = fc
    .sample(
      fc.record({
        N: fc.integer({ min: 1, max: 3 }),
        C: fc.integer({ min: 1, max: 6 }),
        H: fc.integer({ min: 1, max: 12 }),
        W: fc.integer({ min: 1, max: 12 }),
        O: fc.integer({ min: 1, max: 9 }),
        k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
        stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
        pad: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
        padEnd: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
        dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
        bias: fc.boolean(),
      }),
      { seed: 20261207, numRuns: 200 },
    )
    .filter((c) => windowOf(c).outSize.every((n) => n >= 1))
    .slice(0, 40);
  for (const op of ["conv2d", "conv2dBackwardInput", "conv2dBackwardWeight"] as const)
    forEachTarget(op, `${RANDOM_CONVS.length} random geometries (fast-check)`, (t) => {
      let ran = 0;
      for (const [i, c] of RANDOM_CONVS.entries()) {
        const { win, x, w, b, g, y } = convOperands(c, 100 + i);
        const needs = op === "conv2dBackwardWeight" ? [false, true, c.bias!] : [true, false, false];
        ran += conforms(t, op, JSON.stringify(c), () =>
          op === "conv2d" ? data(convolve(x, w, b, win, 1, i % 2 === 0)) : conv2dGradients(g, x, w, win, c.bias ? needs : needs.slice(0, 2), i % 2 === 0 ? y : null).map(data),
        );
      }
      return ran;
    });

  for (const op of ["conv2dBackwardInput", "conv2dBackwardWeight"] as const)
    forEachTarget(op, "from g (strided, −0, NaN, ±∞), with relu's mask y or without", (t) => {
      let ran = 0;
      const needs = op === "conv2dBackwardInput" ? [true, false, false] : [false, true, true];
      for (const [i, c] of CONVS.entries()) {
        const { win, x, w, g, y } = convOperands(c, i);
        for (const masked of [false, true]) {
          const what = `${JSON.stringify(c)} mask=${masked}`;
          ran += conforms(t, op, what, () => conv2dGradients(g, x, w, win, c.bias === false ? needs.slice(0, 2) : needs, masked ? y : null).map(data));
          // the mask inside the kernel equals relu's gradient taken first, bit for bit
          if (masked) {
            const inKernel = noGrad(() => conv2dGradients(g, x, w, win, needs, y).map(data));
            const first = noGrad(() => conv2dGradients(reluBackward(g, y).contiguous(), x, w, win, needs, null).map(data));
            acrossThreads(t, `${what}: mask`, () => inKernel, (got, label) => sameResult(got, first, `${label} vs reluBackward first`));
          }
        }
      }
      return ran;
    });

  const POOLED: [Conv, [number, number]][] = [
    [{ N: 6, C: 1, H: 28, W: 28, O: 16, k: [3, 3], pad: [1, 1] }, [2, 2]],
    [{ N: 6, C: 16, H: 14, W: 14, O: 32, k: [3, 3], pad: [1, 1] }, [2, 2]],
    [{ N: 5, C: 3, H: 9, W: 11, O: 4, k: [3, 3], pad: [1, 1] }, [3, 3]],
    [{ N: 1, C: 3, H: 13, W: 15, O: 5, k: [3, 3], pad: [1, 1] }, [2, 2]],
    [{ N: 5, C: 3, H: 13, W: 10, O: 6, k: [3, 3], stride: [2, 2], bias: false }, [2, 2]],
    [{ N: 5, C: 2, H: 11, W: 9, O: 3, k: [2, 2], x: NHWC }, [2, 3]],
  ];
  const poolOperands = (c: Conv, p: [number, number], i: number) => {
    const ops = convOperands(c, i);
    // x with ties, −0, NaN and ±∞ (the pooled chain is bit-exact)
    const xs = ops.x.contiguous();
    const d = xs.data as Float32Array;
    for (let k = 0; k < d.length; k += 7) d[k] = d[k + 1] ?? d[k]!;
    for (let k = 3; k < d.length; k += 11) d[k] = -0;
    if (d.length > 3) [d[Math.floor(d.length / 3)], d[Math.floor(d.length / 2)]] = [Number.NaN, Number.POSITIVE_INFINITY];
    const conv = ops.win.outSize;
    const pool: Window2d = { kernel: p, stride: p, padding: [0, 0], dilation: [1, 1], outSize: [Math.floor(conv[0] / p[0]), Math.floor(conv[1] / p[1])] };
    const g = T(randomView(i + 9, [c.N, c.O, ...pool.outSize], "float32"));
    return { ...ops, x: xs, pool, g };
  };

  forEachTarget("conv2dReluMaxPool", "pooled values of the relu'd conv (ties, NaN, ±∞, dropped rows and columns)", (t) => {
    let ran = 0;
    for (const [i, [c, p]] of POOLED.entries()) {
      const { win, x, w, b, pool } = poolOperands(c, p, i);
      ran += conforms(t, "conv2dReluMaxPool", `${JSON.stringify(c)} pool ${p}`, () => data(convReluMaxPool(x, w, b, win, pool)));
    }
    return ran;
  });

  for (const op of ["conv2dReluMaxPoolBackwardInput", "conv2dReluMaxPoolBackwardWeight"] as const)
    forEachTarget(op, "the unfused chain's scatter, relu mask and conv gradient", (t) => {
      let ran = 0;
      for (const [i, [c, p]] of POOLED.entries()) {
        const { win, x, w, b, pool, g } = poolOperands(c, p, i);
        const { values, indices } = noGrad(() => maxPool2dWindows(convolve(x, w, b, win, 1, true), pool));
        const needs = op.endsWith("Input") ? [true, false, false] : [false, true, b !== null];
        ran += conforms(t, op, `${JSON.stringify(c)} pool ${p}`, () => convReluMaxPoolGradients(g, x, w, values, indices, win, pool, needs).map(data));
      }
      return ran;
    });
});
