/**
 * @file Tensors: creation, seeded randomness, accessors, type promotion, views sharing storage,
 * PyTorch-identical printing, and property-based checks (fast-check) of broadcasting, reshape /
 * permute, cat / split and reductions.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import * as tg from "../src/index.ts";

const I = { dtype: "int32" } as const;
const F64 = { dtype: "float64" } as const;

function allClose(actual: tg.Tensor, expected: number[], tol: number, what = "tensor"): void {
  const got = Array.from(actual.dataSync(), Number);
  assert.equal(got.length, expected.length, `${what}: ${got.length} elements, expected ${expected.length}`);
  got.forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]!) <= tol, `${what}[${i}]: expected ${expected[i]} ± ${tol}, got ${v}`);
  });
}

const flat = (t: tg.Tensor): number[] => Array.from(t.dataSync(), Number);

describe("creation", () => {
  test("tensor() from nested arrays, numbers, booleans", () => {
    const m = tg.tensor([[1, 2, 3], [4, 5, 6]]);
    assert.equal(m.dtype, "float32");
    assert.deepEqual(m.shape, [2, 3]);
    assert.deepEqual(m.toArray(), [[1, 2, 3], [4, 5, 6]]);
    const s = tg.tensor(3.5);
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 3.5);
    assert.equal(s.dtype, "float32");
    const b = tg.tensor([[true, false]]);
    assert.equal(b.dtype, "bool");
    assert.deepEqual(b.toArray(), [[true, false]]);
    assert.equal(tg.tensor(false).dtype, "bool");
    assert.deepEqual(tg.tensor([1, 2], I).toArray(), [1, 2]);
    assert.equal(tg.tensor([1, 2], I).dtype, "int32");
    assert.equal(tg.tensor([1.5], F64).dtype, "float64");
    assert.equal(tg.tensor([[[1]]]).ndim, 3);
    // dtype conversions at creation truncate like PyTorch's int conversion
    assert.deepEqual(tg.tensor([1.7, -1.7], I).toArray(), [1, -1]);
    assert.deepEqual(tg.tensor([0, 2, -1], { dtype: "bool" }).toArray(), [false, true, true]);
  });

  test("mixing booleans and numbers does not silently turn the numbers into booleans", () => {
    // torch.tensor([True, 2.5]) → tensor([1.0000, 2.5000])
    const t = tg.tensor([true, 2.5]);
    assert.equal(t.dtype, "float32");
    assert.deepEqual(t.toArray(), [1, 2.5]);
  });

  test("empty arrays give size-0 dims", () => {
    const e = tg.tensor([]);
    assert.deepEqual(e.shape, [0]);
    assert.equal(e.numel(), 0);
    assert.equal(e.dtype, "float32");
    assert.deepEqual(tg.tensor([[], []]).shape, [2, 0]);
    assert.deepEqual(tg.tensor([]).toArray(), []);
  });

  test("tensor() from typed arrays keeps their dtype (1-D)", () => {
    const f = tg.tensor(new Float64Array([1.5, 2]));
    assert.equal(f.dtype, "float64");
    assert.deepEqual(f.toArray(), [1.5, 2]);
    assert.equal(tg.tensor(new Int32Array([1, 2])).dtype, "int32");
    assert.equal(tg.tensor(new Float32Array([1, 2])).dtype, "float32");
    assert.equal(tg.tensor(new Uint8Array([0, 255])).dtype, "float32"); // bytes (e.g. pixels) become numbers
    assert.deepEqual(tg.tensor(new Uint8Array([0, 255])).toArray(), [0, 255]);
    assert.equal(tg.tensor(new Float64Array([1]), { dtype: "float32" }).dtype, "float32");
    // the tensor owns a copy
    const src = new Float32Array([1, 2]);
    const t = tg.tensor(src);
    src[0] = 9;
    assert.deepEqual(t.toArray(), [1, 2]);
  });

  test("tensor() of a tensor copies it (optionally converting)", () => {
    const a = tg.tensor([1, 2]);
    const b = tg.tensor(a, F64);
    assert.equal(b.dtype, "float64");
    assert.notEqual(b.data, a.data);
    const c = tg.tensor(tg.tensor([[1, 2], [3, 4]]).t());
    assert.deepEqual(c.toArray(), [[1, 3], [2, 4]]);
    assert.ok(c.isContiguous());
  });

  test("ragged arrays are rejected with a clear message", () => {
    assert.throws(() => tg.tensor([[1, 2], [3]]), /tensor: ragged nested array: expected length 2 at \[1\], got 1/);
    assert.throws(() => tg.tensor([[1, 2], 3] as never), /ragged nested array: expected length 2 at \[1\], got number/);
    assert.throws(() => tg.tensor([1, [2]] as never), /tensor: element \[1\] is an array, expected a number or boolean \(is the array ragged\?\)/);
    assert.throws(() => tg.tensor([[[1], [2]], [[3], [4, 5]]]), /ragged.*expected length 1 at \[1\]\[1\], got 2/);
    assert.throws(() => tg.tensor([1, "a"] as never), /element \[1\] is string/);
  });

  test("zeros, ones, full with shapes and dtypes", () => {
    assert.deepEqual(tg.zeros([2, 3]).toArray(), [[0, 0, 0], [0, 0, 0]]);
    assert.equal(tg.zeros([2]).dtype, "float32");
    assert.equal(tg.zeros([2], I).dtype, "int32");
    assert.deepEqual(tg.ones([3], F64).toArray(), [1, 1, 1]);
    assert.equal(tg.ones([3], F64).dtype, "float64");
    assert.deepEqual(tg.ones([]).shape, []);
    assert.equal(tg.ones([]).item(), 1);
    assert.deepEqual(tg.full([2, 2], 7).toArray(), [[7, 7], [7, 7]]);
    assert.equal(tg.full([1], true).dtype, "bool");
    assert.deepEqual(tg.full([2], 3, I).toArray(), [3, 3]);
    assert.deepEqual(tg.zeros([0, 4]).shape, [0, 4]);
    assert.equal(tg.ones([2], { requiresGrad: true }).requiresGrad, true);
    const like = tg.zerosLike(tg.ones([2, 1], F64));
    assert.deepEqual([like.shape, like.dtype], [[2, 1], "float64"]);
    assert.deepEqual(tg.onesLike(tg.zeros([2], I)).toArray(), [1, 1]);
    assert.deepEqual(tg.fullLike(tg.zeros([2]), 0.5).toArray(), [0.5, 0.5]);
  });

  test("arange: integer arguments give int32, a fractional one float32; the end is exclusive", () => {
    assert.deepEqual(tg.arange(5).toArray(), [0, 1, 2, 3, 4]);
    assert.equal(tg.arange(5).dtype, "int32");
    assert.deepEqual(tg.arange(2, 6).toArray(), [2, 3, 4, 5]);
    assert.deepEqual(tg.arange(10, 0, -3).toArray(), [10, 7, 4, 1]);
    const f = tg.arange(1, 2, 0.25);
    assert.equal(f.dtype, "float32");
    assert.deepEqual(f.toArray(), [1, 1.25, 1.5, 1.75]);
    assert.equal(tg.arange(0, 1, 0.1).numel(), 10); // torch.arange(0, 1, 0.1) has 10 elements
    assert.equal(tg.arange(0, 0.3, 0.1).numel(), 3);
    assert.equal(tg.arange(3, undefined, 1, F64).dtype, "float64");
    assert.deepEqual(tg.arange(0).shape, [0]);
  });

  test("linspace includes both ends, float32 by default", () => {
    const l = tg.linspace(0, 1, 5);
    assert.equal(l.dtype, "float32");
    assert.deepEqual(l.toArray(), [0, 0.25, 0.5, 0.75, 1]);
    // torch.linspace(-1, 1, 7)
    allClose(tg.linspace(-1, 1, 7), [-1, -0.6666666865348816, -0.3333333432674408, 0, 0.3333333432674408, 0.6666666865348816, 1], 1e-7);
    assert.equal(tg.linspace(-1, 1, 7).dataSync()[6], 1, "the last value is exactly the end");
    assert.deepEqual(tg.linspace(3, 3, 1).toArray(), [3]);
    assert.deepEqual(tg.linspace(0, 1, 0).shape, [0]);
    assert.equal(tg.linspace(0, 1, 3, F64).dtype, "float64");
  });

  test("eye: square and rectangular identities", () => {
    assert.deepEqual(tg.eye(3).toArray(), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    assert.deepEqual(tg.eye(2, 3).toArray(), [[1, 0, 0], [0, 1, 0]]);
    assert.deepEqual(tg.eye(3, 2).toArray(), [[1, 0], [0, 1], [0, 0]]);
    assert.equal(tg.eye(2, 2, F64).dtype, "float64");
    assert.equal(tg.eye(2).dtype, "float32");
  });

  test("rand, randn, randint: shapes, dtypes and ranges", () => {
    tg.manualSeed(0);
    const u = tg.rand([100, 50]);
    assert.deepEqual(u.shape, [100, 50]);
    assert.equal(u.dtype, "float32");
    const uv = flat(u);
    assert.ok(uv.every((v) => v >= 0 && v < 1));
    const mean = uv.reduce((a, b) => a + b, 0) / uv.length;
    assert.ok(Math.abs(mean - 0.5) < 0.02, `rand mean ${mean}`);
    assert.equal(tg.rand([2], F64).dtype, "float64");

    const n = flat(tg.randn([20000], F64));
    const m = n.reduce((a, b) => a + b, 0) / n.length;
    const v = n.reduce((a, b) => a + (b - m) ** 2, 0) / n.length;
    assert.ok(Math.abs(m) < 0.03 && Math.abs(v - 1) < 0.05, `randn mean ${m} var ${v}`);
    assert.equal(tg.randn([1]).dtype, "float32");
    assert.deepEqual(tg.randn([]).shape, []);

    const r = tg.randint(-2, 3, [1000]);
    assert.equal(r.dtype, "int32");
    const rv = flat(r);
    assert.ok(rv.every((x) => Number.isInteger(x) && x >= -2 && x < 3));
    assert.deepEqual([...new Set(rv)].sort(), [-1, -2, 0, 1, 2].sort(), "every value in [low, high) appears");
    assert.deepEqual(tg.randint(0, 10, [2, 3]).shape, [2, 3]);

    const p = flat(tg.randperm(10));
    assert.deepEqual([...p].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.throws(() => tg.rand([2], I), /rand: dtype must be float32 or float64, got int32/);
    assert.throws(() => tg.randint(3, 3, [1]), /randint: expects integers low < high/);
  });

  test("manualSeed makes every random op reproducible", () => {
    const draws = () => [
      flat(tg.rand([5])),
      flat(tg.randn([5])),
      flat(tg.randn([3], F64)),
      flat(tg.rand([2, 2], F64)),
      flat(tg.randint(0, 100, [5])),
      flat(tg.randperm(8)),
    ];
    tg.manualSeed(42);
    const a = draws();
    tg.manualSeed(42);
    const b = draws();
    assert.deepEqual(a, b);
    tg.manualSeed(43);
    const c = draws();
    a.forEach((xs, i) => {
      assert.notDeepEqual(xs, c[i], `op ${i} differs with another seed`);
    });
    // without reseeding the stream moves on
    tg.manualSeed(42);
    const first = flat(tg.rand([5]));
    const second = flat(tg.rand([5]));
    assert.notDeepEqual(first, second);
    // an explicit generator is independent of the global one
    const g1 = new tg.Generator(7);
    const g2 = new tg.Generator(7);
    tg.manualSeed(1);
    const x1 = flat(tg.randn([4], { generator: g1 }));
    tg.rand([3]); // global draws in between do not disturb it
    const x2 = flat(tg.randn([4], { generator: g2 }));
    assert.deepEqual(x1, x2);
    assert.deepEqual(flat(tg.randint(0, 5, [6], { generator: new tg.Generator(3) })), flat(tg.randint(0, 5, [6], { generator: new tg.Generator(3) })));
  });
});

describe("accessors", () => {
  test("toArray, item, dataSync, numel, ndim, shape, size", () => {
    const t = tg.tensor([[1, 2, 3], [4, 5, 6]], I);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.equal(t.numel(), 6);
    assert.equal(t.ndim, 2);
    assert.deepEqual(t.shape, [2, 3]);
    assert.deepEqual(t.size(), [2, 3]);
    assert.equal(t.size(-1), 3);
    const d = t.dataSync();
    assert.ok(d instanceof Int32Array);
    assert.deepEqual(Array.from(d), [1, 2, 3, 4, 5, 6]);
    d[0] = 100;
    assert.equal(t.toArray().toString(), "1,2,3,4,5,6", "dataSync returns a copy");
    assert.ok(tg.tensor([1]).dataSync() instanceof Float32Array);
    assert.ok(tg.tensor([1], F64).dataSync() instanceof Float64Array);
    assert.ok(tg.tensor([true]).dataSync() instanceof Uint8Array);
    // a strided view reads in logical (row-major) order
    assert.deepEqual(Array.from(t.t().dataSync()), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(t.t().toArray(), [[1, 4], [2, 5], [3, 6]]);
    // 0-d
    const s = tg.tensor(5, I);
    assert.deepEqual([s.shape, s.ndim, s.numel(), s.item(), s.toArray()], [[], 0, 1, 5, 5]);
    assert.equal(tg.tensor([[2.5]]).item(), 2.5);
    assert.equal(tg.tensor([true]).item(), 1);
    assert.equal(tg.zeros([0, 3]).numel(), 0);
  });
});

describe("type promotion", () => {
  const DT: tg.DType[] = ["bool", "int32", "float32", "float64"];
  // torch.promote_types, with torch.int32 standing in for tensorgrad's int32
  const PROMOTE: Record<tg.DType, tg.DType[]> = {
    bool: ["bool", "int32", "float32", "float64"],
    int32: ["int32", "int32", "float32", "float64"],
    float32: ["float32", "float32", "float32", "float64"],
    float64: ["float64", "float64", "float64", "float64"],
  };

  test("promoteTypes is torch.promote_types", () => {
    for (const a of DT) for (const [j, b] of DT.entries()) assert.equal(tg.promoteTypes(a, b), PROMOTE[a][j], `${a} ⊔ ${b}`);
  });

  // Result dtypes of real ops, generated with PyTorch 1.13 for every pair of operand kinds:
  //   t:<dtype> = torch.ones(2, dtype), s:<dtype> = a 0-d tensor, n:<x> = a Python number,
  //   e.g. torch.add(torch.ones(2, dtype=torch.int32), torch.ones((), dtype=torch.float64)).dtype.
  // PyTorch's int64 (bool tensor + 2) reads int32 here, tensorgrad having no int64.
  // b = bool, i = int32, f = float32, d = float64, - = not applicable.
  const KINDS = ["t:bool", "t:int32", "t:float32", "t:float64", "s:bool", "s:int32", "s:float32", "s:float64", "n:true", "n:2", "n:2.5"];
  const TABLES: Record<"add" | "mul" | "div" | "maximum", string[]> = {
    add: [
      "b i f d b i f d b i f",
      "i i f d i i f d i i f",
      "f f f d f f f f f f f",
      "d d d d d d d d d d d",
      "b i f d b i f d b i f",
      "i i f d i i f d i i f",
      "f f f d f f f d f f f",
      "d d f d d d d d d d d",
      "b i f d b i f d - - -",
      "i i f d i i f d - - -",
      "f f f d f f f d - - -",
    ],
    mul: [] /* same as add */,
    div: [
      "f f f d f f f d f f f",
      "f f f d f f f d f f f",
      "f f f d f f f f f f f",
      "d d d d d d d d d d d",
      "f f f d f f f d f f f",
      "f f f d f f f d f f f",
      "f f f d f f f d f f f",
      "d d f d d d d d d d d",
      "f f f d f f f d - - -",
      "f f f d f f f d - - -",
      "f f f d f f f d - - -",
    ],
    maximum: [
      "b i f d b i f d - - -",
      "i i f d i i f d - - -",
      "f f f d f f f f - - -",
      "d d d d d d d d - - -",
      "b i f d b i f d - - -",
      "i i f d i i f d - - -",
      "f f f d f f f d - - -",
      "d d f d d d d d - - -",
      "- - - - - - - - - - -",
      "- - - - - - - - - - -",
      "- - - - - - - - - - -",
    ],
  };
  TABLES.mul = TABLES.add;
  const BINARY = { add: tg.add, mul: tg.mul, div: tg.div, maximum: tg.maximum };
  const LETTER: Record<string, tg.DType> = { b: "bool", i: "int32", f: "float32", d: "float64" };
  const operand = (kind: string): tg.Tensor | number | boolean => {
    const [k, v] = kind.split(":") as [string, string];
    if (k === "t") return tg.ones([2], { dtype: v as tg.DType });
    if (k === "s") return tg.ones([], { dtype: v as tg.DType });
    return v === "true" ? true : Number(v);
  };

  for (const op of ["add", "mul", "div", "maximum"] as const) {
    test(`result dtypes of ${op} match PyTorch for tensors, 0-d tensors and numbers`, () => {
      KINDS.forEach((ka, i) => {
        const row = TABLES[op][i]!.split(" ");
        KINDS.forEach((kb, j) => {
          if (row[j] === "-") return;
          const out = BINARY[op](operand(ka), operand(kb));
          assert.equal(out.dtype, LETTER[row[j]!], `${op}(${ka}, ${kb})`);
          assert.deepEqual(out.shape, ka.startsWith("t") || kb.startsWith("t") ? [2] : []);
        });
      });
    });
  }

  test("comparisons give bool; unary float math on ints gives float32; sum of bool counts as int32", () => {
    assert.equal(tg.tensor([1, 2], I).gt(1.5).dtype, "bool");
    assert.deepEqual(tg.tensor([1, 2], I).gt(1.5).toArray(), [false, true]);
    assert.equal(tg.tensor([1], I).exp().dtype, "float32");
    assert.equal(tg.tensor([true, true, false]).sum().dtype, "int32");
    assert.equal(tg.tensor([true, true, false]).sum().item(), 2);
    assert.equal(tg.tensor([1, 2], I).div(2).dtype, "float32");
    assert.deepEqual(tg.tensor([1, 2], I).div(2).toArray(), [0.5, 1]);
    assert.equal(tg.tensor([1, 2], I).matmul(tg.tensor([1, 2], F64)).dtype, "float64");
  });
});

describe("views share storage", () => {
  test("reshape of a contiguous tensor is a view; writes through it are visible", () => {
    const base = tg.arange(6, undefined, 1, { dtype: "float32" });
    const r = base.reshape([2, 3]);
    assert.equal(r.data, base.data);
    r.narrow(0, 1, 1).copy_(tg.tensor([[7, 8, 9]]));
    assert.deepEqual(base.toArray(), [0, 1, 2, 7, 8, 9]);
    assert.equal(base.view([3, 2]).data, base.data);
    assert.equal(base.flatten().data, base.data);
    assert.equal(base.unsqueeze(0).data, base.data);
  });

  test("transpose / permute / t are views; reshape of a transposed tensor copies", () => {
    const base = tg.tensor([[1, 2, 3], [4, 5, 6]]);
    const t = base.t();
    assert.equal(t.data, base.data);
    assert.equal(t.isContiguous(), false);
    t.copy_(tg.tensor([[10, 40], [20, 50], [30, 60]]));
    assert.deepEqual(base.toArray(), [[10, 20, 30], [40, 50, 60]]);
    base.copy_(tg.zeros([2, 3]));
    assert.deepEqual(t.toArray(), [[0, 0], [0, 0], [0, 0]]);
    const p = tg.zeros([2, 3, 4]).permute(2, 0, 1);
    assert.deepEqual(p.shape, [4, 2, 3]);
    const copy = t.reshape([6]);
    assert.notEqual(copy.data, base.data);
    assert.throws(() => t.view([6]), /view: the input of shape \[3,2\] is not contiguous; use reshape\(\)/);
  });

  test("narrow is a view at an offset; writes go both ways", () => {
    const base = tg.arange(10, undefined, 1, { dtype: "float32" });
    const n = base.narrow(0, 3, 4);
    assert.equal(n.data, base.data);
    assert.deepEqual(n.toArray(), [3, 4, 5, 6]);
    n.copy_(tg.tensor([-1, -1, -1, -1]));
    assert.deepEqual(base.toArray(), [0, 1, 2, -1, -1, -1, -1, 7, 8, 9]);
    base.fill_(2);
    assert.deepEqual(n.toArray(), [2, 2, 2, 2]);
    // a column of a matrix: a strided narrow
    const m = tg.zeros([3, 3]);
    m.narrow(1, 1, 1).copy_(tg.tensor([[1], [2], [3]]));
    assert.deepEqual(m.toArray(), [[0, 1, 0], [0, 2, 0], [0, 3, 0]]);
    // index / split / chunk pieces are views too
    const pieces = m.split(1, 0);
    assert.ok(pieces.every((piece) => piece.data === m.data));
    assert.equal(m.index(1).data, m.data);
  });

  test("expand is a view with stride 0: a write to the base shows in every repeat", () => {
    const base = tg.tensor([[1], [2]]);
    const e = base.expand([2, 3]);
    assert.equal(e.data, base.data);
    assert.deepEqual(e.strides, [1, 0]);
    assert.deepEqual(e.toArray(), [[1, 1, 1], [2, 2, 2]]);
    base.copy_(tg.tensor([[5], [6]]));
    assert.deepEqual(e.toArray(), [[5, 5, 5], [6, 6, 6]]);
    const row = tg.tensor([1, 2, 3]).expand(4, 3);
    assert.deepEqual(row.shape, [4, 3]);
    assert.deepEqual(row.toArray(), [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  });

  test("clone and contiguous() of a view own new storage", () => {
    const base = tg.tensor([[1, 2], [3, 4]]);
    const c = base.clone();
    assert.notEqual(c.data, base.data);
    c.copy_(tg.zeros([2, 2]));
    assert.deepEqual(base.toArray(), [[1, 2], [3, 4]]);
    assert.equal(base.contiguous(), base);
    const tc = base.t().contiguous();
    assert.notEqual(tc.data, base.data);
    assert.ok(tc.isContiguous());
    assert.deepEqual(tc.toArray(), [[1, 3], [2, 4]]);
  });
});

describe("toString() prints exactly what PyTorch prints", () => {
  // Expected strings: repr() of the tensor in the comment above each case, run with
  // /usr/bin/python3 and PyTorch 1.13, then only the deliberate differences adjusted:
  // "dtype=torch.float64" → "dtype=float64", and PyTorch's default integer type int64 (no
  // suffix) stands for tensorgrad's int32 ("dtype=torch.int64" → "dtype=int32" where shown).
  const CASES: [string, () => tg.Tensor, string][] = [
  // torch.tensor(3.5)
  ["0-d float", () => tg.tensor(3.5), "tensor(3.5000)"],
  // torch.tensor(2.)
  ["0-d integer-valued float", () => tg.tensor(2), "tensor(2.)"],
  // torch.tensor(-7)
  ["0-d int", () => tg.tensor(-7, I), "tensor(-7)"],
  // torch.tensor(True)
  ["0-d bool", () => tg.tensor(true), "tensor(True)"],
  // torch.tensor([1, -20, 300])
  ["1-D ints", () => tg.tensor([1, -20, 300], I), "tensor([  1, -20, 300])"],
  // torch.tensor([5])
  ["1-D one int", () => tg.tensor([5], I), "tensor([5])"],
  // torch.tensor([[1, 2, 3], [40, 50, -600]])
  ["2-D ints", () => tg.tensor([[1, 2, 3], [40, 50, -600]], I), "tensor([[   1,    2,    3],\n        [  40,   50, -600]])"],
  // torch.tensor([[1.5, -2.25], [3.125, 4.0]])
  ["float 2-D with decimals", () => tg.tensor([[1.5, -2.25], [3.125, 4.0]]), "tensor([[ 1.5000, -2.2500],\n        [ 3.1250,  4.0000]])"],
  // torch.tensor([0.1, 0.2, 0.3])
  ["float 1-D decimals", () => tg.tensor([0.1, 0.2, 0.3]), "tensor([0.1000, 0.2000, 0.3000])"],
  // torch.tensor([0.03125, 1.15625, -0.40625, 2.5])
  ["round half to even at the 4th decimal", () => tg.tensor([0.03125, 1.15625, -0.40625, 2.5]), "tensor([ 0.0312,  1.1562, -0.4062,  2.5000])"],
  // torch.tensor([1.03125, 1e-5, -103125.])
  ["round half to even in scientific notation", () => tg.tensor([1.03125, 1e-5, -103125]), "tensor([ 1.0312e+00,  1.0000e-05, -1.0312e+05])"],
  // torch.tensor([[1., 2.], [30., -4.]])
  ["integer-valued floats", () => tg.tensor([[1, 2], [30, -4]]), "tensor([[ 1.,  2.],\n        [30., -4.]])"],
  // torch.zeros(2, 3)
  ["zeros", () => tg.zeros([2, 3]), "tensor([[0., 0., 0.],\n        [0., 0., 0.]])"],
  // torch.tensor([-0., 1.])
  ["negative zero", () => tg.tensor([-0, 1]), "tensor([-0., 1.])"],
  // torch.tensor([True, False, True])
  ["bool", () => tg.tensor([true, false, true]), "tensor([ True, False,  True])"],
  // torch.tensor([[True], [False]])
  ["bool 2-D", () => tg.tensor([[true], [false]]), "tensor([[ True],\n        [False]])"],
  // torch.arange(24.).reshape(2, 3, 4) / 4
  ["3-D", () => tg.arange(24).reshape([2, 3, 4]).div(4), "tensor([[[0.0000, 0.2500, 0.5000, 0.7500],\n         [1.0000, 1.2500, 1.5000, 1.7500],\n         [2.0000, 2.2500, 2.5000, 2.7500]],\n\n        [[3.0000, 3.2500, 3.5000, 3.7500],\n         [4.0000, 4.2500, 4.5000, 4.7500],\n         [5.0000, 5.2500, 5.5000, 5.7500]]])"],
  // torch.arange(16).reshape(2, 2, 2, 2)
  ["4-D ints", () => tg.arange(16).reshape([2, 2, 2, 2]), "tensor([[[[ 0,  1],\n          [ 2,  3]],\n\n         [[ 4,  5],\n          [ 6,  7]]],\n\n\n        [[[ 8,  9],\n          [10, 11]],\n\n         [[12, 13],\n          [14, 15]]]])"],
  // torch.tensor([1e-5, 1.0, 123456.0])
  ["scientific: a large ratio", () => tg.tensor([1e-5, 1.0, 123456.0]), "tensor([1.0000e-05, 1.0000e+00, 1.2346e+05])"],
  // torch.tensor([1e-10, -2.5e-10])
  ["scientific: small values", () => tg.tensor([1e-10, -2.5e-10]), "tensor([ 1.0000e-10, -2.5000e-10])"],
  // torch.tensor([1e9, 1.])
  ["scientific: above 1e8", () => tg.tensor([1e9, 1]), "tensor([1.0000e+09, 1.0000e+00])"],
  // torch.tensor([1., 2000.])
  ["scientific: integer ratio above 1000", () => tg.tensor([1, 2000]), "tensor([1.0000e+00, 2.0000e+03])"],
  // torch.tensor([0., 1e-6, inf, -3.])
  ["scientific with zero and inf", () => tg.tensor([0, 1e-6, Infinity, -3]), "tensor([ 0.0000e+00,  1.0000e-06,         inf, -3.0000e+00])"],
  // torch.tensor([1e-300, 1.], dtype=torch.float64)
  ["scientific: three-digit exponent", () => tg.tensor([1e-300, 1], F64), "tensor([1.0000e-300,  1.0000e+00], dtype=float64)"],
  // torch.tensor([1., nan, inf])
  ["nan and inf in int mode", () => tg.tensor([1, NaN, Infinity]), "tensor([1., nan, inf])"],
  // torch.tensor([0.5, nan, -inf])
  ["nan and -inf in decimal mode", () => tg.tensor([0.5, NaN, -Infinity]), "tensor([0.5000,    nan,   -inf])"],
  // torch.tensor([0., nan])
  ["only zeros and nan", () => tg.tensor([0, NaN]), "tensor([0., nan])"],
  // torch.arange(30.) / 3
  ["long row wraps at 80 columns", () => tg.arange(30).div(3), "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,\n        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,\n        9.0000, 9.3333, 9.6667])"],
  // torch.arange(40) * 1000
  ["long int row wraps", () => tg.arange(40).mul(1000), "tensor([    0,  1000,  2000,  3000,  4000,  5000,  6000,  7000,  8000,  9000,\n        10000, 11000, 12000, 13000, 14000, 15000, 16000, 17000, 18000, 19000,\n        20000, 21000, 22000, 23000, 24000, 25000, 26000, 27000, 28000, 29000,\n        30000, 31000, 32000, 33000, 34000, 35000, 36000, 37000, 38000, 39000])"],
  // torch.arange(2000.)
  ["more than 1000 elements, 1-D (summarised)", () => tg.arange(2000, undefined, 1, { dtype: "float32" }), "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"],
  // torch.arange(1001)
  ["more than 1000 elements, ints", () => tg.arange(1001), "tensor([   0,    1,    2,  ...,  998,  999, 1000])"],
  // (torch.arange(3000.) / 7).reshape(100, 30)
  ["more than 1000 elements, 2-D decimals", () => tg.arange(3000).div(7).reshape([100, 30]), "tensor([[0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 3.8571e+00, 4.0000e+00,\n         4.1429e+00],\n        [4.2857e+00, 4.4286e+00, 4.5714e+00,  ..., 8.1429e+00, 8.2857e+00,\n         8.4286e+00],\n        [8.5714e+00, 8.7143e+00, 8.8571e+00,  ..., 1.2429e+01, 1.2571e+01,\n         1.2714e+01],\n        ...,\n        [4.1571e+02, 4.1586e+02, 4.1600e+02,  ..., 4.1957e+02, 4.1971e+02,\n         4.1986e+02],\n        [4.2000e+02, 4.2014e+02, 4.2029e+02,  ..., 4.2386e+02, 4.2400e+02,\n         4.2414e+02],\n        [4.2429e+02, 4.2443e+02, 4.2457e+02,  ..., 4.2814e+02, 4.2829e+02,\n         4.2843e+02]])"],
  // (torch.arange(2000.) / 4).reshape(1000, 2)
  ["more than 1000 elements, 2-D with few columns", () => tg.arange(2000).div(4).reshape([1000, 2]), "tensor([[0.0000e+00, 2.5000e-01],\n        [5.0000e-01, 7.5000e-01],\n        [1.0000e+00, 1.2500e+00],\n        ...,\n        [4.9850e+02, 4.9875e+02],\n        [4.9900e+02, 4.9925e+02],\n        [4.9950e+02, 4.9975e+02]])"],
  // torch.arange(1200.).reshape(10, 12, 10) - 600
  ["more than 1000 elements, 3-D", () => tg.arange(1200).reshape([10, 12, 10]).sub(600).to("float32"), "tensor([[[-600., -599., -598.,  ..., -593., -592., -591.],\n         [-590., -589., -588.,  ..., -583., -582., -581.],\n         [-580., -579., -578.,  ..., -573., -572., -571.],\n         ...,\n         [-510., -509., -508.,  ..., -503., -502., -501.],\n         [-500., -499., -498.,  ..., -493., -492., -491.],\n         [-490., -489., -488.,  ..., -483., -482., -481.]],\n\n        [[-480., -479., -478.,  ..., -473., -472., -471.],\n         [-470., -469., -468.,  ..., -463., -462., -461.],\n         [-460., -459., -458.,  ..., -453., -452., -451.],\n         ...,\n         [-390., -389., -388.,  ..., -383., -382., -381.],\n         [-380., -379., -378.,  ..., -373., -372., -371.],\n         [-370., -369., -368.,  ..., -363., -362., -361.]],\n\n        [[-360., -359., -358.,  ..., -353., -352., -351.],\n         [-350., -349., -348.,  ..., -343., -342., -341.],\n         [-340., -339., -338.,  ..., -333., -332., -331.],\n         ...,\n         [-270., -269., -268.,  ..., -263., -262., -261.],\n         [-260., -259., -258.,  ..., -253., -252., -251.],\n         [-250., -249., -248.,  ..., -243., -242., -241.]],\n\n        ...,\n\n        [[ 240.,  241.,  242.,  ...,  247.,  248.,  249.],\n         [ 250.,  251.,  252.,  ...,  257.,  258.,  259.],\n         [ 260.,  261.,  262.,  ...,  267.,  268.,  269.],\n         ...,\n         [ 330.,  331.,  332.,  ...,  337.,  338.,  339.],\n         [ 340.,  341.,  342.,  ...,  347.,  348.,  349.],\n         [ 350.,  351.,  352.,  ...,  357.,  358.,  359.]],\n\n        [[ 360.,  361.,  362.,  ...,  367.,  368.,  369.],\n         [ 370.,  371.,  372.,  ...,  377.,  378.,  379.],\n         [ 380.,  381.,  382.,  ...,  387.,  388.,  389.],\n         ...,\n         [ 450.,  451.,  452.,  ...,  457.,  458.,  459.],\n         [ 460.,  461.,  462.,  ...,  467.,  468.,  469.],\n         [ 470.,  471.,  472.,  ...,  477.,  478.,  479.]],\n\n        [[ 480.,  481.,  482.,  ...,  487.,  488.,  489.],\n         [ 490.,  491.,  492.,  ...,  497.,  498.,  499.],\n         [ 500.,  501.,  502.,  ...,  507.,  508.,  509.],\n         ...,\n         [ 570.,  571.,  572.,  ...,  577.,  578.,  579.],\n         [ 580.,  581.,  582.,  ...,  587.,  588.,  589.],\n         [ 590.,  591.,  592.,  ...,  597.,  598.,  599.]]])"],
  // torch.cat([torch.ones(3), torch.full((1000,), 0.5), torch.ones(3) * 2])
  ["summarised: hidden values do not set the format", () => tg.cat([tg.ones([3]), tg.full([1000], 0.5), tg.ones([3]).mul(2)]), "tensor([1., 1., 1.,  ..., 2., 2., 2.])"],
  // torch.zeros(0, 3)
  ["empty [0, 3]", () => tg.zeros([0, 3]), "tensor([], size=(0, 3))"],
  // torch.zeros(0)
  ["empty 1-D", () => tg.zeros([0]), "tensor([])"],
  // torch.zeros(0, dtype=torch.float64)
  ["empty float64", () => tg.zeros([0], F64), "tensor([], dtype=float64)"],
  // torch.zeros(2, 0, dtype=torch.int64)
  ["empty int", () => tg.zeros([2, 0], I), "tensor([], size=(2, 0), dtype=int32)"],
  // torch.zeros(0, dtype=torch.bool)
  ["empty bool", () => tg.zeros([0], { dtype: "bool" }), "tensor([], dtype=bool)"],
  // torch.tensor([1., 2.], requires_grad=True)
  ["requires_grad leaf", () => tg.tensor([1, 2], { requiresGrad: true }), "tensor([1., 2.], requires_grad=True)"],
  // torch.tensor(0.25, requires_grad=True)
  ["0-d requires_grad leaf", () => tg.tensor(0.25, { requiresGrad: true }), "tensor(0.2500, requires_grad=True)"],
  // torch.tensor([1., 2.], requires_grad=True) * 2
  ["a result with grad_fn", () => tg.tensor([1, 2], { requiresGrad: true }).mul(2), "tensor([2., 4.], grad_fn=<MulBackward0>)"],
  // torch.tensor([[0., 1.], [2., 3.]], requires_grad=True).exp()
  ["2-D result with grad_fn", () => tg.tensor([[0, 1], [2, 3]], { requiresGrad: true }).exp(), "tensor([[ 1.0000,  2.7183],\n        [ 7.3891, 20.0855]], grad_fn=<ExpBackward0>)"],
  // torch.tensor([1.5, 2.], requires_grad=True).sum()
  ["scalar result with grad_fn", () => tg.tensor([1.5, 2], { requiresGrad: true }).sum(), "tensor(3.5000, grad_fn=<SumBackward0>)"],
  // torch.tensor([1.5, 2.], dtype=torch.float64)
  ["float64", () => tg.tensor([1.5, 2], F64), "tensor([1.5000, 2.0000], dtype=float64)"],
  // torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64)
  ["float64 integer-valued 2-D", () => tg.tensor([[1, 2], [3, 4]], F64), "tensor([[1., 2.],\n        [3., 4.]], dtype=float64)"],
  // torch.tensor(0.1, dtype=torch.float64)
  ["float64 0-d", () => tg.tensor(0.1, F64), "tensor(0.1000, dtype=float64)"],
  // torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True)
  ["float64 with requires_grad", () => tg.tensor([1, 2], { dtype: "float64", requiresGrad: true }), "tensor([1., 2.], dtype=float64, requires_grad=True)"],
  // torch.tensor([1., 2.], dtype=torch.float64, requires_grad=True).sin()
  ["float64 with grad_fn", () => tg.tensor([1, 2], { dtype: "float64", requiresGrad: true }).sin(), "tensor([0.8415, 0.9093], dtype=float64, grad_fn=<SinBackward0>)"],
  // torch.arange(10., dtype=torch.float64).requires_grad_(True) / 3
  ["suffixes wrap onto a new line", () => tg.arange(10, undefined, 1, { dtype: "float64", requiresGrad: true }).div(3), "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,\n        3.0000], dtype=float64, grad_fn=<DivBackward0>)"],
  // (torch.arange(8.) / 3).requires_grad_(True)
  ["suffix after a full last line", () => tg.arange(8).div(3).requiresGrad_(), "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333],\n       requires_grad=True)"],
  // (torch.arange(8., dtype=torch.float64).requires_grad_(True) / 3)
  ["float64 suffix wraps, then grad_fn follows", () => tg.arange(8, undefined, 1, { dtype: "float64", requiresGrad: true }).div(3), "tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333],\n       dtype=float64, grad_fn=<DivBackward0>)"],
  // (torch.arange(4., dtype=torch.float64) / 3).requires_grad_(True) prints
  //   "tensor([0.0000, 0.3333, 0.6667, 1.0000], dtype=torch.float64,\n       requires_grad=True)":
  // PyTorch's 80-column rule applied to the suffix tensorgrad actually prints (13 characters, not 19)
  // keeps it on one line. The only place where the printed layout, not just the suffix text, differs.
  ["the shorter dtype suffix can keep later suffixes on the line", () => tg.arange(4, undefined, 1, F64).div(3).requiresGrad_(), "tensor([0.0000, 0.3333, 0.6667, 1.0000], dtype=float64, requires_grad=True)"],
  // torch.tensor(1e-5)
  ["0-d scientific", () => tg.tensor(1e-5), "tensor(1.0000e-05)"],
  // torch.tensor(nan)
  ["0-d nan", () => tg.tensor(NaN), "tensor(nan)"],
  // torch.arange(10.)[2:5]
  ["a narrowed view", () => tg.arange(10, undefined, 1, { dtype: "float32" }).narrow(0, 2, 3), "tensor([2., 3., 4.])"],
  // torch.tensor([[1, 2, 3], [4, 5, 6]]).t()
  ["transposed view prints in logical order", () => tg.tensor([[1, 2, 3], [4, 5, 6]], I).t(), "tensor([[1, 4],\n        [2, 5],\n        [3, 6]])"],
  ];

  for (const [name, make, expected] of CASES) {
    test(name, () => {
      assert.equal(make().toString(), expected);
    });
  }

  test("String(), template literals and util.inspect use the same text", async () => {
    const t = tg.tensor([1.5, 2]);
    assert.equal(String(t), "tensor([1.5000, 2.0000])");
    assert.equal(`${t}`, "tensor([1.5000, 2.0000])");
    const { inspect } = await import("node:util");
    assert.equal(inspect(t), "tensor([1.5000, 2.0000])");
  });
});

describe("properties (fast-check)", () => {
  const RUNS = { numRuns: 100, seed: 20240601 } as const;
  const dimSize = fc.integer({ min: 1, max: 4 });
  const shapeArb = (minRank = 0, maxRank = 4) => fc.array(dimSize, { minLength: minRank, maxLength: maxRank });
  const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  /** Small integer values (exact in float32 sums) in a tensor of `shape`. */
  const filled = (shape: readonly number[], dtype: tg.DType = "float32", shift = 0) =>
    tg.tensor(Float64Array.from({ length: sizeOf(shape) }, (_, i) => ((i * 7 + shift) % 11) - 5), { dtype }).reshape(shape);
  /** Row-major multi-index of flat position i. */
  const unravel = (i: number, shape: readonly number[]) => {
    const idx = new Array<number>(shape.length);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = i % shape[d]!;
      i = Math.floor(i / shape[d]!);
    }
    return idx;
  };
  const ravel = (idx: readonly number[], shape: readonly number[]) => idx.reduce((acc, v, d) => acc * shape[d]! + v, 0);

  // two shapes that broadcast: derived from one full shape by dropping leading dims and setting dims to 1
  const broadcastPair = shapeArb(0, 4).chain((full) =>
    fc.tuple(
      fc.constant(full),
      fc.integer({ min: 0, max: full.length }),
      fc.integer({ min: 0, max: full.length }),
      fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
    ).map(([f, dropA, dropB, onesA, onesB]) => [
      f.slice(dropA).map((d, i) => (onesA[i + dropA] ? 1 : d)),
      f.slice(dropB).map((d, i) => (onesB[i + dropB] ? 1 : d)),
    ] as const),
  );

  /** NumPy's rule, written independently of the library: align right, 1 stretches. */
  const numpyShape = (a: readonly number[], b: readonly number[]) => {
    const n = Math.max(a.length, b.length);
    return Array.from({ length: n }, (_, i) => {
      const da = a[a.length - n + i] ?? 1;
      const db = b[b.length - n + i] ?? 1;
      assert.ok(da === db || da === 1 || db === 1);
      return Math.max(da, db);
    });
  };

  test("broadcasting random compatible shapes gives NumPy's shape and the values of an explicit expand", () => {
    fc.assert(
      fc.property(broadcastPair, ([sa, sb]) => {
        const a = filled(sa, "float32", 1);
        const b = filled(sb, "float32", 4);
        const out = numpyShape(sa, sb);
        for (const op of ["add", "sub", "mul", "maximum"] as const) {
          const r = { add: tg.add, sub: tg.sub, mul: tg.mul, maximum: tg.maximum }[op](a, b);
          assert.deepEqual(r.shape, out, `${op} ${JSON.stringify(sa)} ${JSON.stringify(sb)}`);
          // against expand: the same values element by element
          const ea = flat(a.expand(out));
          const eb = flat(b.expand(out));
          const f = { add: (x: number, y: number) => x + y, sub: (x: number, y: number) => x - y, mul: (x: number, y: number) => x * y, maximum: Math.max }[op];
          assert.deepEqual(flat(r), ea.map((x, i) => f(x, eb[i]!)));
        }
        // and expand against index arithmetic: a size-1 or missing dim always reads index 0
        const va = flat(a);
        const ea = flat(a.expand(out));
        for (let i = 0; i < ea.length; i++) {
          const idx = unravel(i, out).slice(out.length - sa.length).map((v, d) => (sa[d] === 1 ? 0 : v));
          assert.equal(ea[i], va[ravel(idx, sa)]);
        }
        // broadcasting is symmetric
        assert.deepEqual(flat(tg.add(b, a)), flat(tg.add(a, b)));
      }),
      RUNS,
    );
  });

  test("incompatible shapes throw, naming both", () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 2, max: 4 }), (base, x, y) => {
        fc.pre(x !== y);
        const a = tg.zeros([...base, x]);
        const b = tg.zeros([y]);
        assert.throws(() => a.add(b), new RegExp(`add: shapes \\[${[...base, x].join(",")}\\] and \\[${y}\\] cannot be broadcast`));
      }),
      { ...RUNS, numRuns: 30 },
    );
  });

  const permutationOf = (n: number) =>
    fc.array(fc.nat(), { minLength: n, maxLength: n }).map((keys) =>
      Array.from({ length: n }, (_, i) => i).sort((i, j) => keys[i]! - keys[j]! || i - j),
    );

  test("permute then the inverse permutation, and reshape there and back, are identities", () => {
    fc.assert(
      fc.property(
        shapeArb(1, 4).chain((s) => fc.tuple(fc.constant(s), permutationOf(s.length))),
        ([shape, perm]) => {
          const x = filled(shape, "int32");
          const p = x.permute(perm);
          assert.deepEqual(p.shape, perm.map((d) => shape[d]));
          // element [i0, i1, ...] of the permuted tensor is x[... i_k at position perm[k] ...]
          const pv = flat(p);
          const xv = flat(x);
          for (let i = 0; i < pv.length; i++) {
            const idx = unravel(i, p.shape);
            const src = new Array<number>(shape.length);
            perm.forEach((d, k) => {
              src[d] = idx[k]!;
            });
            assert.equal(pv[i], xv[ravel(src, shape)]);
          }
          const inv = new Array<number>(perm.length);
          perm.forEach((d, k) => {
            inv[d] = k;
          });
          assert.deepEqual(p.permute(inv).toArray(), x.toArray());
          // reshape of the (non-contiguous) permuted tensor and back
          assert.deepEqual(p.reshape([-1]).reshape(p.shape).toArray(), p.toArray());
          assert.deepEqual(x.reshape([sizeOf(shape)]).reshape(shape).toArray(), x.toArray());
          assert.deepEqual(x.flatten().toArray(), xv);
          assert.deepEqual(x.unsqueeze(0).squeeze(0).toArray(), x.toArray());
        },
      ),
      RUNS,
    );
  });

  test("cat then split by the same sizes gives the pieces back; chunk covers the whole dim", () => {
    const catCase = shapeArb(1, 3).chain((base) =>
      fc.tuple(
        fc.constant(base),
        fc.integer({ min: 0, max: base.length - 1 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
      ),
    );
    fc.assert(
      fc.property(catCase, ([base, dim, sizes]) => {
        const parts = sizes.map((n, k) => filled(base.map((d, i) => (i === dim ? n : d)), "float32", k));
        const joined = tg.cat(parts, dim);
        const total = sizes.reduce((a, b) => a + b, 0);
        assert.deepEqual(joined.shape, base.map((d, i) => (i === dim ? total : d)));
        const back = joined.split(sizes, dim);
        assert.equal(back.length, parts.length);
        back.forEach((piece, k) => {
          assert.deepEqual(piece.shape, parts[k]!.shape);
          assert.deepEqual(flat(piece), flat(parts[k]!));
        });
        // negative dims mean the same
        assert.deepEqual(flat(tg.cat(parts, dim - base.length)), flat(joined));
        if (total > 0) {
          const chunks = joined.chunk(Math.min(3, total), dim);
          assert.equal(chunks.reduce((n, c) => n + c.shape[dim]!, 0), total);
          assert.deepEqual(flat(tg.cat(chunks, dim)), flat(joined));
          // stack = unsqueeze + cat
          const st = tg.stack([joined, joined], dim);
          assert.deepEqual(st.shape, [...joined.shape.slice(0, dim), 2, ...joined.shape.slice(dim)]);
        }
      }),
      RUNS,
    );
  });

  test("sum over random dims equals summing one dim at a time (keepdim too)", () => {
    const sumCase = shapeArb(1, 4).chain((s) => fc.tuple(fc.constant(s), fc.subarray(Array.from({ length: s.length }, (_, i) => i), { minLength: 1 })));
    fc.assert(
      fc.property(sumCase, fc.boolean(), ([shape, dims], keepdim) => {
        const x = filled(shape, "float32");
        let seq = x;
        for (const d of [...dims].sort((a, b) => b - a)) seq = seq.sum(d, keepdim);
        const once = x.sum(dims, keepdim);
        const expectedShape = keepdim ? shape.map((d, i) => (dims.includes(i) ? 1 : d)) : shape.filter((_, i) => !dims.includes(i));
        assert.deepEqual(once.shape, expectedShape);
        assert.deepEqual(seq.shape, expectedShape);
        assert.deepEqual(flat(once), flat(seq));
        // dims given negative, and in any order, mean the same
        assert.deepEqual(flat(x.sum([...dims].reverse().map((d) => d - shape.length), keepdim)), flat(once));
        // int32 sums agree too, and the total is the sum of everything
        assert.equal(x.sum().item(), flat(x).reduce((a, b) => a + b, 0));
        assert.deepEqual(flat(filled(shape, "int32").sum(dims, keepdim)), flat(once));
      }),
      RUNS,
    );
  });
});
