/**
 * @file Conformance of the 2-D window primitives (im2col, col2im, maxPool2d and its backward,
 * avgPool2d and its backward) on every backend against js, bit for bit: random geometries
 * (stride, dilation, padding, odd sizes), permuted / padded / offset / row-reversed inputs, NaN
 * and ties; the 2×2 stride-2 pooling fast path; and outputs large enough to be split over threads.
 */
import fc from "fast-check";
import { describe, test } from "node:test";
import type { AvgPoolOptions, StridedView, Window2d } from "../../src/backend/backend.ts";
import { jsBackend } from "../../src/backend/js/index.ts";
import { FAST_TARGETS } from "./backends.ts";
import { acrossThreads, dense, type Layout, layoutArb, once, randomView, runs, sameResult } from "./views.ts";

const out = (size: number, k: number, s: number, p: number, d: number) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;

interface Geometry {
  shape: [number, number, number, number];
  win: Window2d;
  layout: Layout;
  seed: number;
  ties: boolean;
}

const geometry = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 40 }),
    h: fc.integer({ min: 1, max: 14 }),
    w: fc.integer({ min: 1, max: 14 }),
    k: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
    s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    p: fc.tuple(fc.nat(2), fc.nat(2)),
    d: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    layout: layoutArb(4, false),
    seed: fc.nat(),
    ties: fc.boolean(),
  })
  .map(({ n, c, h, w, k, s, p, d, layout, seed, ties }): Geometry | null => {
    const pad: [number, number] = [Math.min(p[0], k[0] >> 1), Math.min(p[1], k[1] >> 1)];
    const outSize: [number, number] = [out(h, k[0], s[0], pad[0], d[0]), out(w, k[1], s[1], pad[1], d[1])];
    if (outSize[0] < 1 || outSize[1] < 1) return null;
    return { shape: [n, c, h, w], win: { kernel: k, stride: s, padding: pad, dilation: d, outSize }, layout, seed, ties };
  });

/** x (ties: values rounded to halves), a columns operand and a pooled gradient for geometry `g`. */
function operands({ shape, win, layout, seed, ties }: Geometry) {
  const [N, C] = shape;
  const x = randomView(seed, shape, "float32", layout);
  if (ties) for (let i = 0; i < x.data.length; i++) x.data[i] = Math.round(x.data[i]! * 2) / 2;
  const L = win.outSize[0] * win.outSize[1];
  const cols = randomView(seed + 1, [N, C * win.kernel[0] * win.kernel[1], L], "float32", {});
  const g = randomView(seed + 2, [N, C, ...win.outSize], "float32", { pad: 1 });
  return { x, cols, g };
}

/** Every window primitive on `be` for geometry `geo` (avg pooling only without dilation). */
function all(be: typeof jsBackend, geo: Geometry, indices: StridedView) {
  const { x, cols, g } = operands(geo);
  const [, , H, W] = geo.shape;
  const r = [be.im2col(x, geo.win), be.col2im(cols, geo.win, [H, W])];
  if (geo.win.dilation[0] === 1 && geo.win.dilation[1] === 1) {
    const p = be.maxPool2d(x, geo.win);
    r.push(p.values, p.indices, be.maxPool2dBackward(g, indices, [H, W]));
    // the large split cases: only the primitives a backend splits (avg pooling is js's everywhere today)
    if (geo.shape.reduce((a, b) => a * b, 1) < 100000)
    for (const opts of [
      { countIncludePad: true, divisorOverride: null },
      { countIncludePad: false, divisorOverride: null },
      { countIncludePad: false, divisorOverride: 3 },
    ] as AvgPoolOptions[])
      r.push(be.avgPool2d(x, geo.win, opts), be.avgPool2dBackward(g, geo.win, opts, [H, W]));
  }
  return r;
}

function check(t: (typeof FAST_TARGETS)[number], geo: Geometry): void {
  const { indices, want } = once(JSON.stringify(geo), () => {
    const { x } = operands(geo);
    const indices = dense(jsBackend.maxPool2d(x, geo.win).indices, "int32", [geo.shape[0], geo.shape[1], ...geo.win.outSize]);
    return { indices, want: all(jsBackend, geo, indices) };
  });
  acrossThreads(t, JSON.stringify(geo), () => all(t.backend, geo, indices), (got, what) => sameResult(got, want, what));
}

const fixed = (shape: [number, number, number, number], k: number, s: number, p: number, layout: Layout = {}, ties = false): Geometry => ({
  shape,
  win: { kernel: [k, k], stride: [s, s], padding: [p, p], dilation: [1, 1], outSize: [out(shape[2], k, s, p, 1), out(shape[3], k, s, p, 1)] },
  layout,
  seed: shape[3],
  ties,
});

for (const t of FAST_TARGETS)
  describe(`${t.name}: window primitives equal js bit for bit`, () => {
    test("random geometries and layouts, NaN and ties", () => {
      fc.assert(fc.property(geometry, (g) => g === null || check(t, g)), runs(50));
    });

    test("channels-last input seen as NCHW, repeated batch (the fast paths' sizes)", () => {
      for (const g of [fixed([30, 3, 9, 11], 3, 1, 1, { order: [0, 2, 3, 1] }), fixed([8, 16, 28, 28], 3, 1, 1), fixed([12, 5, 12, 13], 2, 2, 0, { order: [0, 2, 3, 1] }, true)]) check(t, g);
    });

    test("max pooling 2×2 stride 2: odd sizes, padded rows, NaN and ties", () => {
      for (const [shape, pad] of [
        [[3, 5, 9, 11], 0],
        [[2, 3, 28, 28], 3],
        [[1, 7, 14, 14], 0],
        [[5, 2, 7, 19], 1],
        [[2, 4, 12, 17], 2],
        [[1, 5, 7, 9], 3],
        [[3, 2, 2, 2], 0],
        [[1, 40, 14, 15], 3],
      ] as [[number, number, number, number], number][])
        for (const ties of [false, true]) check(t, fixed(shape, 2, 2, 0, { pad, offset: 2 }, ties));
    });

    test("outputs large enough to split over images or channels", () => {
      for (const g of [fixed([4, 3, 300, 301], 3, 1, 1, { offset: 1 }), fixed([1, 12, 220, 221], 3, 1, 1), fixed([4, 8, 256, 256], 2, 2, 0), fixed([1, 40, 240, 241], 2, 2, 0)]) check(t, g);
    });
  });
