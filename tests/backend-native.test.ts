/**
 * @file The optional native backend against the js reference: randomized float32 gemm on odd
 * shapes (1, 7, 33, 257, across every cache-block edge), transposed, offset, broadcast,
 * negative-stride and batched views, with every micro-kernel the CPU runs (AVX-512, AVX2/FMA,
 * portable); thread splits bit-identical to one thread; the native elementwise, reduction,
 * im2col/col2im and max-pool kernels bit-identical to js on random strided views with NaN/±0/±∞;
 * bounds checks; the delegated primitives; a small MLP trained on both gives the same losses.
 * Skipped (with the reason) when the addon is not built; the install-safety checks run either way.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import type { Backend, StridedView } from "../src/backend/backend.ts";
import { jsBackend } from "../src/backend/js/index.ts";
import { linear as jsLinear } from "../src/backend/js/linear.ts";
import { reluBackward as jsReluBackward } from "../src/backend/js/relu-backward.ts";
import { poisonNativeOutputs } from "../src/backend/native/alloc.ts";
import { getThreads, nativeAddon, nativeBackend, nativeUnavailableReason, setThreads } from "../src/backend/native/index.ts";
import * as tg from "../src/index.ts";
import { assertGemmClose as assertGemmCloseOn, childEnv, gemmView, randomF32 as randomF32From, type ViewOptions } from "./gemm-helpers.ts";
import { hooks } from "./fused-access.ts";

const addon = nativeAddon();
const skip = addon === null ? nativeUnavailableReason() : false;
const gen = new tg.Generator(20261124);
// kernel outputs are uninitialised memory: NaN-fill them here so an element a kernel skips fails a comparison
poisonNativeOutputs(true);

function contiguous(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, n = 1; d >= 0; n *= shape[d]!, d--) strides[d] = n;
  return strides;
}

const randomF32 = (n: number) => randomF32From(gen, n);
const view = (B: number, R: number, C: number, opts?: ViewOptions) => gemmView(gen, B, R, C, opts);
const assertGemmClose = (a: StridedView, b: StridedView, what: string) => assertGemmCloseOn(nativeBackend, a, b, what);

/** Runs `body` with the named micro-kernel selected. */
function withKernel(kernel: string, body: () => void): void {
  const before = addon!.kernelName();
  assert.ok(addon!.setKernel(kernel), `select ${kernel}`);
  try {
    body();
  } finally {
    addon!.setKernel(before);
  }
}

describe("native backend", { skip }, () => {
  test("is registered, reports its kernel and threads", () => {
    assert.ok(tg.backend.list().includes("native"));
    const entry = tg.backend.info().find((b) => b.name === "native")!;
    assert.deepEqual([entry.available, entry.reason], [true, null]);
    assert.ok(["avx512", "avx2+fma", "generic"].includes(addon!.kernelName()));
    assert.ok(getThreads() >= 1);
    assert.equal(addon!.hardwareThreads() >= 1, true);
  });

  test("kernel selection: every listed kernel can be selected, unknown ones cannot", () => {
    const kernels = addon!.kernels();
    assert.ok(kernels.includes("generic"));
    assert.equal(kernels[0], addon!.kernelName(), "the fastest kernel is the default");
    assert.equal(addon!.setKernel("no-such-kernel"), false);
    assert.equal(addon!.kernelName(), kernels[0]);
  });

  // every micro-kernel this CPU runs (avx512, avx2+fma, generic), each against js
  for (const kernel of addon?.kernels() ?? []) {
    describe(`gemm against the js reference, ${kernel} micro-kernel`, () => {
      const sizes = [1, 7, 33, 257];
      test("every combination of M, N, K in {1, 7, 33, 257}, row-major and transposed operands", () => {
        withKernel(kernel, () => {
          for (const M of sizes)
            for (const N of sizes)
              for (const K of sizes) {
                const ta = (M + N + K) % 2 === 1;
                const tb = (M * 3 + K) % 3 === 0;
                assertGemmClose(view(1, M, K, { transposed: ta }), view(1, K, N, { transposed: tb }), `M=${M} N=${N} K=${K} ta=${ta} tb=${tb}`);
              }
        });
      });

      test("random odd shapes (1…300) with random layouts", () => {
        withKernel(kernel, () => {
          for (let t = 0; t < 40; t++) {
            const dim = () => (gen.uniform() < 0.2 ? 1 + Math.floor(gen.uniform() * 3) : 1 + Math.floor(gen.uniform() * 300));
            const [M, N, K, B] = [dim(), dim(), dim(), 1 + Math.floor(gen.uniform() * 3)];
            const layout = (): ViewOptions => ({
              transposed: gen.uniform() < 0.5,
              offset: Math.floor(gen.uniform() * 9),
              pad: gen.uniform() < 0.3 ? 1 + Math.floor(gen.uniform() * 5) : 0,
              negative: gen.uniform() < 0.2,
              broadcast: gen.uniform() < 0.2,
            });
            const la = layout();
            const lb = layout();
            assertGemmClose(view(B, M, K, la), view(B, K, N, lb), `B=${B} M=${M} N=${N} K=${K} a=${JSON.stringify(la)} b=${JSON.stringify(lb)}`);
          }
        });
      });

      test("cache-block edges: K across 256, M across 240, N across 3072", () => {
        withKernel(kernel, () => {
          assertGemmClose(view(1, 241, 513), view(1, 513, 17), "K=513 (three K blocks), M=241 (two M blocks)");
          assertGemmClose(view(1, 5, 3), view(1, 3, 3075), "N=3075 (two N blocks)");
          assertGemmClose(view(1, 290, 300, { transposed: true }), view(1, 300, 70, { transposed: true }), "both transposed, M=290 K=300");
        });
      });

      test("a row's result does not depend on how many rows the call has (batch-size invariance, bit for bit)", () => {
        withKernel(kernel, () => {
          for (const [K, N, tb] of [[300, 45, true], [300, 45, false], [20, 70, true], [600, 9, false]] as const) {
            const M = 13;
            const a = view(1, M, K);
            const b = view(1, K, N, { transposed: tb });
            const full = nativeBackend.matmul(a, b);
            for (const rows of [1, 2, 3, 4, 5, 7]) {
              for (let r0 = 0; r0 < M; r0 += rows) {
                const r = Math.min(rows, M - r0);
                const part = nativeBackend.matmul({ ...a, shape: [1, r, K], offset: a.offset + r0 * a.strides[1]! }, b);
                for (let i = 0; i < r * N; i++)
                  if (!Object.is(part[i], full[r0 * N + i])) assert.fail(`K=${K} N=${N} tb=${tb}: rows ${r0}..${r0 + r} in calls of ${rows}: element ${i} is ${part[i]}, ${full[r0 * N + i]} in one call`);
              }
            }
          }
        });
      });

      test("few rows (1–4, batch-1 inference): the transposed-weight path and short tiles, every tail length", () => {
        withKernel(kernel, () => {
          for (const M of [1, 2, 3, 4, 5])
            for (const K of [1, 15, 16, 17, 33, 100])
              for (const N of [1, 2, 3, 31, 65]) {
                assertGemmClose(view(1, M, K), view(1, K, N, { transposed: true }), `dot M=${M} K=${K} N=${N}`);
                assertGemmClose(view(1, M, K, { transposed: true }), view(1, K, N), `rows M=${M} K=${K} N=${N}`);
                assertGemmClose(view(1, M, K, { pad: 1 }), view(1, K, N, { negative: true }), `rows, B walked backwards, M=${M} K=${K} N=${N}`);
              }
        });
      });
    });
  }

  test("offsets, padded rows, negative strides, broadcast batch, batched", () => {
    assertGemmClose(view(1, 9, 13, { offset: 5 }), view(1, 13, 11, { offset: 7, transposed: true }), "offset views");
    assertGemmClose(view(1, 20, 30, { pad: 3 }), view(1, 30, 40, { pad: 5, transposed: true }), "padded rows (narrowed views)");
    assertGemmClose(view(1, 9, 13, { negative: true }), view(1, 13, 11, { negative: true, transposed: true }), "negative strides");
    assertGemmClose(view(5, 7, 33, { broadcast: true }), view(5, 33, 9), "A broadcast over the batch");
    assertGemmClose(view(4, 33, 7), view(4, 7, 65, { broadcast: true, transposed: true }), "B broadcast and transposed");
    assertGemmClose(view(3, 40, 50, { transposed: true }), view(3, 50, 30), "batched, A transposed");
    assertGemmClose(view(7, 1, 64), view(7, 64, 1), "batched dot products");
  });

  test("empty dims: K = 0 gives zeros, M = 0 or N = 0 gives an empty result", () => {
    assert.deepEqual([...nativeBackend.matmul(view(1, 3, 0), view(1, 0, 2))], [0, 0, 0, 0, 0, 0]);
    assert.deepEqual([...nativeBackend.matmul(view(2, 1, 0), view(2, 0, 1))], [0, 0]);
    assert.equal(nativeBackend.matmul(view(1, 0, 4), view(1, 4, 2)).length, 0);
    assert.equal(nativeBackend.matmul(view(2, 3, 4), view(2, 4, 0)).length, 0);
    assert.equal(nativeBackend.matmul(view(0, 3, 4), view(0, 4, 2)).length, 0);
  });

  test("NaN and infinity propagate as in js", () => {
    const a = view(1, 8, 20);
    const b = view(1, 20, 18);
    (a.data as Float32Array)[3] = Number.NaN;
    (b.data as Float32Array)[40] = Number.POSITIVE_INFINITY;
    const got = nativeBackend.matmul(a, b);
    const want = jsBackend.matmul(a, b);
    for (let i = 0; i < want.length; i++) {
      if (Number.isFinite(want[i]!)) assert.ok(Math.abs(got[i]! - want[i]!) <= 1e-3 * (1 + Math.abs(want[i]!)), `element ${i}`);
      else assert.ok(Object.is(got[i], want[i]) || (Number.isNaN(got[i]!) && Number.isNaN(want[i]!)), `element ${i}: ${got[i]} vs ${want[i]}`);
    }
  });

  test("float64 and int32 run the js kernel: bit-identical", () => {
    const a64 = { ...view(2, 7, 9), dtype: "float64" as const };
    a64.data = Float64Array.from(a64.data);
    const b64 = { ...view(2, 9, 5), dtype: "float64" as const };
    b64.data = Float64Array.from(b64.data);
    assert.deepEqual(nativeBackend.matmul(a64, b64), jsBackend.matmul(a64, b64));
    const ai: StridedView = { data: Int32Array.from({ length: 12 }, (_, i) => i - 5), dtype: "int32", shape: [1, 3, 4], strides: [12, 4, 1], offset: 0 };
    const bi: StridedView = { data: Int32Array.from({ length: 8 }, (_, i) => 3 - i), dtype: "int32", shape: [1, 4, 2], strides: [8, 2, 1], offset: 0 };
    assert.deepEqual(nativeBackend.matmul(ai, bi), jsBackend.matmul(ai, bi));
  });

  test("split over threads (rows, columns, batches): bit-identical to one thread", () => {
    const cases: [StridedView, StridedView, string][] = [
      [view(1, 301, 150), view(1, 150, 120), "row split"],
      [view(1, 5, 150, { transposed: true }), view(1, 150, 333), "column split (M smaller than the tile rows × threads)"],
      [view(6, 70, 64), view(6, 64, 50, { broadcast: true }), "batch split"],
      [view(3, 100, 64), view(3, 64, 90), "3 matrices on 2 threads: each split"],
      [view(1, 1, 700, { offset: 3 }), view(1, 700, 2001, { transposed: true }), "one row (dot products down B's columns)"],
      [view(1, 3, 300, { transposed: true }), view(1, 300, 1500, { pad: 2 }), "three rows, A transposed (row updates along B's rows)"],
      [view(2, 4, 400), view(2, 400, 1000, { transposed: true }), "batched few rows"],
    ];
    const before = getThreads();
    try {
      for (const [a, b, what] of cases) {
        setThreads(1);
        const one = nativeBackend.matmul(a, b);
        setThreads(3);
        const three = nativeBackend.matmul(a, b);
        setThreads(2);
        const two = assertGemmClose(a, b, what);
        assert.deepEqual(two, one, `${what}: 2 threads vs 1`);
        assert.deepEqual(three, one, `${what}: 3 threads vs 1`);
      }
    } finally {
      setThreads(before);
    }
  });

  test("tg.backend.setThreads and threads() reach the native pool", () => {
    const before = getThreads();
    try {
      tg.backend.use("native");
      tg.backend.setThreads(3);
      assert.equal(tg.backend.threads(), 3);
      assert.equal(getThreads(), 3);
      assert.throws(() => setThreads(0), /positive integer/);
    } finally {
      tg.backend.setThreads(before);
      tg.backend.use("js");
    }
  });

  test("views outside their arrays and wrong array types are refused, not read", () => {
    const p = (...v: number[]) => new Float64Array(v);
    const a = new Float32Array(6);
    const c = new Float32Array(4);
    assert.throws(() => addon!.sgemm(a, a, c, p(1, 2, 2, 3, 1, 6, 3, 1, 0, 6, 2, 1)), /outside its array/); // a ends at 7
    assert.throws(() => addon!.sgemm(a, a, c, p(1, 2, 2, 3, 0, 6, 3, 1, 0, 6, 3, 1)), /outside its array/); // b reaches b[2·3 + 1]
    assert.throws(() => addon!.sgemm(a, a, new Float32Array(3), p(1, 2, 2, 1, 0, 2, 1, 1, 0, 2, 2, 1)), /outside its array/); // c too short
    addon!.sgemm(a, a, c, p(1, 2, 2, 3, 3, 6, -3, 1, 0, 6, 2, 1)); // rows walked backwards from a[3]: in bounds
    assert.throws(() => addon!.sgemm(a, a, c, p(1, 2, 2, 1, 0, 0, -1, 1, 0, 0, 2, 1)), /outside its array/); // walks to a[-1]
    assert.throws(() => addon!.sgemm(new Float64Array(6) as unknown as Float32Array, a, c, p(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)), /wrong element type/);
    assert.throws(() => addon!.sgemm(a, a, c, new Float64Array(3)), /12 numbers/);
  });

  describe("native elementwise and window kernels: bit-identical to js", () => {
    const BINARY_OPS = ["add", "sub", "mul", "div", "maximum", "minimum", "eq", "ne", "gt", "ge", "lt", "le", "pow"] as const;
    const UNARY_OPS = ["neg", "abs", "relu", "sqrt", "rsqrt", "sign", "exp", "tanh"] as const;
    const SPECIAL = [Number.NaN, 0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1, -1, 0.5];

    /** Random values with special ones (NaN, ±0, ±∞) and repeats (so comparisons see equal pairs). */
    function values(n: number): Float32Array {
      const a = randomF32(n);
      for (let i = 0; i < n; i++) {
        const u = gen.uniform();
        if (u < 0.05) a[i] = SPECIAL[Math.floor(gen.uniform() * SPECIAL.length)]!;
        else if (u < 0.1) a[i] = 1;
      }
      return a;
    }

    /** A float32 view of `shape`: dims laid out in a random order with padding, some broadcast (stride 0), offset. */
    function stridedView(shape: readonly number[], broadcast = true): StridedView {
      const nd = shape.length;
      const order = [...shape.keys()].sort(() => gen.uniform() - 0.5);
      const strides = new Array<number>(nd).fill(0);
      let size = 1;
      for (let k = nd - 1; k >= 0; k--) {
        const d = order[k]!;
        if (broadcast && shape[d]! > 1 && gen.uniform() < 0.2) continue; // stride 0
        strides[d] = size;
        size *= shape[d]! + (gen.uniform() < 0.3 ? 1 : 0);
      }
      const offset = Math.floor(gen.uniform() * 5);
      return { data: values(offset + size + 2), dtype: "float32", shape, strides, offset };
    }

    function randomShape(): number[] {
      const nd = 1 + Math.floor(gen.uniform() * 4);
      const dims: number[] = [];
      for (let d = 0; d < nd; d++) dims.push(gen.uniform() < 0.2 ? 1 : 1 + Math.floor(gen.uniform() * 24));
      // sometimes large enough to cross the native threshold and the threaded split
      if (gen.uniform() < 0.5) dims[0] = dims[0]! * 40;
      return dims;
    }

    function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
      assert.equal(got.length, want.length, `${what}: length`);
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) assert.fail(`${what}: element ${i} is ${got[i]}, js gives ${want[i]}`);
    }

    test("binary ops over random broadcast strided views (1 and 2 threads)", () => {
      const before = getThreads();
      try {
        for (let t = 0; t < 60; t++) {
          const shape = randomShape();
          const a = stridedView(shape);
          const b = stridedView(shape);
          const op = BINARY_OPS[t % BINARY_OPS.length]!;
          setThreads(1 + (t % 2));
          assertSame(nativeBackend.binary(op, a, b, shape), jsBackend.binary(op, a, b, shape), `${op} [${shape}] a ${a.strides} b ${b.strides}`);
        }
        const big = [64, 33, 40];
        for (const op of BINARY_OPS) {
          const a = stridedView(big, false);
          const s: StridedView = { data: values(1), dtype: "float32", shape: big, strides: [0, 0, 0], offset: 0 };
          setThreads(2);
          assertSame(nativeBackend.binary(op, a, s, big), jsBackend.binary(op, a, s, big), `${op} with a scalar`);
          assertSame(nativeBackend.binary(op, s, a, big), jsBackend.binary(op, s, a, big), `scalar ${op}`);
        }
      } finally {
        setThreads(before);
      }
    });

    test("unary ops and copies over random strided views", () => {
      for (let t = 0; t < 40; t++) {
        const shape = randomShape();
        const x = stridedView(shape);
        const op = UNARY_OPS[t % UNARY_OPS.length]!;
        assertSame(nativeBackend.unary(op, x), jsBackend.unary(op, x), `${op} [${shape}] ${x.strides}`);
        assertSame(nativeBackend.copy(x, "float32"), jsBackend.copy(x, "float32"), `copy [${shape}] ${x.strides}`);
        assertSame(nativeBackend.copy(x, "float64"), jsBackend.copy(x, "float64"), "copy to float64 (js)");
        const mask: StridedView = { ...x, dtype: "bool", data: Uint8Array.from(x.data as Float32Array, (v) => (v > 0 ? 1 : 0)) };
        assertSame(nativeBackend.copy(mask, "float32"), jsBackend.copy(mask, "float32"), `bool → float32 [${shape}] ${x.strides}`);
      }
    });

    test("im2col and col2im over random windows and layouts", () => {
      for (let t = 0; t < 30; t++) {
        const [N, C, H, W] = [1 + Math.floor(gen.uniform() * 3), 1 + Math.floor(gen.uniform() * 4), 1 + Math.floor(gen.uniform() * 12), 1 + Math.floor(gen.uniform() * 12)];
        const kernel = [1 + Math.floor(gen.uniform() * 3), 1 + Math.floor(gen.uniform() * 3)] as const;
        const stride = [1 + Math.floor(gen.uniform() * 2), 1 + Math.floor(gen.uniform() * 2)] as const;
        const padding = [Math.floor(gen.uniform() * 3), Math.floor(gen.uniform() * 3)] as const;
        const dilation = [1 + Math.floor(gen.uniform() * 2), 1 + Math.floor(gen.uniform() * 2)] as const;
        const out = (size: number, i: number) => Math.floor((size + 2 * padding[i]! - dilation[i]! * (kernel[i]! - 1) - 1) / stride[i]!) + 1;
        const outSize = [out(H, 0), out(W, 1)] as const;
        if (outSize[0] < 1 || outSize[1] < 1) continue;
        const win = { kernel, stride, padding, dilation, outSize };
        const x = stridedView([N, C, H, W], false);
        assertSame(nativeBackend.im2col(x, win), jsBackend.im2col(x, win), `im2col ${JSON.stringify(win)} strides ${x.strides}`);
        const cols = stridedView([N, C * kernel[0] * kernel[1], outSize[0] * outSize[1]], false);
        assertSame(nativeBackend.col2im(cols, win, [H, W]), jsBackend.col2im(cols, win, [H, W]), `col2im ${JSON.stringify(win)}`);
      }
    });

    test("sums over leading axes with a contiguous kept axis (bias gradients; 32 outputs at a time) equal js", () => {
      const before = getThreads();
      try {
        for (const [shape, axes] of [
          [[128, 512], [0]],
          [[7, 33], [0]],
          [[3, 31], [0]],
          [[5, 4, 100], [0, 1]],
          [[1, 64], [0]],
          [[9, 2, 70], [0]],
        ] as [number[], number[]][])
          for (const threads of [1, 2]) {
            setThreads(threads);
            const x = tg.randn(shape);
            assertSame(nativeBackend.reduce("sum", x, axes), jsBackend.reduce("sum", x, axes), `sum over ${axes} of [${shape}]`);
            // every other row of a taller matrix: the reduced axis strided, the kept one contiguous
            const tall = tg.randn([2 * shape[0]!, ...shape.slice(1)]);
            const rows = tall.reshape([shape[0]!, 2, ...shape.slice(1)]).narrow(1, 0, 1).squeeze(1);
            assertSame(nativeBackend.reduce("sum", rows, axes), jsBackend.reduce("sum", rows, axes), `sum over ${axes} of strided [${shape}]`);
          }
      } finally {
        setThreads(before);
      }
    });

    test("reductions over random axes of random strided views (sum in double, NaN-propagating max/min, first arg*)", () => {
      const before = getThreads();
      try {
        for (let t = 0; t < 60; t++) {
          const shape = randomShape();
          const x = stridedView(shape);
          const axes = [...shape.keys()].filter(() => gen.uniform() < 0.5);
          if (axes.length === 0) axes.push(Math.floor(gen.uniform() * shape.length));
          const op = (["sum", "max", "min", "argmax", "argmin"] as const)[t % 5]!;
          const one = op === "argmax" || op === "argmin" ? [axes[0]!] : axes;
          setThreads(1 + (t % 2));
          assertSame(nativeBackend.reduce(op, x, one), jsBackend.reduce(op, x, one), `${op} over ${one} of [${shape}] ${x.strides}`);
        }
      } finally {
        setThreads(before);
      }
    });

    test("max pooling and its backward over random windows", () => {
      for (let t = 0; t < 30; t++) {
        const [N, C, H, W] = [1 + Math.floor(gen.uniform() * 3), 1 + Math.floor(gen.uniform() * 40), 1 + Math.floor(gen.uniform() * 12), 1 + Math.floor(gen.uniform() * 12)];
        const kernel = [1 + Math.floor(gen.uniform() * 3), 1 + Math.floor(gen.uniform() * 3)] as const;
        const stride = [1 + Math.floor(gen.uniform() * 2), 1 + Math.floor(gen.uniform() * 2)] as const;
        const padding = [Math.floor(gen.uniform() * ((kernel[0] >> 1) + 1)), Math.floor(gen.uniform() * ((kernel[1] >> 1) + 1))] as const;
        const dilation = [1 + Math.floor(gen.uniform() * 2), 1 + Math.floor(gen.uniform() * 2)] as const;
        const out = (size: number, i: number) => Math.floor((size + 2 * padding[i]! - dilation[i]! * (kernel[i]! - 1) - 1) / stride[i]!) + 1;
        const outSize = [out(H, 0), out(W, 1)] as const;
        if (outSize[0] < 1 || outSize[1] < 1) continue;
        const win = { kernel, stride, padding, dilation, outSize };
        const x = stridedView([N, C, H, W], false);
        const got = nativeBackend.maxPool2d(x, win);
        const want = jsBackend.maxPool2d(x, win);
        assertSame(got.values, want.values, `maxPool2d values ${JSON.stringify(win)}`);
        assertSame(got.indices, want.indices, `maxPool2d indices ${JSON.stringify(win)}`);
        const g = stridedView([N, C, outSize[0], outSize[1]], false);
        const idx: StridedView = { data: want.indices, dtype: "int32", shape: g.shape, strides: [C * outSize[0] * outSize[1], outSize[0] * outSize[1], outSize[1], 1], offset: 0 };
        assertSame(nativeBackend.maxPool2dBackward(g, idx, [H, W]), jsBackend.maxPool2dBackward(g, idx, [H, W]), `maxPool2dBackward ${JSON.stringify(win)}`);
      }
    });

    test("large conv-sized calls are split over threads and still match", () => {
      const before = getThreads();
      try {
        setThreads(2);
        const x = stridedView([8, 16, 28, 28], false);
        const win = { kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], outSize: [28, 28] } as const;
        const cols = nativeBackend.im2col(x, win);
        assertSame(cols, jsBackend.im2col(x, win), "im2col 8×16×28×28");
        const cv: StridedView = { data: cols, dtype: "float32", shape: [8, 144, 784], strides: [144 * 784, 784, 1], offset: 0 };
        assertSame(nativeBackend.col2im(cv, win, [28, 28]), jsBackend.col2im(cv, win, [28, 28]), "col2im 8×144×784");
      } finally {
        setThreads(before);
      }
    });

    test("max pooling's 2×2 stride-2 path (the pooling layer) on odd sizes, padded rows, NaN and ties", () => {
      for (const [N, C, H, W] of [
        [2, 3, 28, 28],
        [1, 5, 7, 9],
        [3, 2, 2, 2],
        [1, 40, 14, 15],
      ] as const) {
        const Ho = Math.floor(H / 2);
        const Wo = Math.floor(W / 2);
        const win = { kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1], outSize: [Ho, Wo] } as const;
        for (const pad of [0, 3]) {
          const data = values(N * C * H * (W + pad) + 2);
          for (let i = 0; i < data.length; i += 7) data[i] = 1; // ties within windows
          const x: StridedView = { data, dtype: "float32", shape: [N, C, H, W], strides: [C * H * (W + pad), H * (W + pad), W + pad, 1], offset: 1 };
          const got = nativeBackend.maxPool2d(x, win);
          const want = jsBackend.maxPool2d(x, win);
          assertSame(got.values, want.values, `maxPool2d 2×2/2 values [${N},${C},${H},${W}] pad ${pad}`);
          assertSame(got.indices, want.indices, `maxPool2d 2×2/2 indices [${N},${C},${H},${W}] pad ${pad}`);
        }
      }
    });

    test("reluBackward: g·(y > 0) over random strided views, bit-identical to the js reference and to gt, cast, mul", () => {
      const before = getThreads();
      try {
        for (let t = 0; t < 40; t++) {
          const shape = randomShape();
          const g = stridedView(shape);
          const y = stridedView(shape);
          setThreads(1 + (t % 2));
          const want = jsReluBackward(g, y);
          assertSame(hooks(nativeBackend).reluBackward!(g, y), want, `reluBackward [${shape}] g ${g.strides} y ${y.strides}`);
          const zero: StridedView = { data: new Float32Array(1), dtype: "float32", shape, strides: shape.map(() => 0), offset: 0 };
          const mask = jsBackend.copy({ data: jsBackend.binary("gt", y, zero, shape), dtype: "bool", shape, strides: contiguous(shape), offset: 0 }, "float32");
          const composed = jsBackend.binary("mul", g, { data: mask, dtype: "float32", shape, strides: contiguous(shape), offset: 0 }, shape);
          assertSame(want, composed, `js reluBackward = gt, cast, mul [${shape}]`);
        }
      } finally {
        setThreads(before);
      }
    });

    test("linear (x·wᵀ + bias, relu): bit-identical to native matmul, add, relu; rows independent of the batch", () => {
      const before = getThreads();
      try {
        let t = 0;
        for (const M of [1, 2, 3, 5, 7, 64, 130])
          for (const [K, N] of [
            [1, 1],
            [7, 33],
            [33, 7],
            [257, 65],
            [300, 10],
            [784, 40],
          ] as const) {
            t++;
            setThreads(1 + (t % 2));
            const relu = t % 3 !== 0;
            const xv = view(1, M, K, { offset: t % 4, pad: t % 2, negative: t % 5 === 0 });
            const x: StridedView = { ...xv, shape: [M, K], strides: xv.strides.slice(1), offset: xv.offset };
            const wv = view(1, N, K, { offset: 2, pad: (t + 1) % 2 });
            const w: StridedView = { ...wv, shape: [N, K], strides: wv.strides.slice(1), offset: wv.offset };
            const bias: StridedView | null = t % 4 === 1 ? null : { data: values(2 * N + 3), dtype: "float32", shape: [N], strides: [2], offset: 1 };
            const got = hooks(nativeBackend).linear!(x, w, bias, relu);
            // the composition on native: matmul over a transposed view of w, then add, then relu
            const x3: StridedView = { ...x, shape: [1, M, K], strides: [0, ...x.strides] };
            const wt: StridedView = { ...w, shape: [1, K, N], strides: [0, w.strides[1]!, w.strides[0]!] };
            let want = nativeBackend.matmul(x3, wt);
            const dense = (data: ArrayLike<number>): StridedView => ({ data: data as Float32Array, dtype: "float32", shape: [M, N], strides: [N, 1], offset: 0 });
            if (bias !== null) want = nativeBackend.binary("add", dense(want), { ...bias, shape: [M, N], strides: [0, 2] }, [M, N]);
            if (relu) want = nativeBackend.unary("relu", dense(want));
            assertSame(got, want, `linear M=${M} K=${K} N=${N} bias=${bias !== null} relu=${relu}`);
            // close to the js reference (summation order only)
            const ref = jsLinear(x, w, bias, relu);
            for (let i = 0; i < ref.length; i++)
              assert.ok(
                Object.is(got[i], ref[i]) || Math.abs(got[i]! - ref[i]!) <= 1e-4 * (1 + Math.abs(ref[i]!)) || (Number.isNaN(got[i]!) && Number.isNaN(ref[i]!)),
                `linear vs js at ${i}: ${got[i]} vs ${ref[i]}`,
              );
            // each row alone gives the same bits as within the batch (batch-size invariance)
            for (const r of [0, M - 1]) {
              const row: StridedView = { ...x, shape: [1, K], offset: x.offset + r * x.strides[0]! };
              assertSame(hooks(nativeBackend).linear!(row, w, bias, relu), got.subarray(r * N, (r + 1) * N), `linear row ${r} of ${M}`);
            }
          }
      } finally {
        setThreads(before);
      }
    });

    test("the remaining primitives are the js reference kernels", () => {
      const native = new Set(["name", "matmul", "binary", "unary", "copy", "reduce", "im2col", "col2im", "maxPool2d", "maxPool2dBackward"]);
      for (const key of Object.keys(jsBackend) as (keyof Backend)[]) {
        if (native.has(key)) continue;
        assert.equal(nativeBackend[key], jsBackend[key], `${key} should delegate to js`);
      }
    });

    test("bad views are refused by the addon", () => {
      const p = (...v: number[]) => new Float64Array(v);
      const a = new Float32Array(10);
      assert.throws(() => addon!.binary(0, a, a, new Float32Array(10), p(1, 1, 0, 10, 1, 1)), /outside its array/);
      assert.throws(() => addon!.binary(6, a, a, new Float32Array(10), p(1, 0, 0, 10, 1, 1)), /wrong element type/); // eq writes bytes
      assert.throws(() => addon!.unary(2, a, new Float32Array(4), p(1, 0, 10, 1)), /outside its array/);
      assert.throws(() => addon!.copy(a, new Float32Array(10), p(2, 0, 5, 3, 2, 1)), /outside its array/);
      assert.throws(() => addon!.im2col(a, new Float32Array(100), p(0, 1, 1, 4, 4, 16, 16, 4, 1, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4)), /outside its array/);
    });
  });

  describe("delegated primitives", () => {

    test("the ops give js's results: elementwise, reductions, indexing, conv, pooling, forward and backward", () => {
      const run = (backend: string): number[][] => {
        tg.backend.use(backend);
        try {
          tg.manualSeed(7);
          const x = tg.randn([2, 3, 6, 6], { requiresGrad: true });
          const w = tg.randn([4, 3, 3, 3], { requiresGrad: true });
          const y = tg.F.conv2d(x, w, null, { padding: 1 }).relu();
          const pooled = tg.F.maxPool2d(y, 2).add(tg.F.avgPool2d(y, 2));
          const flat = pooled.flatten(1);
          const z = tg.cat([flat.sigmoid(), flat.tanh()], 1);
          const idx = tg.tensor([[0, 1], [2, 0]], { dtype: "int32" });
          const g = tg.gather(z.narrow(1, 0, 3), 1, idx);
          const s = tg.where(z.gt(0), z, z.mul(0.1)).sum(1).add(g.sum(1)).max();
          s.backward();
          return [s, pooled, g, x.grad!, w.grad!].map((t) => Array.from(t.dataSync() as ArrayLike<number>));
        } finally {
          tg.backend.use("js");
        }
      };
      const n = run("native");
      const j = run("js");
      for (const [i, xs] of n.entries())
        for (const [k, v] of xs.entries()) assert.ok(Math.abs(v - j[i]![k]!) <= 1e-4 * (1 + Math.abs(j[i]![k]!)), `output ${i}[${k}]: ${v} vs ${j[i]![k]}`);
    });
  });

  test("tensor level: matmul with broadcast batch dims, 1-D operands and transposes, forward and backward", () => {
    const run = (backend: string) => {
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
        tg.backend.use("js");
      }
    };
    const n = run("native");
    const j = run("js");
    for (const [i, xs] of n.entries())
      for (const [k, x] of xs.entries()) assert.ok(Math.abs(x - j[i]![k]!) <= 1e-4 * (1 + Math.abs(j[i]![k]!)), `output ${i}[${k}]: ${x} vs ${j[i]![k]}`);
  });

  test("Adam and AdamW steps (weight decay, AMSGrad, maximize) are bit-identical to the js loop", () => {
    const configs = [{}, { weightDecay: 0.1 }, { amsgrad: true }, { maximize: true, betas: [0.8, 0.99] as [number, number] }];
    for (const [i, opts] of configs.entries())
      for (const Opt of [tg.optim.Adam, tg.optim.AdamW]) {
        const run = (backend: string): Float32Array[] => {
          const before = tg.backend.current();
          tg.backend.use(backend);
          try {
            const g = new tg.Generator(99 + i);
            const ws = [tg.randn([3001], { generator: g }), tg.randn([70, 50], { generator: g })];
            const params = ws.map((w) => new tg.nn.Parameter(w));
            const opt = new Opt(params, { lr: 0.01, ...opts });
            for (let step = 0; step < 4; step++) {
              for (const p of params) {
                const grad = tg.randn(p.shape as number[], { generator: g });
                if (step === 2) grad.data[5] = 0; // an exact zero gradient
                p.grad = grad;
              }
              opt.step();
            }
            return params.map((p) => p.dataSync() as Float32Array);
          } finally {
            tg.backend.use(before);
          }
        };
        const n = run("native");
        const j = run("js");
        for (const [k, w] of n.entries())
          for (let e = 0; e < w.length; e++)
            if (!Object.is(w[e], j[k]![e])) assert.fail(`${Opt.name} ${JSON.stringify(opts)} param ${k}[${e}]: ${w[e]} vs js ${j[k]![e]}`);
      }
  });

  test("a small MLP trains to the same losses on native as on js", () => {
    const train = (backend: string): number[] => {
      tg.backend.use(backend);
      try {
        tg.manualSeed(42);
        const x = tg.randn([64, 20]);
        const target = x.narrow(1, 0, 5).sum(1).gt(0).to("int32");
        const model = new tg.nn.Sequential(new tg.nn.Linear(20, 33), new tg.nn.ReLU(), new tg.nn.Linear(33, 17), new tg.nn.Tanh(), new tg.nn.Linear(17, 2));
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
        tg.backend.use("js");
      }
    };
    const onNative = train("native");
    const onJs = train("js");
    assert.ok(onJs[29]! < 0.5 * onJs[0]!, `the model should learn (js losses ${onJs[0]} → ${onJs[29]})`);
    for (const [i, l] of onNative.entries()) assert.ok(Math.abs(l - onJs[i]!) <= 1e-4 * Math.max(1, onJs[i]!), `step ${i}: native loss ${l}, js loss ${onJs[i]}`);
  });

  // when native is the default (or TG_BACKEND picks a backend), the whole suite already runs on it
  const defaultBackend = tg.backend.current();
  const goldenSkip = defaultBackend === "native" ? "the whole suite runs on native (the default backend)" : process.env.TG_BACKEND ? `TG_BACKEND=${process.env.TG_BACKEND}` : false;
  test("the PyTorch golden suites pass with TG_BACKEND=native", { skip: goldenSkip }, () => {
    const files = ["tests/golden.test.ts", "tests/conv.test.ts", "tests/nn.test.ts", "tests/optim.test.ts"];
    const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-reporter=tap", ...files], { encoding: "utf8", env: childEnv({ TG_BACKEND: "native" }) });
    const count = (what: string) => Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(r.stdout)?.[1] ?? Number.NaN);
    assert.equal(r.status, 0, `golden suites failed on native:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
    assert.ok(count("pass") > 500, `expected the golden suites to run (${count("pass")} passed)`);
    assert.equal(count("fail"), 0);
  });
});

describe("install safety (runs with or without the addon)", () => {
  test("TG_NATIVE=0: native is unavailable, info() says why, everything else works", () => {
    const script = `
      import * as tg from "./src/index.ts";
      const native = tg.backend.info().find((b) => b.name === "native");
      const y = tg.tensor([[1, 2], [3, 4]]).matmul(tg.tensor([[5], [6]]));
      console.log(JSON.stringify({ list: tg.backend.list(), native, y: Array.from(y.dataSync()) }));`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", env: childEnv({ TG_NATIVE: "0", TG_BACKEND: "" }) });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { list: string[]; native: tg.backend.BackendInfo; y: number[] };
    assert.ok(!out.list.includes("native"));
    assert.deepEqual(out.native, { name: "native", available: false, reason: "disabled by TG_NATIVE=0", active: false });
    assert.deepEqual(out.y, [17, 39]);
  });

  test("TG_BACKEND=native without the addon is a clear error naming the available backends", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `import "./src/index.ts";`], {
      encoding: "utf8",
      env: childEnv({ TG_NATIVE: "0", TG_BACKEND: "native" }),
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /TG_BACKEND=native: unknown backend \(available: js/);
  });

  test("the install script never fails: no C++ compiler on PATH → exit 0 and a recorded reason", () => {
    // run it in a scratch copy so the real build and its status file are left alone
    const script = `
      import { cpSync, mkdtempSync, readFileSync, mkdirSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { spawnSync } from "node:child_process";
      const dir = mkdtempSync(join(tmpdir(), "tg-native-"));
      mkdirSync(join(dir, "scripts"));
      cpSync("scripts/build-native.mjs", join(dir, "scripts/build-native.mjs"));
      cpSync("native/binding.gyp", join(dir, "native/binding.gyp"));
      cpSync("native/src", join(dir, "native/src"), { recursive: true });
      const r = spawnSync(process.execPath, [join(dir, "scripts/build-native.mjs")], { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent", CXX: "" } });
      console.log(JSON.stringify({ status: r.status, stderr: r.stderr, record: JSON.parse(readFileSync(join(dir, "native/build-status.json"), "utf8")) }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: childEnv({}) });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { status: number; stderr: string; record: { built: boolean; reason: string } };
    assert.equal(out.status, 0);
    assert.equal(out.record.built, false);
    assert.match(out.record.reason, /make|compiler|node-gyp/);
    assert.match(out.stderr, /native backend not built: .*; using the wasm\/js backends/);
  });
});
