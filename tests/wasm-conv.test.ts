/**
 * @file The wasm backend's fused convolution hooks (conv2d, conv2dBackwardInput,
 * conv2dBackwardWeight) against the js composition (im2col + matmul + bias add, matmul + col2im,
 * per-sample products summed over the batch) on random shapes: odd sizes, stride 2, dilation 2,
 * asymmetric padding, C = 1, N = 1, few and many output channels, several K blocks, strided,
 * offset and negative-stride views of every operand, with and without bias. The forward and the
 * input gradient also equal the wasm backend's own composition bit for bit, and every hook gives
 * the same bits on 1, 2 and 3 threads (one large image on 2 threads goes to the composition).
 */
import "./ensure-wasm.ts";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StridedView, Window2d } from "../src/backend/backend.ts";
import { jsBackend } from "../src/backend/js/index.ts";
import { getThreads, setThreads, wasmBackend } from "../src/backend/wasm/index.ts";
import * as tg from "../src/index.ts";
import { randomF32 } from "./gemm-helpers.ts";
import { hooks } from "./fused-access.ts";

const gen = new tg.Generator(20261124);
const EPS = 2 ** -23;

interface Case {
  what: string;
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  k: [number, number];
  stride?: [number, number];
  /** [top, bottom, left, right] */
  pad?: [number, number, number, number];
  dilation?: [number, number];
  bias?: boolean;
  /** How x is laid out: contiguous, a view with W and H strides swapped, a padded (narrowed) view at an offset, or rows walked backwards. */
  xLayout?: "contiguous" | "transposed" | "padded" | "negative";
  /** g laid out with its Ho and Wo strides swapped (its [Ho, Wo] do not merge into one stride). */
  gTransposed?: boolean;
  /** w as a permuted view ([O, C, kh, kw] over [C, O, kw, kh] storage). */
  wPermuted?: boolean;
}

function windowOf(c: Case): Window2d {
  const [sh, sw] = c.stride ?? [1, 1];
  const [pt, pb, pl, pr] = c.pad ?? [0, 0, 0, 0];
  const [dh, dw] = c.dilation ?? [1, 1];
  const Ho = Math.floor((c.H + pt + pb - dh * (c.k[0] - 1) - 1) / sh) + 1;
  const Wo = Math.floor((c.W + pl + pr - dw * (c.k[1] - 1) - 1) / sw) + 1;
  return { kernel: c.k, stride: [sh, sw], padding: [pt, pl], dilation: [dh, dw], outSize: [Ho, Wo] };
}

function contiguousView(data: Float32Array, shape: number[], offset = 0): StridedView {
  const strides: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return { data, dtype: "float32", shape, strides, offset };
}

/** A random [N, C, H, W] view laid out as `layout`. */
function imageView(shape: [number, number, number, number], layout: Case["xLayout"] = "contiguous"): StridedView {
  const [N, C, H, W] = shape;
  if (layout === "transposed") return { data: randomF32(gen, N * C * H * W), dtype: "float32", shape, strides: [C * H * W, H * W, 1, H], offset: 0 };
  if (layout === "padded") return { data: randomF32(gen, 7 + N * C * H * (W + 3)), dtype: "float32", shape, strides: [C * H * (W + 3), H * (W + 3), W + 3, 1], offset: 7 };
  if (layout === "negative") return { data: randomF32(gen, N * C * H * W), dtype: "float32", shape, strides: [C * H * W, H * W, -W, 1], offset: (H - 1) * W };
  return contiguousView(randomF32(gen, N * C * H * W), shape);
}

/** A contiguous float32 copy of any view. */
const dense = (v: StridedView) => contiguousView(jsBackend.copy(v, "float32") as Float32Array, [...v.shape]);
const abs = (v: StridedView): StridedView => ({ ...v, data: (v.data as Float32Array).map(Math.abs) });

/** a [B, M, K] (or [1, M, K] broadcast over b's batch) · b [B, K, N] on a backend; `ta` reads a as [B, K, M] transposed. */
function bmm(be: typeof jsBackend, a: StridedView, b: StridedView, B: number, ta = false): Float32Array {
  const [, r, c] = a.shape as [number, number, number];
  const av: StridedView = ta
    ? { ...a, shape: [B, c, r], strides: [0, a.strides[2]!, a.strides[1]!] }
    : { ...a, shape: [B, r, c], strides: [a.shape[0] === 1 ? 0 : a.strides[0]!, a.strides[1]!, a.strides[2]!] };
  return be.matmul(av, b) as Float32Array;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, terms: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const tol = (terms + 2) * EPS * bound[i]! + 1e-30;
    if (!(Math.abs(got[i]! - want[i]!) <= tol)) assert.fail(`${what}: element ${i} is ${got[i]}, the composition gives ${want[i]} (tolerance ${tol})`);
  }
}

function assertSameBits(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i} is ${a[i]} vs ${b[i]}`);
}

interface Operands {
  x: StridedView;
  w: StridedView;
  bias: StridedView | null;
  g: StridedView;
  win: Window2d;
}

function operands(c: Case): Operands {
  const win = windowOf(c);
  const [Ho, Wo] = win.outSize;
  const x = imageView([c.N, c.C, c.H, c.W], c.xLayout);
  const [kh, kw] = c.k;
  const w: StridedView = c.wPermuted
    ? { data: randomF32(gen, c.O * c.C * kh * kw), dtype: "float32", shape: [c.O, c.C, kh, kw], strides: [kh * kw, c.O * kh * kw, 1, kh], offset: 0 }
    : contiguousView(randomF32(gen, c.O * c.C * kh * kw), [c.O, c.C, kh, kw]);
  // a strided bias: every other element of a longer array
  const bias: StridedView | null = c.bias === false ? null : { data: randomF32(gen, 2 * c.O + 1), dtype: "float32", shape: [c.O], strides: [2], offset: 1 };
  const g: StridedView = c.gTransposed
    ? { data: randomF32(gen, c.N * c.O * Ho * Wo), dtype: "float32", shape: [c.N, c.O, Ho, Wo], strides: [c.O * Ho * Wo, Ho * Wo, 1, Ho], offset: 0 }
    : contiguousView(randomF32(gen, c.N * c.O * Ho * Wo), [c.N, c.O, Ho, Wo]);
  return { x, w, bias, g, win };
}

/** The forward by composition on `be`: im2col, one batched product with w broadcast, then the bias added in float32. */
function composedForward(be: typeof jsBackend, { x, w, bias, win }: Operands): Float32Array {
  const [N, C] = x.shape as [number, number];
  const [O, , kh, kw] = w.shape as [number, number, number, number];
  const K = C * kh * kw;
  const L = win.outSize[0] * win.outSize[1];
  const cols = contiguousView(be.im2col(x, win) as Float32Array, [N, K, L]);
  const out = bmm(be, contiguousView(dense(w).data as Float32Array, [1, O, K]), cols, N);
  if (bias !== null) for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i]! + bias.data[bias.offset + Math.floor(i / L) % O * bias.strides[0]!]!);
  return out;
}

function checkForward(c: Case, ops = operands(c)): void {
  const got = hooks(wasmBackend).conv2d!(ops.x, ops.w, ops.bias, ops.win);
  assert.ok(got !== null, `${c.what}: conv2d returned null`);
  const want = composedForward(jsBackend, ops);
  const bound = composedForward(jsBackend, { ...ops, x: abs(dense(ops.x)), w: abs(dense(ops.w)), bias: ops.bias === null ? null : abs(dense(ops.bias)) });
  assertClose(got, want, bound, c.C * c.k[0] * c.k[1] + 1, `${c.what}: conv2d`);
  assertSameBits(got, composedForward(wasmBackend, ops), `${c.what}: conv2d vs the wasm composition`);
}

/** The input gradient by composition on `be`: wᵀ·g per sample, then col2im. */
function composedInput(be: typeof jsBackend, { g, w, win }: Operands, inSize: [number, number]): Float32Array {
  const [N, O] = g.shape as [number, number];
  const [, C, kh, kw] = w.shape as [number, number, number, number];
  const K = C * kh * kw;
  const L = win.outSize[0] * win.outSize[1];
  const cols = bmm(be, contiguousView(dense(w).data as Float32Array, [1, O, K]), contiguousView(dense(g).data as Float32Array, [N, O, L]), N, true);
  return be.col2im(contiguousView(cols, [N, K, L]), win, inSize) as Float32Array;
}

function checkInput(c: Case, ops = operands(c)): void {
  const got = hooks(wasmBackend).conv2dBackwardInput!(ops.g, ops.w, ops.win, [c.H, c.W]);
  assert.ok(got !== null, `${c.what}: conv2dBackwardInput returned null`);
  const want = composedInput(jsBackend, ops, [c.H, c.W]);
  const bound = composedInput(jsBackend, { ...ops, g: abs(dense(ops.g)), w: abs(dense(ops.w)) }, [c.H, c.W]);
  // col2im adds up to kh·kw products of O terms each
  assertClose(got, want, bound, c.O * c.k[0] * c.k[1], `${c.what}: conv2dBackwardInput`);
  assertSameBits(got, composedInput(wasmBackend, ops, [c.H, c.W]), `${c.what}: conv2dBackwardInput vs the wasm composition`);
}

/** dw by composition on js: g·colsᵀ per sample (float64 sums), summed over the batch in float64; db: g summed in float64. */
function composedWeight({ g, x, win }: Operands): { dw: Float64Array; db: Float64Array } {
  const [N, C] = x.shape as [number, number];
  const O = g.shape[1]!;
  const K = C * win.kernel[0] * win.kernel[1];
  const L = win.outSize[0] * win.outSize[1];
  const cols = jsBackend.im2col(x, win) as Float32Array;
  const colsT: StridedView = { data: cols, dtype: "float32", shape: [N, L, K], strides: [K * L, 1, L], offset: 0 };
  const gd = dense(g).data as Float32Array;
  const per = jsBackend.matmul(contiguousView(gd, [N, O, L]), colsT) as Float32Array;
  const dw = new Float64Array(O * K);
  for (let n = 0; n < N; n++) for (let i = 0; i < O * K; i++) dw[i] = dw[i]! + per[n * O * K + i]!;
  const db = new Float64Array(O);
  for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) for (let l = 0; l < L; l++) db[o] = db[o]! + gd[(n * O + o) * L + l]!;
  return { dw, db };
}

function checkWeight(c: Case, ops = operands(c)): void {
  const bias = c.bias !== false;
  const got = hooks(wasmBackend).conv2dBackwardWeight!(ops.g, ops.x, ops.win, bias);
  assert.ok(got !== null, `${c.what}: conv2dBackwardWeight returned null`);
  const want = composedWeight(ops);
  const bound = composedWeight({ ...ops, g: abs(dense(ops.g)), x: abs(dense(ops.x)) });
  const L = ops.win.outSize[0] * ops.win.outSize[1];
  assertClose(got.dw, want.dw, bound.dw, c.N * L, `${c.what}: conv2dBackwardWeight dw`);
  if (bias) {
    assert.ok(got.db !== null, `${c.what}: db missing`);
    // float64 sums rounded once: within one float32 rounding of the exact sum
    assertClose(got.db, want.db, bound.db, 0, `${c.what}: conv2dBackwardWeight db`);
  } else assert.equal(got.db, null);
}

const cases: Case[] = [
  { what: "W3's first layer (C=1, 28×28, O=16, 3×3, padding 1)", N: 3, C: 1, H: 28, W: 28, O: 16, k: [3, 3], pad: [1, 1, 1, 1] },
  { what: "W3's second layer (C=16, 14×14, O=32)", N: 2, C: 16, H: 14, W: 14, O: 32, k: [3, 3], pad: [1, 1, 1, 1] },
  { what: "odd sizes, stride 2, 3×2 kernel, no bias", N: 2, C: 3, H: 9, W: 11, O: 5, k: [3, 2], stride: [2, 2], pad: [1, 1, 0, 0], bias: false },
  { what: "dilation 2, padding 2", N: 2, C: 2, H: 10, W: 7, O: 3, k: [3, 3], pad: [2, 2, 2, 2], dilation: [2, 2] },
  { what: "asymmetric padding (even kernel, 'same')", N: 3, C: 4, H: 8, W: 9, O: 6, k: [2, 4], pad: [0, 1, 1, 2] },
  { what: "N=1, C=1, O=1 (the few-row gemm)", N: 1, C: 1, H: 6, W: 5, O: 1, k: [2, 2] },
  { what: "stride (2, 1), dilation (1, 3), padding (0, 3)", N: 2, C: 3, H: 11, W: 13, O: 4, k: [3, 3], stride: [2, 1], pad: [0, 0, 3, 3], dilation: [1, 3] },
  { what: "K=360 (two K blocks), L=400 (two L blocks)", N: 2, C: 40, H: 20, W: 20, O: 9, k: [3, 3], pad: [1, 1, 1, 1] },
  { what: "O=133 (across the 128-row block), 1×1 kernel", N: 2, C: 7, H: 5, W: 6, O: 133, k: [1, 1] },
  { what: "kernel as large as the input (Ho=Wo=1)", N: 3, C: 2, H: 4, W: 5, O: 7, k: [4, 5] },
  { what: "x transposed (W stride > H stride)", N: 2, C: 3, H: 7, W: 6, O: 5, k: [3, 3], pad: [1, 1, 1, 1], xLayout: "transposed" },
  { what: "x a padded view at an offset, stride 2", N: 2, C: 2, H: 9, W: 8, O: 4, k: [3, 3], stride: [2, 2], xLayout: "padded" },
  { what: "x rows walked backwards", N: 2, C: 2, H: 6, W: 9, O: 5, k: [2, 3], pad: [1, 1, 1, 1], xLayout: "negative" },
  { what: "g with Ho and Wo strides swapped, w permuted", N: 2, C: 3, H: 7, W: 5, O: 6, k: [3, 2], pad: [1, 1, 0, 0], gTransposed: true, wPermuted: true },
];

describe("wasm conv2d hooks against the js composition", () => {
  for (const c of cases)
    test(c.what, () => {
      const ops = operands(c);
      checkForward(c, ops);
      checkInput(c, ops);
      checkWeight(c, ops);
    });

  test("random shapes", () => {
    for (let t = 0; t < 25; t++) {
      const r = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));
      const k: [number, number] = [r(1, 4), r(1, 4)];
      const dilation: [number, number] = [r(1, 2), r(1, 2)];
      const pad: [number, number, number, number] = [r(0, 2), r(0, 2), r(0, 2), r(0, 2)];
      const H = r(1, 12) + dilation[0] * (k[0] - 1);
      const W = r(1, 12) + dilation[1] * (k[1] - 1);
      const layouts = ["contiguous", "transposed", "padded", "negative"] as const;
      const c: Case = {
        what: `random #${t}`,
        N: r(1, 4),
        C: r(1, 6),
        H,
        W,
        O: r(1, 10),
        k,
        stride: [r(1, 3), r(1, 3)],
        pad,
        dilation,
        bias: gen.uniform() < 0.7,
        xLayout: layouts[r(0, 3)],
        gTransposed: gen.uniform() < 0.3,
        wPermuted: gen.uniform() < 0.3,
      };
      c.what = `random #${t}: ${JSON.stringify(c)}`;
      const ops = operands(c);
      checkForward(c, ops);
      checkInput(c, ops);
      checkWeight(c, ops);
    }
  });

  test("empty batch and non-float32 operands", () => {
    const c: Case = { what: "N=0", N: 0, C: 2, H: 5, W: 5, O: 3, k: [3, 3] };
    const ops = operands(c);
    assert.equal(hooks(wasmBackend).conv2d!(ops.x, ops.w, ops.bias, ops.win)!.length, 0);
    assert.equal(hooks(wasmBackend).conv2dBackwardInput!(ops.g, ops.w, ops.win, [5, 5])!.length, 0);
    const { dw, db } = hooks(wasmBackend).conv2dBackwardWeight!(ops.g, ops.x, ops.win, true)!;
    assertSameBits(dw, new Float32Array(2 * 9 * 3), "N=0: dw is zero");
    assertSameBits(db!, new Float32Array(3), "N=0: db is zero");
    const x64: StridedView = { ...ops.x, dtype: "float64", data: new Float64Array(0) };
    assert.equal(hooks(wasmBackend).conv2d!(x64, ops.w, null, ops.win), null);
  });
});

describe("wasm conv2d hooks: the same bits on any thread count", () => {
  test("1, 2 and 3 threads", () => {
    const before = getThreads();
    try {
      for (const c of [
        { what: "W3's second layer, batch 16", N: 16, C: 16, H: 14, W: 14, O: 32, k: [3, 3], pad: [1, 1, 1, 1] },
        { what: "odd batch, stride 2", N: 7, C: 8, H: 21, W: 19, O: 12, k: [3, 3], stride: [2, 2], pad: [1, 1, 1, 1] },
      ] satisfies Case[]) {
        const ops = operands(c);
        const run = () => {
          const f = hooks(wasmBackend).conv2d!(ops.x, ops.w, ops.bias, ops.win)!;
          const i = hooks(wasmBackend).conv2dBackwardInput!(ops.g, ops.w, ops.win, [c.H, c.W])!;
          const { dw, db } = hooks(wasmBackend).conv2dBackwardWeight!(ops.g, ops.x, ops.win, true)!;
          return [f, i, dw, db!];
        };
        setThreads(1);
        const one = run();
        for (const t of [2, 3]) {
          setThreads(t);
          const many = run();
          for (const [k, a] of one.entries()) assertSameBits(many[k]!, a, `${c.what}: output ${k} on ${t} threads`);
        }
      }
    } finally {
      setThreads(before);
    }
  });

  test("a large product over fewer samples than threads is left to the composition (which splits its gemm), the same bits either way", () => {
    const before = getThreads();
    try {
      const c: Case = { what: "one large image", N: 1, C: 16, H: 32, W: 32, O: 64, k: [3, 3], pad: [1, 1, 1, 1] };
      const ops = operands(c);
      setThreads(2);
      assert.equal(hooks(wasmBackend).conv2d!(ops.x, ops.w, ops.bias, ops.win), null);
      assert.equal(hooks(wasmBackend).conv2dBackwardInput!(ops.g, ops.w, ops.win, [c.H, c.W]), null);
      assert.ok(hooks(wasmBackend).conv2dBackwardWeight!(ops.g, ops.x, ops.win, true) !== null, "dW has no thread-dependent fallback");
      const composed = composedForward(wasmBackend, ops);
      setThreads(1);
      assertSameBits(hooks(wasmBackend).conv2d!(ops.x, ops.w, ops.bias, ops.win)!, composed, "fused on 1 thread vs composed on 2");
    } finally {
      setThreads(before);
    }
  });
});
