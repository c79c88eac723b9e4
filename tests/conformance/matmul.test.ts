/**
 * @file Conformance of the matmul primitive on every backend, in each of its kernel variants
 * (native's micro-kernels), against the js reference: float32 within (K + 2)·2⁻²³·(|A|·|B|) (any
 * summation order, with or without FMA) on odd shapes across every cache-block edge, transposed,
 * offset, padded, negative-stride, broadcast and batched views; the few-row path; a row's bits
 * independent of the batch; empty dims; NaN and ∞ propagated; float64 and int32 bit for bit; and
 * every thread count giving one thread's bits.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { describe, test } from "node:test";
import type { StridedView } from "../../src/backend/backend.ts";
import { jsBackend } from "../../src/backend/js/index.ts";
import * as tg from "../../src/index.ts";
import { gemmView, type ViewOptions } from "../gemm-helpers.ts";
import { FAST_TARGETS, type Target } from "./backends.ts";
import { acrossThreads, closeTo, once, runs, sameBits } from "./views.ts";

type Operands = [a: StridedView, b: StridedView, what: string];

/** Operands from one seeded generator per case, so every target sees the same ones. */
function gemm(seed: number, [B, M, K, N]: readonly number[], oa: ViewOptions = {}, ob: ViewOptions = {}): Operands {
  const gen = new tg.Generator(seed);
  return [gemmView(gen, B!, M!, K!, oa), gemmView(gen, B!, K!, N!, ob), `B=${B} M=${M} K=${K} N=${N} a=${JSON.stringify(oa)} b=${JSON.stringify(ob)}`];
}

/** js's product and the bound |A|·|B| (computed once per case for every target). */
function reference([a, b, what]: Operands): { want: ArrayLike<number>; bound: ArrayLike<number> } {
  return once(what + a.data.length, () => {
    const abs = (v: StridedView): StridedView => ({ ...v, data: (v.data as Float32Array).map(Math.abs) });
    return { want: jsBackend.matmul(a, b), bound: jsBackend.matmul(abs(a), abs(b)) };
  });
}

/** Checks t's product of each case against js at every thread count (and one thread's bits). */
function checkAll(t: Target, cases: readonly Operands[]): void {
  for (const c of cases) {
    const [a, b, what] = c;
    const { want, bound } = reference(c);
    acrossThreads(t, what, () => t.backend.matmul(a, b), (got, w) => closeTo(got, want, bound, a.shape[2]!, w));
  }
}

const SIZES = [1, 7, 33, 257];
const allCombos = (): Operands[] =>
  SIZES.flatMap((M) => SIZES.flatMap((N) => SIZES.map((K) => gemm(M * 1000 + N * 10 + K, [1, M, K, N], { transposed: (M + N + K) % 2 === 1 }, { transposed: (M * 3 + K) % 3 === 0 }))));

const EDGES = (): Operands[] => [
  gemm(1, [1, 129, 513, 17]),
  gemm(2, [1, 241, 513, 17]),
  gemm(3, [1, 5, 3, 2050]),
  gemm(4, [1, 5, 3, 3075]),
  gemm(5, [1, 260, 300, 70], { transposed: true }, { transposed: true }),
  gemm(6, [1, 290, 300, 70], { transposed: true }, { transposed: true }),
];

const LAYOUTS = (): Operands[] => [
  gemm(11, [1, 9, 13, 11], { offset: 5 }, { offset: 7, transposed: true }),
  gemm(12, [1, 20, 30, 40], { pad: 3 }, { pad: 5, transposed: true }),
  gemm(13, [1, 9, 13, 11], { negative: true }, { negative: true, transposed: true }),
  gemm(14, [5, 7, 33, 9], { broadcast: true }),
  gemm(15, [4, 33, 7, 65], {}, { broadcast: true, transposed: true }),
  gemm(16, [3, 40, 50, 30], { transposed: true }),
  gemm(17, [7, 1, 64, 1]),
];

/** Shapes cut over threads by rows, columns, batches, a dynamic task queue, one or few rows. */
const SPLITS = (): Operands[] => [
  gemm(21, [1, 301, 150, 120]),
  gemm(22, [1, 60, 150, 333], { transposed: true }),
  gemm(23, [1, 5, 150, 333], { transposed: true }),
  gemm(24, [6, 70, 64, 50], {}, { broadcast: true }),
  gemm(25, [3, 100, 64, 90]),
  gemm(26, [1, 520, 300, 450], {}, { transposed: true }),
  gemm(27, [1, 1, 700, 2001], { offset: 3 }, { transposed: true }),
  gemm(28, [1, 3, 300, 1500], { transposed: true }, { pad: 2 }),
  gemm(29, [2, 4, 400, 1000], {}, { transposed: true }),
];

const fewRows = (): Operands[] => {
  const out: Operands[] = [];
  for (const M of [1, 2, 3, 4, 5])
    for (const K of [1, 3, 4, 5, 15, 16, 17, 33, 100, 257, 300])
      for (const N of [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 65]) {
        const s = M * 100000 + K * 100 + N;
        out.push(gemm(s, [1, M, K, N], {}, { transposed: true }), gemm(s + 1, [1, M, K, N], { transposed: true }), gemm(s + 2, [1, M, K, N], { offset: 3, pad: 1 }, { negative: true, offset: 2 }));
      }
  out.push(gemm(9, [3, 2, 70, 40], {}, { broadcast: true, transposed: true }));
  return out;
};

/** A random gemm: dims 1…300 (sometimes 1–3), up to 3 batches, random layouts. */
const randomGemm = fc
  .record({
    dims: fc.array(fc.oneof({ arbitrary: fc.integer({ min: 1, max: 3 }), weight: 1 }, { arbitrary: fc.integer({ min: 1, max: 300 }), weight: 4 }), { minLength: 3, maxLength: 3 }),
    B: fc.integer({ min: 1, max: 3 }),
    layouts: fc.array(
      fc.record({ transposed: fc.boolean(), offset: fc.integer({ min: 0, max: 8 }), pad: fc.constantFrom(0, 0, 1, 4), negative: fc.boolean(), broadcast: fc.constantFrom(false, false, false, true) }),
      { minLength: 2, maxLength: 2 },
    ),
    seed: fc.nat(),
  })
  .map(({ dims: [M, K, N], B, layouts: [la, lb], seed }) => gemm(seed, [B, M!, K!, N!], la, lb));

for (const t of FAST_TARGETS)
  for (const variant of t.variants)
    describe(`${t.name}${variant === null ? "" : ` (${variant})`}: matmul against js`, () => {
      const inVariant = (body: () => void) => () => {
        const restore = t.selectVariant(variant);
        try {
          body();
        } finally {
          restore();
        }
      };
      test("every M, N, K in {1, 7, 33, 257}, row-major and transposed", inVariant(() => checkAll(t, allCombos())));
      test("random odd shapes and layouts", inVariant(() => fc.assert(fc.property(randomGemm, (c) => checkAll(t, [c])), runs(40))));
      test("cache-block edges: K across 256, M across 128 and 240, N across 2048 and 3072", inVariant(() => checkAll(t, EDGES())));
      test("offsets, padded rows, negative strides, broadcast batch, batched, batched dots", inVariant(() => checkAll(t, LAYOUTS())));
      test("few rows (1–5, batch-1 inference): every tail length, B row- and column-major and walked backwards", inVariant(() => checkAll(t, fewRows())));
      test("splits over threads give one thread's bits", inVariant(() => checkAll(t, SPLITS())));

      test("a row's result does not depend on how many rows the call has (bit for bit)", inVariant(() => {
        for (const [K, N, ta, tb] of [
          [300, 45, false, true],
          [300, 45, false, false],
          [513, 70, true, true],
          [20, 70, false, true],
          [600, 9, false, false],
          [257, 33, true, false],
          [5, 16, false, true],
          [1, 3, false, false],
        ] as const) {
          const M = 13;
          const [a, b] = gemm(K + N, [1, M, K, N], { transposed: ta }, { transposed: tb });
          acrossThreads(t, `K=${K} N=${N}`, () => {
            const full = t.backend.matmul(a, b);
            for (const rows of [1, 2, 3, 4, 5, 7])
              for (let r0 = 0; r0 < M; r0 += rows) {
                const r = Math.min(rows, M - r0);
                const part = t.backend.matmul({ ...a, shape: [1, r, K], offset: a.offset + r0 * a.strides[1]! }, b);
                sameBits(part, full.subarray(r0 * N, (r0 + r) * N), `K=${K} N=${N} ta=${ta} tb=${tb}: rows ${r0}..${r0 + r} in calls of ${rows}`, "one call gives");
              }
            return full;
          }, () => {});
        }
      }));

      test("empty dims: K = 0 gives zeros, M, N or B = 0 an empty result", inVariant(() => {
        const m = (dims: number[]) => {
          const [a, b] = gemm(1, dims);
          return t.backend.matmul(a, b);
        };
        acrossThreads(t, "empty", () => [m([1, 3, 0, 2]), m([2, 1, 0, 1]), m([1, 0, 4, 2]), m([2, 3, 4, 0]), m([0, 3, 4, 2])], (got) => {
          assert.deepEqual(got.map((r) => Array.from(r)), [[0, 0, 0, 0, 0, 0], [0, 0], [], [], []]);
        });
      }));

      test("NaN and infinity propagate as in js", inVariant(() => {
        const c = gemm(31, [1, 8, 20, 18]);
        (c[0].data as Float32Array)[3] = Number.NaN;
        (c[1].data as Float32Array)[40] = Number.POSITIVE_INFINITY;
        checkAll(t, [[c[0], c[1], "NaN and ∞"]]);
      }));

      test("float64 and int32 are bit-identical to js", inVariant(() => {
        const [a, b] = gemm(41, [2, 7, 9, 5]);
        const a64 = { ...a, dtype: "float64" as const, data: Float64Array.from(a.data) };
        const b64 = { ...b, dtype: "float64" as const, data: Float64Array.from(b.data) };
        const ai: StridedView = { data: Int32Array.from({ length: 12 }, (_, i) => i - 5), dtype: "int32", shape: [1, 3, 4], strides: [12, 4, 1], offset: 0 };
        const bi: StridedView = { data: Int32Array.from({ length: 8 }, (_, i) => 3 - i), dtype: "int32", shape: [1, 4, 2], strides: [8, 2, 1], offset: 0 };
        acrossThreads(t, "float64 / int32", () => [t.backend.matmul(a64, b64), t.backend.matmul(ai, bi)], (got, what) => {
          sameBits(got[0]!, jsBackend.matmul(a64, b64), `${what} float64`);
          sameBits(got[1]!, jsBackend.matmul(ai, bi), `${what} int32`);
        });
      }));
    });
