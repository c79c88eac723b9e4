/**
 * @file Conformance of the elementwise and reduction primitives (unary, binary, where, copy,
 * reduce, logSoftmax and its backward, gather, scatterAdd, cat) on every backend against the js
 * reference, bit for bit: random shapes (odd sizes, empty dims, 0-d), random layouts (permuted,
 * padded, offset, negative-walk and broadcast views), −0, ±∞, NaN and subnormals; and shapes large
 * enough to be split over threads, at every thread count.
 */
import fc from "fast-check";
import { describe, test } from "node:test";
import type { BinaryKernel, ReduceKernel, StridedView, UnaryKernel } from "../../src/backend/backend.ts";
import { jsBackend } from "../../src/backend/js/index.ts";
import type { DType } from "../../src/base/dtype.ts";
import { FAST_TARGETS } from "./backends.ts";
import { acrossThreads, dense, type Layout, layoutArb, randomView, runs, sameResult, shapeArb, values } from "./views.ts";
import * as tg from "../../src/index.ts";

const UNARY: UnaryKernel[] = ["neg", "abs", "sign", "exp", "log", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu", "erf", "logicalNot"];
const BINARY: BinaryKernel[] = ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "gt", "ge", "lt", "le"];
const REDUCE: ReduceKernel[] = ["sum", "max", "min", "argmax", "argmin"];
const DTYPES: DType[] = ["float32", "float64", "int32", "bool"];

/** A shape with a layout for each of `k` operands. */
const operands = (k: number, min = 0, max = 4, cap?: number) =>
  shapeArb(min, max, cap).chain((shape) => fc.tuple(fc.constant(shape), fc.array(layoutArb(shape.length), { minLength: k, maxLength: k }), fc.nat()));

/** Large shapes cut into tasks (≥ 2¹⁹ elements) along each kind of dim, with the layouts of each operand. */
const LARGE: [number[], Layout][] = [
  [[540001], {}],
  [[3, 257, 701], { order: [2, 1, 0], offset: 3 }],
  [[2, 1, 1100, 257], { broadcast: [0], pad: 1 }],
  [[5, 2, 3, 18001], { negative: [3], order: [0, 1, 3, 2] }],
];

for (const t of FAST_TARGETS)
  describe(`${t.name}: elementwise and reductions equal js bit for bit`, () => {
    const be = t.backend;
    test("unary, every op and float dtype", () => {
      fc.assert(
        fc.property(operands(1), fc.constantFrom(...UNARY), fc.constantFrom<DType>("float32", "float64"), ([shape, [l], seed], op, dtype) => {
          const x = randomView(seed, shape, op === "logicalNot" ? "bool" : dtype, l);
          acrossThreads(t, `${op} [${shape}]`, () => be.unary(op, x), (got, what) => sameResult(got, jsBackend.unary(op, x), what));
        }),
        runs(150),
      );
    });

    test("binary, every op, broadcast / permuted / negative operands", () => {
      fc.assert(
        fc.property(operands(2), fc.constantFrom(...BINARY), fc.constantFrom<DType>("float32", "float32", "float64", "int32"), ([shape, [la, lb], seed], op, dtype) => {
          const a = randomView(seed, shape, dtype, la);
          const b = randomView(seed + 1, shape, dtype, lb);
          acrossThreads(t, `${op} ${dtype} [${shape}]`, () => be.binary(op, a, b, shape), (got, what) => sameResult(got, jsBackend.binary(op, a, b, shape), what));
        }),
        runs(200),
      );
    });

    test("binary with a scalar on either side", () => {
      const shape = [64, 33, 40];
      for (const op of BINARY) {
        const a = randomView(7, shape, "float32", { pad: 1 });
        const s: StridedView = { data: values(new tg.Generator(3), "float32", 1), dtype: "float32", shape, strides: [0, 0, 0], offset: 0 };
        acrossThreads(t, `${op} scalar`, () => [be.binary(op, a, s, shape), be.binary(op, s, a, shape)], (got, what) =>
          sameResult(got, [jsBackend.binary(op, a, s, shape), jsBackend.binary(op, s, a, shape)], what),
        );
      }
    });

    test("the fixed shapes (ranks 1–6, SIMD tails) in six layouts: unary, binary, where, copies", () => {
      const shapes = [[1], [7], [1025], [33, 257], [2, 1, 33, 17], [257, 5], [3, 4, 5, 6, 7], [2, 3, 2, 3, 2, 3]];
      const kinds = (nd: number): Layout[] => [{}, { order: [...Array(nd).keys()].reverse() }, { broadcast: [...Array(nd).keys()].filter((d) => d % 2 === 1) }, { offset: 3 }, { order: [...Array(nd).keys()].reverse(), offset: 3, negative: [0] }, { broadcast: [nd - 1], pad: 2 }];
      for (const shape of shapes) {
        const ls = kinds(shape.length);
        for (const [k, l] of ls.entries()) {
          const a = randomView(k, shape, "float32", l);
          const b = randomView(k + 1, shape, "float32", ls[(k * 5 + 1) % 6]!);
          const c = randomView(k + 2, shape, "bool", ls[(k + 1) % 6]!);
          const i = randomView(k + 3, shape, "int32", l);
          const ops = (be: typeof jsBackend) => [
            ...BINARY.map((op) => be.binary(op, a, b, shape)),
            ...UNARY.filter((op) => op !== "logicalNot").map((op) => be.unary(op, a)),
            be.where(c, a, b, shape),
            ...(["float32", "float64", "int32", "bool"] as const).flatMap((d) => [be.copy(a, d), be.copy(c, d), be.copy(i, d)]),
          ];
          acrossThreads(t, `[${shape}] layout ${k}`, () => ops(be), (got, what) => sameResult(got, ops(jsBackend), what));
        }
      }
    });

    test("where over three broadcast views", () => {
      fc.assert(
        fc.property(operands(3), fc.constantFrom<DType>("float32", "int32", "float64"), ([shape, [lc, la, lb], seed], dtype) => {
          const c = randomView(seed, shape, "bool", lc);
          const a = randomView(seed + 1, shape, dtype, la);
          const b = randomView(seed + 2, shape, dtype, lb);
          acrossThreads(t, `where [${shape}]`, () => be.where(c, a, b, shape), (got, what) => sameResult(got, jsBackend.where(c, a, b, shape), what));
        }),
        runs(80),
      );
    });

    test("copy between every pair of dtypes", () => {
      fc.assert(
        fc.property(operands(1), fc.constantFrom(...DTYPES), fc.constantFrom(...DTYPES), ([shape, [l], seed], src, dst) => {
          const x = randomView(seed, shape, src, l);
          acrossThreads(t, `copy ${src}→${dst} [${shape}]`, () => be.copy(x, dst), (got, what) => sameResult(got, jsBackend.copy(x, dst), what));
        }),
        runs(150),
      );
    });

    test("reduce over random axis sets (sum in double, NaN-propagating max/min, first arg*)", () => {
      fc.assert(
        fc.property(operands(1, 1, 4), fc.constantFrom(...REDUCE), fc.nat(), fc.constantFrom<DType>("float32", "float32", "float64", "int32"), ([shape, [l], seed], op, mask, dtype) => {
          let axes = [...shape.keys()].filter((d) => (mask >> d) & 1);
          if (axes.length === 0 || op === "argmax" || op === "argmin") axes = [mask % shape.length];
          if ((op === "argmax" || op === "argmin" || op === "max" || op === "min") && axes.some((d) => shape[d] === 0)) return;
          const x = randomView(seed, shape, dtype, l);
          acrossThreads(t, `${op} over ${axes} of [${shape}]`, () => be.reduce(op, x, axes), (got, what) => sameResult(got, jsBackend.reduce(op, x, axes), what));
        }),
        runs(200),
      );
    });

    test("reduce: leading axes with a contiguous kept axis (bias gradients), strided rows, all-NaN and all-−0 rows", () => {
      for (const [shape, axes] of [
        [[128, 512], [0]],
        [[7, 33], [0]],
        [[3, 31], [0]],
        [[5, 4, 100], [0, 1]],
        [[1, 64], [0]],
        [[9, 2, 70], [0]],
        [[1030], [0]],
        [[4, 1, 300], [0, 2]],
      ] as [number[], number[]][])
        for (const l of [{}, { pad: 3 }, { order: [...shape.keys()].reverse() }] as Layout[]) {
          const x = randomView(shape.length, shape, "float32", l, false);
          acrossThreads(t, `sum over ${axes} of [${shape}]`, () => be.reduce("sum", x, axes), (got, what) => sameResult(got, jsBackend.reduce("sum", x, axes), what));
        }
      const tricky = dense(new Float32Array(2048).fill(-0, 0, 1024).fill(Number.NaN, 1024), "float32", [2, 1024]);
      for (const op of REDUCE)
        for (const axes of [[0], [1]])
          acrossThreads(t, `${op} tricky over ${axes}`, () => be.reduce(op, tricky, axes), (got, what) => sameResult(got, jsBackend.reduce(op, tricky, axes), what));
    });

    test("large views split over threads: unary, binary, where, copies, reduce", () => {
      for (const [shape, l] of LARGE) {
        const a = randomView(1, shape, "float32", l);
        const b = randomView(2, shape, "float32", { ...l, order: undefined });
        const c = randomView(3, shape, "bool", l);
        const what = `[${shape}]`;
        acrossThreads(t, `large ${what}`, () => [be.binary("add", a, b, shape), be.binary("gt", a, b, shape), be.unary("relu", a), be.unary("exp", b), be.where(c, a, b, shape), be.copy(c, "float32"), be.copy(a, "float32"), be.reduce("sum", a, [shape.length - 1]), be.reduce("max", a, [0])], (got, w) =>
          sameResult(got, [jsBackend.binary("add", a, b, shape), jsBackend.binary("gt", a, b, shape), jsBackend.unary("relu", a), jsBackend.unary("exp", b), jsBackend.where(c, a, b, shape), jsBackend.copy(c, "float32"), jsBackend.copy(a, "float32"), jsBackend.reduce("sum", a, [shape.length - 1]), jsBackend.reduce("max", a, [0])], w),
        );
      }
    });

    test("logSoftmax and its backward along any dim, rows with −∞ and NaN, 0-d", () => {
      fc.assert(
        fc.property(operands(2, 0, 3, 5000), fc.nat(), fc.constantFrom<DType>("float32", "float64"), ([shape, [lx, lg], seed], d, dtype) => {
          const dim = shape.length === 0 ? 0 : d % shape.length;
          const x = randomView(seed, shape, dtype, lx);
          const y = dense(jsBackend.logSoftmax(x, dim), dtype, shape);
          const g = randomView(seed + 1, shape, dtype, lg);
          acrossThreads(t, `logSoftmax dim ${dim} [${shape}]`, () => [be.logSoftmax(x, dim), be.logSoftmaxBackward(g, y, dim)], (got, what) =>
            sameResult(got, [y.data, jsBackend.logSoftmaxBackward(g, y, dim)], what),
          );
        }),
        runs(60),
      );
    });

    test("gather, scatterAdd and cat on strided views", () => {
      fc.assert(
        fc.property(operands(3, 1, 3, 5000), fc.nat(), fc.constantFrom<DType>("float32", "float64", "int32"), ([shape, [lx, li, ls], seed], d, dtype) => {
          if (shape.includes(0)) return;
          const dim = d % shape.length;
          const gen = new tg.Generator(seed);
          const x = randomView(seed, shape, dtype, lx);
          const idxShape = shape.map((n, i) => (i === dim ? 1 + (seed % 5) : n));
          const index = randomView(seed, idxShape, "int32", { ...li, broadcast: [] });
          for (let i = 0; i < index.data.length; i++) index.data[i] = Math.floor(gen.uniform() * shape[dim]!);
          const src = randomView(seed + 2, idxShape, dtype, ls);
          const part = randomView(seed + 3, idxShape, dtype, lx);
          const catShape = shape.map((n, i) => (i === dim ? n + idxShape[i]! : n));
          acrossThreads(t, `gather/scatterAdd/cat dim ${dim} [${shape}]`, () => [be.gather(x, dim, index), be.scatterAdd(x, dim, index, src), be.cat([x, part], dim, catShape)], (got, what) =>
            sameResult(got, [jsBackend.gather(x, dim, index), jsBackend.scatterAdd(x, dim, index, src), jsBackend.cat([x, part], dim, catShape)], what),
          );
        }),
        runs(40),
      );
    });
  });
