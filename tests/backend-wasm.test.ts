/**
 * @file The wasm backend against the js reference: randomized float32 gemm on odd shapes (1, 7, 33,
 * 257, across every cache-block edge), transposed, offset, broadcast and negative-stride views,
 * batched; the few-row path (≤ 4 rows, every tail) and batch-size invariance bit for bit; the fused
 * linear; thread splits bit-identical to one thread; parameters resident in wasm memory (in-place
 * staging, the semantics users see, the heap); the plain-SIMD fallback; elementwise ops
 * bit-identical to js on broadcast, transposed and offset views with special values (the 2×2 max
 * pooling fast path, reluBackward and the Adam/AdamW/AMSGrad step included); a small MLP trained on both gives the same losses; and the
 * PyTorch golden-value suites pass with wasm as the active backend.
 */
import "./ensure-wasm.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { StridedView } from "../src/backend/backend.ts";
import type { TypedArray } from "../src/base/dtype.ts";
import { jsBackend } from "../src/backend/js/index.ts";
import { reluBackward as jsReluBackward } from "../src/backend/js/relu-backward.ts";
import { Arena, ARENA_BASE, getArena, getRuntime, RESIDENT_CAP_BYTES, stage } from "../src/backend/wasm/runtime.ts";
import { getThreads, setThreads, wasmBackend, wasmUnavailableReason } from "../src/backend/wasm/index.ts";
import * as tg from "../src/index.ts";
import { assertGemmClose as assertGemmCloseOn, childEnv, gemmView, randomF32 as randomF32From, type ViewOptions } from "./gemm-helpers.ts";
import { hooks } from "./fused-access.ts";

const gen = new tg.Generator(20261123);

const randomF32 = (n: number) => randomF32From(gen, n);
const view = (B: number, R: number, C: number, opts?: ViewOptions) => gemmView(gen, B, R, C, opts);
const assertGemmClose = (a: StridedView, b: StridedView, what: string) => assertGemmCloseOn(wasmBackend, a, b, what);

test("the wasm backend is registered and reports its variant", () => {
  assert.ok(tg.backend.list().includes("wasm"), `wasm backend unavailable: ${wasmUnavailableReason()}`);
  const rt = getRuntime();
  assert.ok(rt.simd === "relaxed-simd" || rt.simd === "simd");
  assert.ok(getThreads() >= 1);
});

describe("gemm against the js reference", () => {
  const sizes = [1, 7, 33, 257];
  test("every combination of M, N, K in {1, 7, 33, 257}, row-major and transposed operands", () => {
    for (const M of sizes)
      for (const N of sizes)
        for (const K of sizes) {
          const ta = (M + N + K) % 2 === 1;
          const tb = (M * 3 + K) % 3 === 0;
          assertGemmClose(view(1, M, K, { transposed: ta }), view(1, K, N, { transposed: tb }), `M=${M} N=${N} K=${K} ta=${ta} tb=${tb}`);
        }
  });

  test("cache-block edges: K across 256, M across 128, N across 2048", () => {
    assertGemmClose(view(1, 129, 513), view(1, 513, 17), "K=513 (three K blocks), M=129");
    assertGemmClose(view(1, 5, 3), view(1, 3, 2050), "N=2050 (two N blocks)");
    assertGemmClose(view(1, 260, 300, { transposed: true }), view(1, 300, 70, { transposed: true }), "both transposed, M=260 K=300");
  });

  test("offsets, negative strides, broadcast batch, batched", () => {
    assertGemmClose(view(1, 9, 13, { offset: 5 }), view(1, 13, 11, { offset: 7, transposed: true }), "offset views");
    assertGemmClose(view(1, 9, 13, { negative: true }), view(1, 13, 11, { negative: true, transposed: true }), "negative strides");
    assertGemmClose(view(5, 7, 33, { broadcast: true }), view(5, 33, 9), "A broadcast over the batch");
    assertGemmClose(view(4, 33, 7), view(4, 7, 65, { broadcast: true, transposed: true }), "B broadcast and transposed");
    assertGemmClose(view(3, 40, 50, { transposed: true }), view(3, 50, 30), "batched, A transposed");
  });

  test("a row's result does not depend on how many rows the call has (batch-size invariance, bit for bit)", () => {
    // calls of ≤ 4 rows read A and B in place (sgemmFewRows), larger ones pack: the same arithmetic per element
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
      const a = view(1, M, K, { transposed: ta });
      const b = view(1, K, N, { transposed: tb });
      const full = wasmBackend.matmul(a, b);
      for (const rows of [1, 2, 3, 4, 5, 7]) {
        for (let r0 = 0; r0 < M; r0 += rows) {
          const r = Math.min(rows, M - r0);
          const part = wasmBackend.matmul({ ...a, shape: [1, r, K], offset: a.offset + r0 * a.strides[1]! }, b);
          for (let i = 0; i < r * N; i++)
            if (!Object.is(part[i], full[r0 * N + i]))
              assert.fail(`K=${K} N=${N} ta=${ta} tb=${tb}: rows ${r0}..${r0 + r} in calls of ${rows}: element ${i} is ${part[i]}, ${full[r0 * N + i]} in one call`);
        }
      }
    }
  });

  test("few rows (1–4, batch-1 inference): B row- and column-major in place, every tail length, strided A", () => {
    for (const M of [1, 2, 3, 4, 5])
      for (const K of [1, 3, 4, 5, 15, 16, 17, 33, 257, 300])
        for (const N of [1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 65]) {
          assertGemmClose(view(1, M, K), view(1, K, N, { transposed: true }), `x·Wᵀ M=${M} K=${K} N=${N}`);
          assertGemmClose(view(1, M, K, { transposed: true }), view(1, K, N), `row-major B, A transposed, M=${M} K=${K} N=${N}`);
          assertGemmClose(view(1, M, K, { offset: 3 }), view(1, K, N, { negative: true, offset: 2 }), `B walked backwards, M=${M} K=${K} N=${N}`);
        }
    assertGemmClose(view(3, 2, 70), view(3, 70, 40, { broadcast: true, transposed: true }), "batched, 2 rows each");
  });

  test("fused linear (x·Wᵀ + bias, relu): bit-identical to matmul, add and relu on wasm; float64 through js", () => {
    const linear = hooks(wasmBackend).linear!;
    const view2 = (data: Float32Array | Float64Array, R: number, C: number, transposed = false): StridedView => ({
      data,
      dtype: data instanceof Float64Array ? "float64" : "float32",
      shape: [R, C],
      strides: transposed ? [1, R] : [C, 1],
      offset: 0,
    });
    for (const M of [1, 2, 4, 5, 13, 130])
      for (const [K, N] of [
        [7, 5],
        [300, 65],
        [784, 33],
      ] as const)
        for (const tw of [false, true]) {
          const x = view2(randomF32(M * K), M, K);
          const w = view2(randomF32(N * K), N, K, tw);
          const bias: StridedView = { data: randomF32(2 * N), dtype: "float32", shape: [N], strides: [2], offset: 1 };
          const y = wasmBackend.matmul({ ...x, shape: [1, M, K], strides: [0, ...x.strides] }, { ...w, shape: [1, K, N], strides: [0, w.strides[1]!, w.strides[0]!] });
          const yv = (data: TypedArray): StridedView => ({ data, dtype: "float32", shape: [M, N], strides: [N, 1], offset: 0 });
          const added = wasmBackend.binary("add", yv(y), { ...bias, shape: [M, N], strides: [0, 2] }, [M, N]);
          const want = [y, added, wasmBackend.unary("relu", yv(added))];
          const got = [linear(x, w, null, false), linear(x, w, bias, false), linear(x, w, bias, true)];
          for (let t = 0; t < 3; t++)
            for (let i = 0; i < M * N; i++)
              if (!Object.is(got[t]![i], want[t]![i])) assert.fail(`M=${M} K=${K} N=${N} tw=${tw} case ${t}: element ${i} is ${got[t]![i]}, composed ${want[t]![i]}`);
        }
    const x64 = view2(Float64Array.from(randomF32(12)), 3, 4);
    const w64 = view2(Float64Array.from(randomF32(8)), 2, 4);
    assert.deepEqual(linear(x64, w64, null, true), jsBackend.unary("relu", { data: jsBackend.matmul({ ...x64, shape: [1, 3, 4], strides: [0, 4, 1] }, { ...w64, shape: [1, 4, 2], strides: [0, 1, 4] }), dtype: "float64", shape: [3, 2], strides: [2, 1], offset: 0 }));
  });

  test("empty dims: K = 0 gives zeros, M = 0 or N = 0 gives an empty result", () => {
    assert.deepEqual([...wasmBackend.matmul(view(1, 3, 0), view(1, 0, 2))], [0, 0, 0, 0, 0, 0]);
    assert.equal(wasmBackend.matmul(view(1, 0, 4), view(1, 4, 2)).length, 0);
    assert.equal(wasmBackend.matmul(view(2, 3, 4), view(2, 4, 0)).length, 0);
  });

  test("float64 and int32 run the js kernel: bit-identical", () => {
    const a64 = { ...view(2, 7, 9), dtype: "float64" as const };
    a64.data = Float64Array.from(a64.data);
    const b64 = { ...view(2, 9, 5), dtype: "float64" as const };
    b64.data = Float64Array.from(b64.data);
    assert.deepEqual(wasmBackend.matmul(a64, b64), jsBackend.matmul(a64, b64));
    const ai: StridedView = {
      data: Int32Array.from({ length: 12 }, (_, i) => i - 5),
      dtype: "int32",
      shape: [1, 3, 4],
      strides: [12, 4, 1],
      offset: 0,
    };
    const bi: StridedView = {
      data: Int32Array.from({ length: 8 }, (_, i) => 3 - i),
      dtype: "int32",
      shape: [1, 4, 2],
      strides: [8, 2, 1],
      offset: 0,
    };
    assert.deepEqual(wasmBackend.matmul(ai, bi), jsBackend.matmul(ai, bi));
  });

  test("split over threads (rows, columns, batches, dynamic task queue): bit-identical to one thread", () => {
    const cases: [StridedView, StridedView, string][] = [
      [view(1, 301, 150), view(1, 150, 120), "row split"],
      [view(1, 60, 150, { transposed: true }), view(1, 150, 333), "column split"],
      [view(6, 70, 64), view(6, 64, 50, { broadcast: true }), "batch split"],
      [view(1, 520, 300), view(1, 300, 450, { transposed: true }), "two tasks per thread, taken dynamically"],
    ];
    const before = getThreads();
    try {
      for (const [a, b, what] of cases) {
        setThreads(1);
        const one = wasmBackend.matmul(a, b);
        setThreads(3);
        const three = wasmBackend.matmul(a, b);
        setThreads(2);
        const two = assertGemmClose(a, b, what);
        assert.deepEqual(two, one, `${what}: 2 threads vs 1`);
        assert.deepEqual(three, one, `${what}: 3 threads vs 1`);
      }
    } finally {
      setThreads(before);
    }
  });

  test("tensor level: matmul with broadcast batch dims, 1-D operands and transposes, forward and backward", () => {
    const run = (backend: string) => {
      const before = tg.backend.current();
      tg.backend.use(backend);
      try {
        tg.manualSeed(3);
        const a = tg.randn([2, 1, 33, 7], { requiresGrad: true });
        const b = tg.randn([3, 7, 17], { requiresGrad: true });
        const v = tg.randn([17], { requiresGrad: true });
        const y = tg
          .matmul(a, b)
          .matmul(v)
          .sum()
          .add(tg.matmul(b.transpose(1, 2), a.squeeze(1).narrow(0, 0, 1).transpose(1, 2)).sum());
        y.backward();
        return [y, a.grad!, b.grad!, v.grad!].map((t) => Array.from(t.dataSync() as Float32Array));
      } finally {
        tg.backend.use(before);
      }
    };
    const w = run("wasm");
    const j = run("js");
    for (const [i, xs] of w.entries()) {
      for (const [k, x] of xs.entries())
        assert.ok(Math.abs(x - j[i]![k]!) <= 1e-4 * (1 + Math.abs(j[i]![k]!)), `output ${i}[${k}]: ${x} vs ${j[i]![k]}`);
    }
  });
});

test("the plain-SIMD build (no relaxed FMA) gives the same products", () => {
  const script = `
    import * as tg from "./src/index.ts";
    import { getRuntime } from "./src/backend/wasm/runtime.ts";
    tg.manualSeed(1);
    const a = tg.randn([67, 300]), b = tg.randn([300, 45]).t().contiguous().t();
    tg.backend.use("wasm");
    const w = a.matmul(b);
    tg.backend.use("js");
    const j = a.matmul(b);
    console.log(JSON.stringify({ simd: getRuntime().simd, err: w.sub(j).abs().max().item() }));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: childEnv({ TG_WASM_VARIANT: "simd" }),
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    simd: string;
    err: number;
  };
  assert.equal(out.simd, "simd");
  assert.ok(out.err < 1e-4, `max |wasm − js| = ${out.err}`);
});

/** float32 storage with special values mixed in: ±0, ±Infinity, NaN, subnormals, exact ties for comparisons. */
function specialF32(n: number): Float32Array {
  const specials = [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 1e-40, -1e-40, 1, -1, 2];
  const a = randomF32(n);
  for (let i = 0; i < n; i += 7) a[i] = specials[(i / 7) % specials.length]!;
  return a;
}

/** A random strided view of `shape` over fresh storage: contiguous, transposed, offset, or with broadcast (stride 0) dims. */
function randomView(shape: readonly number[], dtype: "float32" | "bool" | "int32", kind: number): StridedView {
  const nd = shape.length;
  const order = [...shape.keys()];
  if (kind % 3 === 1) order.reverse(); // a transposed layout
  const strides = new Array<number>(nd).fill(0);
  let size = 1;
  for (let k = nd - 1; k >= 0; k--) {
    const d = order[k]!;
    // kind 2: broadcast every other dim
    if (kind % 3 === 2 && d % 2 === 1) continue;
    strides[d] = size;
    size *= shape[d]!;
  }
  const offset = kind % 2 === 1 ? 3 : 0;
  const n = offset + size + 2;
  const data =
    dtype === "float32"
      ? specialF32(n)
      : dtype === "bool"
        ? Uint8Array.from({ length: n }, () => (gen.uniform() < 0.5 ? 1 : 0))
        : Int32Array.from({ length: n }, () => gen.integer(-1000, 1000));
  return { data, dtype, shape, strides, offset };
}

describe("elementwise against the js reference (bit-identical)", () => {
  const shapes = [[1], [7], [1025], [33, 257], [2, 1, 33, 17], [257, 5], [3, 4, 5, 6, 7], [2, 3, 2, 3, 2, 3]];
  const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
    assert.equal(got.constructor, want.constructor, `${what}: array type`);
    assert.equal(got.length, want.length, `${what}: length`);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i])))
        assert.fail(`${what}: element ${i} is ${got[i]}, js gives ${want[i]}`);
    }
  };

  test("binary ops, every broadcast / transpose / offset combination, special values included", () => {
    const ops = ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "eq", "ne", "gt", "ge", "lt", "le"] as const;
    for (const shape of shapes)
      for (let ka = 0; ka < 6; ka++)
        for (const op of ops) {
          const kb = (ka * 5 + ops.indexOf(op)) % 6;
          const a = randomView(shape, "float32", ka);
          const b = randomView(shape, "float32", kb);
          sameBits(wasmBackend.binary(op, a, b, shape), jsBackend.binary(op, a, b, shape), `${op} [${shape}] kinds ${ka}/${kb}`);
        }
  });

  test("unary ops on strided views, special values included", () => {
    const ops = ["neg", "abs", "sqrt", "relu", "sign", "exp", "log", "tanh", "sigmoid", "rsqrt", "erf"] as const;
    for (const shape of shapes)
      for (let k = 0; k < 6; k++)
        for (const op of ops) {
          const x = randomView(shape, "float32", k);
          sameBits(wasmBackend.unary(op, x), jsBackend.unary(op, x), `${op} [${shape}] kind ${k}`);
        }
  });

  test("copies: strided float32, bool and int32 to float32, and the js-only conversions", () => {
    for (const shape of shapes)
      for (let k = 0; k < 6; k++) {
        for (const src of ["float32", "bool", "int32"] as const) {
          const x = randomView(shape, src, k);
          for (const dst of ["float32", "float64", "int32", "bool"] as const)
            sameBits(wasmBackend.copy(x, dst), jsBackend.copy(x, dst), `${src}→${dst} [${shape}] kind ${k}`);
        }
      }
  });

  test("reductions over every subset of axes, on strided views with special values", () => {
    const redShapes = [[1030], [33, 257], [2, 17, 40], [5, 3, 7, 11], [4, 1, 300]];
    for (const shape of redShapes) {
      const nd = shape.length;
      for (let mask = 1; mask < 1 << nd; mask++) {
        const axes = [...shape.keys()].filter((d) => (mask >> d) & 1);
        for (let k = 0; k < 3; k++) {
          const x = randomView(shape, "float32", k === 2 ? 4 : k);
          for (const op of ["sum", "max", "min", "argmax", "argmin"] as const) {
            if ((op === "argmax" || op === "argmin") && axes.length !== 1) continue;
            sameBits(wasmBackend.reduce(op, x, axes), jsBackend.reduce(op, x, axes), `${op} [${shape}] axes ${axes} kind ${k}`);
          }
        }
      }
    }
    // all-NaN / all-−0 / first-extreme ties
    const tricky: StridedView = { data: new Float32Array(2048), dtype: "float32", shape: [2, 1024], strides: [1024, 1], offset: 0 };
    (tricky.data as Float32Array).fill(-0, 0, 1024).fill(Number.NaN, 1024);
    for (const op of ["sum", "max", "min", "argmax", "argmin"] as const)
      for (const axes of [[0], [1]])
        sameBits(wasmBackend.reduce(op, tricky, axes), jsBackend.reduce(op, tricky, axes), `${op} tricky axes ${axes}`);
  });

  test("im2col, col2im, maxPool2d and its backward: random geometries, strided inputs, NaN and ties", () => {
    for (let trial = 0; trial < 40; trial++) {
      const N = gen.integer(1, 3);
      const C = gen.integer(1, 5);
      const H = gen.integer(3, 14);
      const W = gen.integer(3, 14);
      const kh = gen.integer(1, 4);
      const kw = gen.integer(1, 4);
      const stride: [number, number] = [gen.integer(1, 3), gen.integer(1, 3)];
      const dilation: [number, number] = trial % 3 === 0 ? [gen.integer(1, 3), gen.integer(1, 3)] : [1, 1];
      const padding: [number, number] = [gen.integer(0, Math.floor(kh / 2) + 1), gen.integer(0, Math.floor(kw / 2) + 1)];
      const out = (size: number, k: number, s: number, p: number, d: number) => Math.floor((size + 2 * p - d * (k - 1) - 1) / s) + 1;
      const outSize: [number, number] = [out(H, kh, stride[0], padding[0], dilation[0]), out(W, kw, stride[1], padding[1], dilation[1])];
      if (outSize[0] < 1 || outSize[1] < 1) continue;
      const win = { kernel: [kh, kw] as [number, number], stride, padding, dilation, outSize };
      // big enough for the wasm path: repeat the batch
      const reps = Math.ceil(1100 / (N * C * H * W));
      const NN = N * reps;
      // x as a channels-last tensor seen through an NCHW view (strides permuted), values with ties and NaN
      const data = specialF32(NN * C * H * W).map((v) => (trial % 2 === 0 ? Math.round(v * 2) / 2 : v));
      const x: StridedView = { data, dtype: "float32", shape: [NN, C, H, W], strides: [H * W * C, 1, W * C, C], offset: 0 };
      sameBits(wasmBackend.im2col(x, win), jsBackend.im2col(x, win), `im2col trial ${trial}`);
      const L = outSize[0] * outSize[1];
      const cols: StridedView = {
        data: randomF32(NN * C * kh * kw * L),
        dtype: "float32",
        shape: [NN, C * kh * kw, L],
        strides: [C * kh * kw * L, L, 1],
        offset: 0,
      };
      sameBits(wasmBackend.col2im(cols, win, [H, W]), jsBackend.col2im(cols, win, [H, W]), `col2im trial ${trial}`);
      if (dilation[0] === 1 && dilation[1] === 1) {
        const got = wasmBackend.maxPool2d(x, win);
        const want = jsBackend.maxPool2d(x, win);
        sameBits(got.values, want.values, `maxPool2d values trial ${trial}`);
        sameBits(got.indices, want.indices, `maxPool2d indices trial ${trial}`);
        const g: StridedView = {
          data: randomF32(NN * C * L),
          dtype: "float32",
          shape: [NN, C, ...outSize],
          strides: [C * L, L, outSize[1], 1],
          offset: 0,
        };
        const idx: StridedView = {
          data: want.indices,
          dtype: "int32",
          shape: [NN, C, ...outSize],
          strides: [C * L, L, outSize[1], 1],
          offset: 0,
        };
        sameBits(
          wasmBackend.maxPool2dBackward(g, idx, [H, W]),
          jsBackend.maxPool2dBackward(g, idx, [H, W]),
          `maxPool2dBackward trial ${trial}`,
        );
      }
    }
  });

  test("maxPool2d 2×2 stride 2 (the SIMD path): odd sizes, padded rows, NaN and ties, and its backward", () => {
    for (const [N, C, H, W, rowPad] of [
      [3, 5, 9, 11, 0],
      [2, 3, 28, 28, 3],
      [1, 7, 14, 14, 0],
      [5, 2, 7, 19, 1],
      [2, 4, 12, 17, 2],
    ] as const) {
      const outSize: [number, number] = [Math.floor(H / 2), Math.floor(W / 2)];
      const win = { kernel: [2, 2] as [number, number], stride: [2, 2] as [number, number], padding: [0, 0] as [number, number], dilation: [1, 1] as [number, number], outSize };
      for (const ties of [false, true]) {
        const rs = W + rowPad; // rows further apart than W: a strided (sliced) view
        const data = specialF32(N * C * H * rs + 5).map((v) => (ties ? Math.round(v * 2) / 2 : v));
        const x: StridedView = { data, dtype: "float32", shape: [N, C, H, W], strides: [C * H * rs, H * rs, rs, 1], offset: 2 };
        const what = `maxPool2d 2×2 [${N},${C},${H},${W}] rowPad ${rowPad} ties ${ties}`;
        const got = wasmBackend.maxPool2d(x, win);
        const want = jsBackend.maxPool2d(x, win);
        sameBits(got.values, want.values, `${what} values`);
        sameBits(got.indices, want.indices, `${what} indices`);
        const L = outSize[0] * outSize[1];
        const g: StridedView = { data: randomF32(N * C * L), dtype: "float32", shape: [N, C, ...outSize], strides: [C * L, L, outSize[1], 1], offset: 0 };
        const idx: StridedView = { data: want.indices, dtype: "int32", shape: [N, C, ...outSize], strides: [C * L, L, outSize[1], 1], offset: 0 };
        sameBits(wasmBackend.maxPool2dBackward(g, idx, [H, W]), jsBackend.maxPool2dBackward(g, idx, [H, W]), `${what} backward`);
      }
    }
  });

  test("reluBackward: one pass, bit-identical to the js reference (−0, NaN, infinities) on strided views", () => {
    for (const shape of shapes)
      for (let k = 0; k < 6; k++) {
        const g = randomView(shape, "float32", k);
        const y = randomView(shape, "float32", k + 1);
        sameBits(hooks(wasmBackend).reluBackward!(g, y), jsReluBackward(g, y), `reluBackward [${shape}] kinds ${k}, ${k + 1}`);
      }
  });

  test("where, every broadcast / transpose / offset combination of its three operands", () => {
    for (const shape of shapes)
      for (let kc = 0; kc < 6; kc++) {
        const cond = randomView(shape, "bool", kc);
        const a = randomView(shape, "float32", (kc + 1) % 6);
        const b = randomView(shape, "float32", (kc + 4) % 6);
        sameBits(wasmBackend.where(cond, a, b, shape), jsBackend.where(cond, a, b, shape), `where [${shape}] kinds ${kc}`);
      }
  });
});

describe("elementwise and window kernels split over the worker pool", () => {
  const sameBits = (got: ArrayLike<number>, want: ArrayLike<number>, what: string) => {
    assert.equal(got.constructor, want.constructor, `${what}: array type`);
    assert.equal(got.length, want.length, `${what}: length`);
    for (let i = 0; i < want.length; i++) {
      if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i])))
        assert.fail(`${what}: element ${i} is ${got[i]}, js gives ${want[i]}`);
    }
  };
  /** `f` at 1, 2 and 3 threads: each result bit-identical to `want`. */
  const everyThreadCount = (f: () => ArrayLike<number>, want: ArrayLike<number>, what: string) => {
    const before = getThreads();
    try {
      for (const t of [1, 2, 3]) {
        setThreads(t);
        sameBits(f(), want, `${what} at ${t} threads`);
      }
    } finally {
      setThreads(before);
    }
  };
  // large enough to be cut into tasks (≥ 2 · PARALLEL_MIN_ELEMENTS = 2¹⁹), along each kind of dim
  const shapes = [[540001], [3, 257, 701], [2, 1, 1100, 257], [5, 2, 3, 18001]];

  test("unary, binary (comparisons too), where, copies and reluBackward: bit-identical to js at any thread count", () => {
    for (const shape of shapes)
      for (let k = 0; k < 6; k++) {
        const a = randomView(shape, "float32", k);
        const b = randomView(shape, "float32", (k + 2) % 6);
        const c = randomView(shape, "bool", (k + 1) % 6);
        const what = `[${shape}] kind ${k}`;
        for (const op of ["add", "gt"] as const)
          everyThreadCount(() => wasmBackend.binary(op, a, b, shape), jsBackend.binary(op, a, b, shape), `${op} ${what}`);
        everyThreadCount(() => wasmBackend.unary("relu", a), jsBackend.unary("relu", a), `relu ${what}`);
        everyThreadCount(() => wasmBackend.where(c, a, b, shape), jsBackend.where(c, a, b, shape), `where ${what}`);
        everyThreadCount(() => wasmBackend.copy(c, "float32"), jsBackend.copy(c, "float32"), `bool copy ${what}`);
        everyThreadCount(() => hooks(wasmBackend).reluBackward!(a, b), jsReluBackward(a, b), `reluBackward ${what}`);
      }
  });

  test("im2col, col2im, maxPool2d and its backward, split over images or channels: bit-identical to js at any thread count", () => {
    // outputs of ≥ 2¹⁹ elements (col2im's and the pooling backward's: the image; pooling's: the windows)
    for (const [N, C, H, W, k] of [
      [4, 3, 300, 301, 3],
      [1, 12, 220, 221, 3],
      [4, 8, 256, 256, 2],
      [1, 40, 240, 241, 2],
    ] as const) {
      const outSize: [number, number] = k === 2 ? [H >> 1, W >> 1] : [H, W];
      const win = {
        kernel: [k, k] as [number, number],
        stride: (k === 2 ? [2, 2] : [1, 1]) as [number, number],
        padding: (k === 2 ? [0, 0] : [1, 1]) as [number, number],
        dilation: [1, 1] as [number, number],
        outSize,
      };
      const what = `[${N},${C},${H},${W}] k ${k}`;
      const x: StridedView = { data: specialF32(N * C * H * W + 1), dtype: "float32", shape: [N, C, H, W], strides: [C * H * W, H * W, W, 1], offset: 1 };
      everyThreadCount(() => wasmBackend.im2col(x, win), jsBackend.im2col(x, win), `im2col ${what}`);
      const L = outSize[0] * outSize[1];
      const cols: StridedView = { data: randomF32(N * C * k * k * L), dtype: "float32", shape: [N, C * k * k, L], strides: [C * k * k * L, L, 1], offset: 0 };
      everyThreadCount(() => wasmBackend.col2im(cols, win, [H, W]), jsBackend.col2im(cols, win, [H, W]), `col2im ${what}`);
      const want = jsBackend.maxPool2d(x, win);
      everyThreadCount(() => wasmBackend.maxPool2d(x, win).values, want.values, `maxPool2d values ${what}`);
      everyThreadCount(() => wasmBackend.maxPool2d(x, win).indices, want.indices, `maxPool2d indices ${what}`);
      const g: StridedView = { data: randomF32(N * C * L), dtype: "float32", shape: [N, C, ...outSize], strides: [C * L, L, outSize[1], 1], offset: 0 };
      const idx: StridedView = { data: want.indices, dtype: "int32", shape: [N, C, ...outSize], strides: [C * L, L, outSize[1], 1], offset: 0 };
      everyThreadCount(() => wasmBackend.maxPool2dBackward(g, idx, [H, W]), jsBackend.maxPool2dBackward(g, idx, [H, W]), `maxPool2dBackward ${what}`);
    }
  });

  test("Adam (AMSGrad) on a large parameter: bit-identical to js at any thread count", () => {
    const run = (backend: string): Float32Array => {
      const before = tg.backend.current();
      tg.backend.use(backend);
      try {
        const p = new tg.nn.Parameter(tg.randn([530001], { generator: new tg.Generator(11) }));
        const opt = new tg.optim.Adam([p], { lr: 0.01, amsgrad: true, weightDecay: 0.1 });
        for (let step = 0; step < 3; step++) {
          opt.zeroGrad();
          p.mul(p).mul(p.sin()).sum().backward();
          opt.step();
        }
        return Float32Array.from(p.dataSync() as Float32Array);
      } finally {
        tg.backend.use(before);
      }
    };
    everyThreadCount(() => run("wasm"), run("js"), "Adam [530001]");
  });
});

test("a small MLP trains to the same losses on wasm as on js", () => {
  const train = (backend: string): number[] => {
    const before = tg.backend.current();
    tg.backend.use(backend);
    try {
      tg.manualSeed(42);
      const x = tg.randn([64, 20]);
      const target = x.narrow(1, 0, 5).sum(1).gt(0).to("int32");
      const model = new tg.nn.Sequential(
        new tg.nn.Linear(20, 33),
        new tg.nn.ReLU(),
        new tg.nn.Linear(33, 17),
        new tg.nn.Tanh(),
        new tg.nn.Linear(17, 2),
      );
      const opt = new tg.optim.Adam(model.parameters(), { lr: 0.01 });
      const losses: number[] = [];
      for (let step = 0; step < 30; step++) {
        const loss = tg.F.crossEntropy(model.call(x) as tg.Tensor, target);
        opt.zeroGrad();
        loss.backward();
        opt.step();
        losses.push(loss.item());
      }
      return losses;
    } finally {
      tg.backend.use(before);
    }
  };
  const onWasm = train("wasm");
  const onJs = train("js");
  assert.ok(onJs[29]! < 0.5 * onJs[0]!, `the model should learn (js losses ${onJs[0]} → ${onJs[29]})`);
  for (const [i, l] of onWasm.entries())
    assert.ok(Math.abs(l - onJs[i]!) <= 1e-4 * Math.max(1, onJs[i]!), `step ${i}: wasm loss ${l}, js loss ${onJs[i]}`);
});

test("Adam, AdamW, AMSGrad and maximize step bit-identically on wasm (adamStep) and js, resident parameters or not", () => {
  const run = (backend: string, make: string, opts: Partial<tg.optim.AdamOptions>, W: boolean): Float32Array[] => {
    const before = tg.backend.current();
    tg.backend.use(make);
    const gen2 = new tg.Generator(7);
    // 1031 and 2053 elements: the SIMD pairs and a scalar tail; one tiny parameter stays in js
    const params = [[1031], [3], [2053]].map((shape) => new tg.nn.Parameter(tg.randn(shape, { generator: gen2 })));
    tg.backend.use(backend);
    try {
      const opt = W ? new tg.optim.AdamW(params, opts) : new tg.optim.Adam(params, opts);
      for (let step = 0; step < 5; step++) {
        opt.zeroGrad();
        let loss = tg.tensor(0);
        for (const p of params) loss = loss.add(p.mul(p).mul(p.sin()).sum());
        loss.backward();
        // special values in one gradient: zeros, a −0, a huge one
        if (step === 2) (params[0]!.grad!.dataSync() as Float32Array).set([0, -0, 1e30, -1e-40], 10);
        opt.step();
      }
      return params.map((p) => Float32Array.from(p.dataSync() as Float32Array));
    } finally {
      tg.backend.use(before);
    }
  };
  const cases: [Partial<tg.optim.AdamOptions>, boolean][] = [
    [{ lr: 0.01 }, false],
    [{ lr: 0.01, weightDecay: 0.1 }, false],
    [{ lr: 0.01, amsgrad: true, maximize: true }, false],
    [{ lr: 0.02, weightDecay: 0.05 }, true],
  ];
  for (const [opts, W] of cases)
    for (const make of ["wasm", "js"]) {
      const got = run("wasm", make, opts, W);
      const want = run("js", "js", opts, W);
      for (const [i, w] of want.entries())
        for (let j = 0; j < w.length; j++)
          if (!Object.is(got[i]![j], w[j]) && !(Number.isNaN(got[i]![j]) && Number.isNaN(w[j])))
            assert.fail(`${W ? "AdamW" : "Adam"} ${JSON.stringify(opts)} (made on ${make}): parameter ${i} element ${j} is ${got[i]![j]}, js gives ${w[j]}`);
    }
});

test("wasm memory stays flat over a training run (the scratch arena is reused by every call)", () => {
  const before = tg.backend.current();
  tg.backend.use("wasm");
  try {
    tg.manualSeed(7);
    const x = tg.randn([96, 40]);
    const target = tg.randint(0, 3, [96]);
    const model = new tg.nn.Sequential(new tg.nn.Linear(40, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 3));
    const opt = new tg.optim.SGD(model.parameters(), { lr: 0.05 });
    const step = () => {
      const loss = tg.F.crossEntropy(model.call(x) as tg.Tensor, target);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    };
    for (let i = 0; i < 5; i++) step();
    const warm = getRuntime().memory.buffer.byteLength;
    for (let i = 0; i < 100; i++) step();
    assert.equal(getRuntime().memory.buffer.byteLength, warm);
  } finally {
    tg.backend.use(before);
  }
});

describe("parameters resident in wasm memory (shared memory only)", () => {
  const shared = getRuntime().shared;
  const onWasm = <T>(f: () => T): T => {
    const before = tg.backend.current();
    tg.backend.use("wasm");
    try {
      return f();
    } finally {
      tg.backend.use(before);
    }
  };

  test("float32 parameters created on wasm live in wasm memory and kernels read them in place", { skip: !shared }, () => {
    const lin = onWasm(() => new tg.nn.Linear(7, 5));
    const ar = getArena();
    for (const p of lin.parameters()) assert.ok(ar.isResident(p.data), "resident");
    const w = lin.weight;
    assert.equal(stage(ar, w.data, w.shape, w.strides, w.offset).ptr, w.data.byteOffset, "staged in place, not copied");
    // other dtypes, and parameters made on js, keep ordinary arrays
    assert.ok(!ar.isResident(onWasm(() => new tg.nn.Parameter(tg.zeros([3], { dtype: "float64" }))).data));
    const b = tg.backend.current();
    tg.backend.use("js");
    try {
      assert.ok(!ar.isResident(new tg.nn.Linear(3, 2).weight.data));
    } finally {
      tg.backend.use(b);
    }
  });

  test("a resident parameter behaves like any other: init, optimizer steps, loadStateDict, safetensors, js afterwards, copies", { skip: !shared }, () => {
    tg.manualSeed(5);
    const x = tg.randn([6, 7]);
    const target = tg.randint(0, 5, [6]);
    const make = () => {
      tg.manualSeed(11);
      return new tg.nn.Sequential(new tg.nn.Linear(7, 9), new tg.nn.ReLU(), new tg.nn.Linear(9, 5));
    };
    const onJs = make();
    const model = onWasm(make);
    assert.ok(getArena().isResident((model.parameters()[0] as tg.Tensor).data));
    const before = onJs.parameters().map((p) => Array.from(p.dataSync()));
    assert.deepEqual(
      model.parameters().map((p) => Array.from(p.dataSync())),
      before,
      "the same initial values as on js",
    );
    const train = (m: tg.nn.Module) => {
      const opt = new tg.optim.Adam(m.parameters(), { lr: 0.01 });
      for (let i = 0; i < 3; i++) {
        const loss = tg.F.crossEntropy(m.call(x) as tg.Tensor, target);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
    };
    onWasm(() => train(model));
    train(onJs);
    for (const [i, p] of model.parameters().entries()) {
      const want = onJs.parameters()[i]!.dataSync();
      const got = p.dataSync();
      assert.notDeepEqual(Array.from(got), before[i], "the optimizer wrote in place");
      for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-5, `param ${i}[${k}]: ${got[k]} vs ${want[k]}`);
    }
    // loadStateDict copies into the resident storage; serialize / deserialize round-trips it
    const other = onWasm(make);
    const data = (other.parameters()[0] as tg.Tensor).data;
    other.loadStateDict(tg.io.deserialize(tg.io.serialize(model.stateDict())).tensors);
    assert.equal((other.parameters()[0] as tg.Tensor).data, data, "loaded in place");
    for (const [i, p] of other.parameters().entries()) assert.deepEqual(p.dataSync(), model.parameters()[i]!.dataSync());
    // the same model on js gives the same forward (matmul to float tolerance)
    const yWasm = onWasm(() => tg.noGrad(() => (model.call(x) as tg.Tensor).dataSync()));
    const yJs = tg.noGrad(() => {
      const b = tg.backend.current();
      tg.backend.use("js");
      try {
        return (model.call(x) as tg.Tensor).dataSync();
      } finally {
        tg.backend.use(b);
      }
    });
    for (let k = 0; k < yJs.length; k++) assert.ok(Math.abs(yWasm[k]! - yJs[k]!) <= 1e-5);
    // slice() of the data is an independent ordinary copy
    const w = model.parameters()[0]!.data as Float32Array;
    const copy = w.slice();
    assert.ok(copy.buffer instanceof ArrayBuffer && !getArena().isResident(copy));
    copy[0] = 123;
    assert.notEqual(w[0], 123);
    // a Parameter wrapping resident storage shares it (no second copy)
    const again = new tg.nn.Parameter(model.parameters()[0]!.detach());
    assert.equal(again.data, w);
  });

  test("the resident heap: first fit, coalescing, the last block returned to the arena, the cap", { skip: !shared }, () => {
    const mem = new WebAssembly.Memory({ initial: 2, maximum: 1000, shared: true });
    const ar = new Arena(mem);
    const top = () => {
      ar.reset();
      return ar.alloc(4);
    };
    assert.equal(top(), ARENA_BASE);
    const a = ar.allocResident(100)!; // 400 → 448 bytes
    const b = ar.allocResident(100)!;
    const c = ar.allocResident(100)!;
    assert.deepEqual([a.byteOffset, b.byteOffset, c.byteOffset], [ARENA_BASE, ARENA_BASE + 448, ARENA_BASE + 896]);
    assert.equal(top(), ARENA_BASE + 1344, "the arena starts after the resident blocks");
    a.fill(1);
    b.fill(2);
    c.fill(3);
    ar.releaseResident(b);
    const small = ar.allocResident(40)!; // 192 bytes: first fit in b's hole
    assert.equal(small.byteOffset, ARENA_BASE + 448);
    assert.deepEqual(Array.from(small.subarray(0, 3)), [0, 0, 0], "zeroed");
    const big = ar.allocResident(100)!; // does not fit the rest of the hole: after c
    assert.equal(big.byteOffset, ARENA_BASE + 1344);
    ar.releaseResident(big);
    assert.equal(top(), ARENA_BASE + 1344, "the last block goes back to the arena");
    ar.releaseResident(a);
    ar.releaseResident(small);
    ar.releaseResident(c); // coalesces with the holes before it, all back to the arena
    assert.equal(top(), ARENA_BASE);
    assert.equal(ar.residentBytes, 0);
    // growing the memory never detaches a resident array (a new buffer object each time: still recognised)
    const d = ar.allocResident(10)!;
    d[3] = 7;
    ar.reset();
    ar.alloc(5 * 65536);
    assert.notEqual(mem.buffer, d.buffer);
    assert.equal(d[3], 7);
    assert.ok(ar.isResident(d) && ar.isResident(new Float32Array(mem.buffer, d.byteOffset, 1)));
    assert.equal(ar.allocResident(RESIDENT_CAP_BYTES / 4 + 1), null, "beyond the cap: an ordinary array");
  });

  test("a resident block is freed when its array is garbage-collected", { skip: !shared }, async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const ar = getArena();
    const before = ar.residentBytes;
    (() => {
      for (let i = 0; i < 20; i++) onWasm(() => new tg.nn.Linear(64, 64));
    })();
    assert.ok(ar.residentBytes > before);
    for (let i = 0; i < 10 && ar.residentBytes > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(ar.residentBytes <= before, `${ar.residentBytes} resident bytes, ${before} before`);
  });
});

/** The backend a plain run uses: native or wasm when available, else js. */
const DEFAULT_BACKEND = tg.backend.current();
const FORCED = (process.env.TG_BACKEND ?? "") !== "";

test(
  "wasm is the default backend when it is available (native, the optional addon, goes first where it is built)",
  { skip: FORCED },
  () => {
    assert.equal(DEFAULT_BACKEND, tg.backend.list().includes("native") ? "native" : "wasm");
  },
);

// The suite runs on the default backend; the golden suites also run here on js and wasm when they
// are not the default, so the reference and the wasm backend meet PyTorch's values in every `npm test`.
for (const other of ["wasm", "js"]) {
  test(`the PyTorch golden suites pass with TG_BACKEND=${other}`, { skip: FORCED || other === DEFAULT_BACKEND }, () => {
    const files = ["tests/golden.test.ts", "tests/conv.test.ts", "tests/nn.test.ts", "tests/optim.test.ts"];
    const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", ...files], {
      encoding: "utf8",
      env: childEnv({ TG_BACKEND: other }),
    });
    const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(r.stdout)?.[1] ?? Number.NaN);
    assert.equal(r.status, 0, `golden suites failed on ${other}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
    assert.ok(count("pass") > 500, `expected the golden suites to run (${count("pass")} passed)`);
    assert.equal(count("fail"), 0);
  });
}
