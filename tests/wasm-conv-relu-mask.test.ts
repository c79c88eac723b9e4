/**
 * @file The wasm conv gradient hooks' relu mask (their optional y): each sample's g · (y > 0) is
 * formed inside the kernels, so conv2dBackwardInput(g, …, y) and conv2dBackwardWeight(g, …, y)
 * must equal the same hooks on relu's gradient computed first by the js reference
 * (backend/js/relu-backward.ts), bit for bit (NaN as NaN), bias gradient included: W3's two layer
 * shapes, an odd Ho·Wo (the kernels' scalar tail), stride 2, y and g as views whose rows are
 * strided (NHWC storage), whose [Ho, Wo] do not merge (a copy), or that are channel slices at an
 * offset of a larger tensor; −0, NaN, ±∞ and subnormals in g and y; on 1, 2 and 3 threads.
 */
import "./ensure-wasm.ts";
import assert from "node:assert/strict";
import { test } from "node:test";
import type { StridedView, Window2d } from "../src/backend/backend.ts";
import { reluBackward } from "../src/backend/js/relu-backward.ts";
import { getThreads, setThreads, wasmBackend } from "../src/backend/wasm/index.ts";
import * as tg from "../src/index.ts";
import { randomF32 } from "./gemm-helpers.ts";
import { hooks } from "./fused-access.ts";

const gen = new tg.Generator(20261123);
const random = (n: number) => randomF32(gen, n);

/** How a [N, O, Ho, Wo] operand is laid out over its storage. */
type Layout = "contiguous" | "nhwc" | "swapped" | "slice";

/**
 * `values` (N·O·Ho·Wo, in NCHW order) as a view laid out as `layout`: contiguous; NHWC storage
 * permuted (column stride O); [N, O, Wo, Ho] storage with the last two strides swapped (no merged
 * column stride); or channels 1..O of an [N, O + 2, Ho, Wo] tensor (an offset and a sample stride ≠ O·L).
 */
function view(values: Float32Array, shape: readonly [number, number, number, number], layout: Layout): StridedView {
  const [N, O, Ho, Wo] = shape;
  const at = (n: number, o: number, h: number, w: number) => values[((n * O + o) * Ho + h) * Wo + w]!;
  let strides: number[];
  let offset = 0;
  switch (layout) {
    case "contiguous":
      return { data: values, dtype: "float32", shape: [...shape], strides: [O * Ho * Wo, Ho * Wo, Wo, 1], offset: 0 };
    case "nhwc":
      strides = [Ho * Wo * O, 1, Wo * O, O];
      break;
    case "swapped":
      strides = [O * Ho * Wo, Ho * Wo, 1, Ho];
      break;
    case "slice":
      strides = [(O + 2) * Ho * Wo, Ho * Wo, Wo, 1];
      offset = Ho * Wo;
      break;
  }
  const data = random(offset + N * strides[0]!);
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let h = 0; h < Ho; h++)
        for (let w = 0; w < Wo; w++) data[offset + n * strides[0]! + o * strides[1]! + h * strides[2]! + w * strides[3]!] = at(n, o, h, w);
  return { data, dtype: "float32", shape: [...shape], strides, offset };
}

const SPECIAL = [-0, 0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, -1e-45, 3, -3];

/** g values: random with every special value somewhere, at positions that meet every special y value. */
function gradValues(n: number): Float32Array {
  const v = random(n);
  for (let i = 0; i < SPECIAL.length * SPECIAL.length && i < n; i++) v[i] = SPECIAL[i % SPECIAL.length]!;
  return v;
}

/** y values: relu'd random (exact zeros and positives) plus the special values (a NaN, −0, negatives, ∞, a subnormal). */
function reluValues(n: number): Float32Array {
  const v = random(n).map((e) => Math.max(e, 0));
  for (let i = 0; i < SPECIAL.length * SPECIAL.length && i < n; i++) v[i] = SPECIAL[Math.floor(i / SPECIAL.length)]!;
  return v;
}

function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: element ${i} is ${got[i]}, relu's gradient first gives ${want[i]}`);
}

interface Case {
  what: string;
  N: number;
  C: number;
  O: number;
  H: number;
  W: number;
  stride?: number;
  g: Layout;
  y: Layout;
}

const cases: Case[] = [
  { what: "W3 layer 1 (C 1, O 16, 28×28)", N: 6, C: 1, O: 16, H: 28, W: 28, g: "contiguous", y: "contiguous" },
  { what: "W3 layer 2 (C 16, O 32, 14×14)", N: 6, C: 16, O: 32, H: 14, W: 14, g: "contiguous", y: "contiguous" },
  { what: "odd Ho·Wo, y in NHWC storage", N: 5, C: 3, O: 5, H: 7, W: 5, g: "contiguous", y: "nhwc" },
  { what: "y's [Ho, Wo] not mergeable (copied), g a channel slice", N: 4, C: 2, O: 6, H: 9, W: 6, g: "slice", y: "swapped" },
  { what: "y a channel slice at an offset, g in NHWC storage, stride 2", N: 7, C: 4, O: 3, H: 11, W: 9, stride: 2, g: "nhwc", y: "slice" },
  { what: "both channel slices", N: 5, C: 2, O: 9, H: 8, W: 8, g: "slice", y: "slice" },
];

test("wasm conv gradient hooks with a relu mask y equal the hooks on relu's gradient computed first (js reference), bit for bit, on 1, 2 and 3 threads", () => {
  const before = getThreads();
  try {
    for (const c of cases) {
      const s = c.stride ?? 1;
      const Ho = Math.floor((c.H + 2 - 3) / s) + 1;
      const Wo = Math.floor((c.W + 2 - 3) / s) + 1;
      const win: Window2d = { kernel: [3, 3], stride: [s, s], padding: [1, 1], dilation: [1, 1], outSize: [Ho, Wo] };
      const shape = [c.N, c.O, Ho, Wo] as const;
      const n = c.N * c.O * Ho * Wo;
      const g = view(gradValues(n), shape, c.g);
      const y = view(reluValues(n), shape, c.y);
      const x: StridedView = { data: random(c.N * c.C * c.H * c.W), dtype: "float32", shape: [c.N, c.C, c.H, c.W], strides: [c.C * c.H * c.W, c.H * c.W, c.W, 1], offset: 0 };
      const w: StridedView = { data: random(c.O * c.C * 9), dtype: "float32", shape: [c.O, c.C, 3, 3], strides: [c.C * 9, 9, 3, 1], offset: 0 };
      const masked = view(reluBackward(g, y) as Float32Array, shape, "contiguous");
      setThreads(1);
      const dxRef = hooks(wasmBackend).conv2dBackwardInput!(masked, w, win, [c.H, c.W]);
      const dwRef = hooks(wasmBackend).conv2dBackwardWeight!(masked, x, win, true);
      assert.ok(dxRef !== null && dwRef !== null, `${c.what}: the hooks take the masked g`);
      for (const t of [1, 2, 3]) {
        setThreads(t);
        const what = `${c.what}, ${t} thread${t > 1 ? "s" : ""}`;
        const dx = hooks(wasmBackend).conv2dBackwardInput!(g, w, win, [c.H, c.W], y);
        assert.ok(dx !== null, `${what}: the input gradient hook takes y`);
        sameBits(dx, dxRef, `${what}: input gradient`);
        const r = hooks(wasmBackend).conv2dBackwardWeight!(g, x, win, true, y);
        assert.ok(r !== null && r.db !== null, `${what}: the weight gradient hook takes y`);
        sameBits(r.dw, dwRef.dw, `${what}: weight gradient`);
        sameBits(r.db, dwRef.db!, `${what}: bias gradient`);
      }
      // the specials reached the output: a NaN or ∞ in g where y passes shows up in dx
      assert.ok(Array.from(dxRef).some((e) => !Number.isFinite(e)), `${c.what}: non-finite values propagate`);
    }
  } finally {
    setThreads(before);
  }
});

test("wasm conv gradient hooks decline a relu mask y that is not float32 or not g's shape", () => {
  const win: Window2d = { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], outSize: [4, 4] };
  const g: StridedView = { data: random(2 * 3 * 16), dtype: "float32", shape: [2, 3, 4, 4], strides: [48, 16, 4, 1], offset: 0 };
  const x: StridedView = { data: random(2 * 2 * 16), dtype: "float32", shape: [2, 2, 4, 4], strides: [32, 16, 4, 1], offset: 0 };
  const w: StridedView = { data: random(3 * 2 * 9), dtype: "float32", shape: [3, 2, 3, 3], strides: [18, 9, 3, 1], offset: 0 };
  const y64: StridedView = { ...g, data: Float64Array.from(g.data as Float32Array), dtype: "float64" };
  const yShort: StridedView = { ...g, shape: [2, 3, 4, 3], strides: [48, 16, 4, 1] };
  for (const y of [y64, yShort]) {
    assert.equal(hooks(wasmBackend).conv2dBackwardInput!(g, w, win, [4, 4], y), null);
    assert.equal(hooks(wasmBackend).conv2dBackwardWeight!(g, x, win, true, y), null);
  }
});
