/**
 * @file The conformance suite's operands and checks: strided views of any layout (permuted,
 * padded rows, offset, axes walked backwards, broadcast axes) over seeded random storage with
 * −0, ±∞, NaN, subnormals and ties mixed in; fast-check arbitraries for shapes (odd sizes, empty
 * dims) and layouts; bit-for-bit and float32-bound comparisons; and the run of one case at every
 * thread count of a target.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { StridedView } from "../../src/backend/backend.ts";
import type { DType, TypedArray } from "../../src/base/dtype.ts";
import * as tg from "../../src/index.ts";
import { onTarget, type Target } from "./backends.ts";

/** How a view lays its logical axes over its storage. */
export interface Layout {
  /** Storage order of the axes, outermost first (a permutation); default row-major. */
  order?: readonly number[];
  /** Extra elements after each innermost storage row (a narrowed view). */
  pad?: number;
  offset?: number;
  /** Axes walked backwards (negative strides). */
  negative?: readonly number[];
  /** Axes read with stride 0 (broadcast). */
  broadcast?: readonly number[];
  /** Per axis, how many more entries the storage holds than the view reads (it starts one in: a slice, e.g. of channels). */
  within?: readonly number[];
}

export const SPECIALS = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e-40, -1e-40, 1, -1, 2];

/** n float values from `gen`: N(0, 1) with a special value every 7th and a tie every 5th (when `specials`). */
export function floats(gen: tg.Generator, n: number, specials = true, dtype: "float32" | "float64" = "float32"): Float32Array | Float64Array {
  const a = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = gen.normal();
  if (specials) {
    for (let i = 0; i < n; i += 7) a[i] = SPECIALS[(i / 7) % SPECIALS.length]!;
    for (let i = 4; i < n; i += 5) a[i] = a[i - 1]!;
  }
  return a;
}

/** n values of `dtype` from `gen` (specials for floats). */
export function values(gen: tg.Generator, dtype: DType, n: number, specials = true): TypedArray {
  if (dtype === "float32" || dtype === "float64") return floats(gen, n, specials, dtype);
  if (dtype === "bool") return Uint8Array.from({ length: n }, () => (gen.uniform() < 0.5 ? 1 : 0));
  return Int32Array.from({ length: n }, () => gen.integer(-1000, 1000));
}

/** A `dtype` view of `shape` laid out as `layout` over fresh storage filled by `fill`. */
export function view(shape: readonly number[], dtype: DType, layout: Layout, fill: (n: number) => TypedArray): StridedView {
  const nd = shape.length;
  const order = layout.order ?? [...shape.keys()];
  const strides = new Array<number>(nd).fill(0);
  let size = 1;
  for (let k = nd - 1; k >= 0; k--) {
    const d = order[k]!;
    if (layout.broadcast?.includes(d) === true) continue;
    strides[d] = size;
    size *= shape[d]! + (layout.within?.[d] ?? 0) + (k === nd - 1 ? (layout.pad ?? 0) : 0);
  }
  let offset = layout.offset ?? 0;
  const empty = shape.includes(0);
  for (const [d, extra] of (layout.within ?? []).entries()) if (extra > 0) offset += strides[d]!;
  for (const d of layout.negative ?? []) {
    if (strides[d] === 0 || empty) continue;
    offset += (shape[d]! - 1) * strides[d]!;
    strides[d] = -strides[d]!;
  }
  return { data: fill((layout.offset ?? 0) + size + 2), dtype, shape: [...shape], strides, offset };
}

/** A random view (seeded by `seed`) of `shape`. */
export function randomView(seed: number, shape: readonly number[], dtype: DType, layout: Layout = {}, specials = true): StridedView {
  const gen = new tg.Generator(seed);
  return view(shape, dtype, layout, (n) => values(gen, dtype, n, specials));
}

/** The row-major strides of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  for (let d = shape.length - 1, n = 1; d >= 0; n *= shape[d]!, d--) s[d] = n;
  return s;
}

/** A contiguous view of `data` as `shape`. */
export const dense = (data: TypedArray, dtype: DType, shape: readonly number[]): StridedView => ({ data, dtype, shape: [...shape], strides: contiguousStrides(shape), offset: 0 });

/** A dimension: mostly small and odd, sometimes 1, 0 (empty) or larger. */
export const dimArb = fc.oneof(
  { arbitrary: fc.integer({ min: 2, max: 9 }), weight: 6 },
  { arbitrary: fc.constant(1), weight: 2 },
  { arbitrary: fc.constant(0), weight: 1 },
  { arbitrary: fc.integer({ min: 10, max: 70 }), weight: 3 },
);

/** A shape of rank min..max with at most `cap` elements. */
export const shapeArb = (min = 0, max = 4, cap = 40000) =>
  fc.array(dimArb, { minLength: min, maxLength: max }).filter((s) => s.reduce((a, b) => a * b, 1) <= cap);

/** A layout for a view of rank `nd` (broadcast axes only when `broadcast`). */
export function layoutArb(nd: number, broadcast = true): fc.Arbitrary<Layout> {
  const axes = [...Array(nd).keys()];
  return fc.record({
    order: fc.shuffledSubarray(axes, { minLength: nd, maxLength: nd }),
    pad: fc.constantFrom(0, 0, 1, 3),
    offset: fc.constantFrom(0, 0, 1, 5),
    negative: fc.subarray(axes, { maxLength: Math.min(2, nd) }),
    broadcast: broadcast ? fc.subarray(axes, { maxLength: Math.min(2, nd) }) : fc.constant([]),
  });
}

/** fast-check's run options for the suite: one fixed seed, so every run checks the same cases. */
export const runs = (numRuns: number) => ({ seed: 20261207, numRuns, endOnFailure: true });

/** What a kernel returns: arrays, nulls, and arrays or objects of them. */
export type Result = TypedArray | ArrayLike<number> | null | boolean | readonly Result[] | { readonly [k: string]: Result };

/** The arrays inside a result, in a fixed order. */
export function arraysOf(r: Result): ArrayLike<number>[] {
  if (r === null || typeof r === "boolean") return [];
  if (ArrayBuffer.isView(r) || (Array.isArray(r) && (r.length === 0 || typeof r[0] === "number"))) return [r as ArrayLike<number>];
  if (Array.isArray(r)) return r.flatMap((x: Result) => arraysOf(x));
  return Object.keys(r)
    .sort()
    .flatMap((k) => arraysOf((r as Record<string, Result>)[k]!));
}

/** The same element type, length and bits (Object.is: −0 is not +0, NaN is NaN) in every element. */
export function sameBits(got: ArrayLike<number>, want: ArrayLike<number>, what: string, source = "the reference gives"): void {
  assert.equal(got.constructor, want.constructor, `${what}: array type`);
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: element ${i} is ${got[i]}, ${source} ${want[i]}`);
}

/** sameBits on every array of two results (nulls in the same places). */
export function sameResult(got: Result, want: Result, what: string, source?: string): void {
  assert.equal(got === null, want === null, `${what}: null`);
  const a = arraysOf(got);
  const b = arraysOf(want);
  assert.equal(a.length, b.length, `${what}: parts`);
  for (let i = 0; i < b.length; i++) sameBits(a[i]!, b[i]!, b.length > 1 ? `${what} [part ${i}]` : what, source);
}

/** |got − want| ≤ (terms + 2)·2⁻²³·bound elementwise (float32 sums in any order); non-finite expectations exactly. */
export function closeTo(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, terms: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (!Number.isFinite(w)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) assert.fail(`${what}: element ${i} is ${g}, the reference gives ${w}`);
      continue;
    }
    const tol = (terms + 2) * 2 ** -23 * bound[i]! + 1e-30;
    if (!(Math.abs(g - w) <= tol)) assert.fail(`${what}: element ${i} is ${g}, the reference gives ${w} (tolerance ${tol})`);
  }
}

/**
 * Runs `run` on `t` at each of its thread counts, `check`ing each result, and asserts every later
 * thread count gives the first one's bits. Returns the first result.
 */
export function acrossThreads<R extends Result>(t: Target, what: string, run: () => R, check: (got: R, what: string) => void): R {
  let first: R | undefined;
  for (const n of t.threads) {
    const got = onTarget(t, n, run);
    const label = `${t.name}@${n} ${what}`;
    check(got, label);
    if (first === undefined) first = got;
    else sameResult(got, first, label, `${t.threads[0]} thread(s) give`);
  }
  return first!;
}

const memo = new Map<string, unknown>();
/** `make()` computed once per `key` for the whole file (references shared by every target and variant). */
export function once<T>(key: string, make: () => T): T {
  if (!memo.has(key)) memo.set(key, make());
  return memo.get(key) as T;
}
