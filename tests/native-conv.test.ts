/**
 * @file The native backend's fused convolution hooks (conv2d, conv2dBackwardInput,
 * conv2dBackwardWeight) against a float64 loop over the definition, on random shapes: odd sizes,
 * stride 2, dilation 2, asymmetric padding, C = 1, N = 1, strided / permuted / negative-stride /
 * offset views, with and without bias, blocks of output positions (large images), every micro-kernel;
 * 1 and 2 threads bit-identical; bounds checks; and F.conv2d's fused op (values and gradients
 * against the composed im2col / matmul path, second order through createGraph). Skipped when
 * the addon is not built.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StridedView, Window2d } from "../src/backend/backend.ts";
import { poisonNativeOutputs } from "../src/backend/native/alloc.ts";
import { getThreads, nativeAddon, nativeBackend, nativeUnavailableReason, setThreads } from "../src/backend/native/index.ts";
import * as tg from "../src/index.ts";
import { randomF32 } from "./gemm-helpers.ts";
import { hooks, withoutFused } from "./fused-access.ts";

const addon = nativeAddon();
const skip = addon === null ? nativeUnavailableReason() : false;
const gen = new tg.Generator(20261123);
poisonNativeOutputs(true);

/** How a test view lays out its storage. */
interface Layout {
  /** Storage axis order, outermost first (a permutation of 0..3); default [0, 1, 2, 3]. */
  order?: readonly number[];
  /** Extra elements after each storage row (the innermost storage axis). */
  pad?: number;
  offset?: number;
  /** Walk logical axis 2 (rows) backwards. */
  flipRows?: boolean;
}

/** A random 4-D float32 view of `shape` laid out as `layout` says. */
function view4(shape: readonly number[], layout: Layout = {}): StridedView {
  const order = layout.order ?? [0, 1, 2, 3];
  const pad = layout.pad ?? 0;
  const strides = new Array<number>(4).fill(0);
  let n = 1;
  for (let k = 3; k >= 0; k--) {
    const axis = order[k]!;
    strides[axis] = n;
    n *= shape[axis]! + (k === 3 ? pad : 0);
  }
  let offset = layout.offset ?? 0;
  const data = randomF32(gen, offset + n + 2);
  if (layout.flipRows && shape[2]! > 1) {
    offset += (shape[2]! - 1) * strides[2]!;
    strides[2] = -strides[2]!;
  }
  return { data, dtype: "float32", shape: [...shape], strides, offset };
}

function vec(n: number, offset = 0, stride = 1): StridedView {
  return { data: randomF32(gen, offset + n * stride + 1), dtype: "float32", shape: [n], strides: [stride], offset };
}

const at = (v: StridedView, ...idx: number[]) => v.data[v.offset + idx.reduce((s, i, d) => s + i * v.strides[d]!, 0)]!;

interface Case {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kh: number;
  kw: number;
  stride?: [number, number];
  /** [top, bottom, left, right] */
  pad?: [number, number, number, number];
  dilation?: [number, number];
}

function windowOf(c: Case): Window2d {
  const [sh, sw] = c.stride ?? [1, 1];
  const [top, bottom, left, right] = c.pad ?? [0, 0, 0, 0];
  const [dh, dw] = c.dilation ?? [1, 1];
  const ho = Math.floor((c.H + top + bottom - dh * (c.kh - 1) - 1) / sh) + 1;
  const wo = Math.floor((c.W + left + right - dw * (c.kw - 1) - 1) / sw) + 1;
  return { kernel: [c.kh, c.kw], stride: [sh, sw], padding: [top, left], dilation: [dh, dw], outSize: [ho, wo] };
}

/** Calls body(n, o, c, ho, wo, i, j, h, w) for every tap that reads inside x. */
function forTaps(c: Case, win: Window2d, body: (n: number, o: number, ch: number, ho: number, wo: number, i: number, j: number, h: number, w: number) => void): void {
  const [ho_, wo_] = win.outSize;
  for (let n = 0; n < c.N; n++)
    for (let o = 0; o < c.O; o++)
      for (let ch = 0; ch < c.C; ch++)
        for (let ho = 0; ho < ho_; ho++)
          for (let wo = 0; wo < wo_; wo++)
            for (let i = 0; i < c.kh; i++)
              for (let j = 0; j < c.kw; j++) {
                const h = ho * win.stride[0] - win.padding[0] + i * win.dilation[0];
                const w = wo * win.stride[1] - win.padding[1] + j * win.dilation[1];
                if (h >= 0 && h < c.H && w >= 0 && w < c.W) body(n, o, ch, ho, wo, i, j, h, w);
              }
}

/** |got − want| ≤ (terms + 2)·2⁻²³·bound elementwise (float32 summation in any order). */
function assertClose(got: ArrayLike<number>, want: Float64Array, bound: Float64Array, terms: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let k = 0; k < want.length; k++) {
    const tol = (terms + 2) * 2 ** -23 * bound[k]! + 1e-30;
    if (!(Math.abs(got[k]! - want[k]!) <= tol)) assert.fail(`${what}: element ${k} is ${got[k]}, expected ${want[k]} (tolerance ${tol})`);
  }
}

function checkCase(c: Case, layouts: { x?: Layout; w?: Layout; g?: Layout } = {}, withBias = true): void {
  const what = JSON.stringify(c);
  const win = windowOf(c);
  const [ho, wo] = win.outSize;
  const x = view4([c.N, c.C, c.H, c.W], layouts.x);
  const w = view4([c.O, c.C, c.kh, c.kw], layouts.w);
  const g = view4([c.N, c.O, ho, wo], layouts.g);
  const bias = withBias ? vec(c.O, 3, 2) : null;
  const L = ho * wo;
  // forward
  const want = new Float64Array(c.N * c.O * L);
  const bound = new Float64Array(want.length);
  const dx = new Float64Array(c.N * c.C * c.H * c.W);
  const dxBound = new Float64Array(dx.length);
  const dw = new Float64Array(c.O * c.C * c.kh * c.kw);
  const dwBound = new Float64Array(dw.length);
  forTaps(c, win, (n, o, ch, oh, ow, i, j, h, ww) => {
    const k = (n * c.O + o) * L + oh * wo + ow;
    const xv = at(x, n, ch, h, ww);
    const wv = at(w, o, ch, i, j);
    const gv = at(g, n, o, oh, ow);
    want[k] += xv * wv;
    bound[k] += Math.abs(xv * wv);
    const kx = ((n * c.C + ch) * c.H + h) * c.W + ww;
    dx[kx] += gv * wv;
    dxBound[kx] += Math.abs(gv * wv);
    const kw = ((o * c.C + ch) * c.kh + i) * c.kw + j;
    dw[kw] += gv * xv;
    dwBound[kw] += Math.abs(gv * xv);
  });
  if (bias !== null)
    for (let k = 0; k < want.length; k++) {
      const b = at(bias, Math.floor(k / L) % c.O);
      want[k] += b;
      bound[k] += Math.abs(b);
    }
  const out = hooks(nativeBackend).conv2d!(x, w, bias, win)!;
  assertClose(out, want, bound, c.C * c.kh * c.kw, `${what} forward`);
  const gotDx = hooks(nativeBackend).conv2dBackwardInput!(g, w, win, [c.H, c.W]);
  if (gotDx !== null) assertClose(gotDx, dx, dxBound, c.O + c.kh * c.kw, `${what} input gradient`);
  else assert.ok(c.N < 4, `${what}: the input gradient declined`);
  const got = hooks(nativeBackend).conv2dBackwardWeight!(g, x, win, withBias)!;
  assertClose(got.dw, dw, dwBound, c.N * L, `${what} weight gradient`);
  if (withBias) {
    const db = new Float64Array(c.O);
    const dbBound = new Float64Array(c.O);
    for (let n = 0; n < c.N; n++)
      for (let o = 0; o < c.O; o++)
        for (let p = 0; p < L; p++) {
          const v = at(g, n, o, Math.floor(p / wo), p % wo);
          db[o] += v;
          dbBound[o] += Math.abs(v);
        }
    assertClose(got.db!, db, dbBound, 1, `${what} bias gradient`);
  } else assert.equal(got.db, null);
}

describe("native fused conv2d kernels", { skip }, () => {
  test("odd sizes, stride, dilation, asymmetric padding, C = 1, N = 1, with and without bias", () => {
    const cases: Case[] = [
      { N: 2, C: 3, H: 7, W: 5, O: 4, kh: 3, kw: 3, pad: [1, 1, 1, 1] },
      { N: 1, C: 1, H: 9, W: 11, O: 5, kh: 2, kw: 3, stride: [2, 2], pad: [0, 1, 1, 0] },
      { N: 3, C: 5, H: 10, W: 9, O: 7, kh: 3, kw: 2, dilation: [2, 2], pad: [2, 1, 0, 3] },
      { N: 5, C: 2, H: 6, W: 13, O: 13, kh: 1, kw: 1, stride: [1, 3] },
      { N: 2, C: 17, H: 5, W: 5, O: 33, kh: 5, kw: 5, pad: [2, 2, 2, 2] },
      { N: 4, C: 1, H: 28, W: 28, O: 16, kh: 3, kw: 3, pad: [1, 1, 1, 1] },
      { N: 1, C: 2, H: 3, W: 3, O: 1, kh: 3, kw: 3 },
      { N: 2, C: 3, H: 4, W: 6, O: 2, kh: 2, kw: 2, stride: [3, 2], dilation: [1, 3], pad: [1, 2, 3, 0] },
      // more tap columns than the per-block cache of tap ranges holds
      { N: 2, C: 3, H: 4, W: 25, O: 2, kh: 1, kw: 17, pad: [0, 0, 2, 1] },
    ];
    for (const c of cases) {
      checkCase(c);
      checkCase(c, {}, false);
    }
  });

  test("strided, permuted (NHWC), padded, offset and row-reversed views", () => {
    const c: Case = { N: 3, C: 4, H: 8, W: 7, O: 6, kh: 3, kw: 3, stride: [2, 1], pad: [1, 0, 1, 2] };
    checkCase(c, { x: { order: [0, 2, 3, 1], offset: 5 }, w: { order: [1, 0, 2, 3], pad: 1 }, g: { order: [1, 0, 2, 3], offset: 2 } });
    checkCase(c, { x: { pad: 3, flipRows: true }, w: { order: [0, 2, 3, 1] }, g: { pad: 2 } }, false);
    checkCase(c, { x: { order: [1, 0, 3, 2] }, w: { flipRows: true, offset: 7 }, g: { order: [0, 1, 3, 2] } });
    // 1-wide and 1-high outputs (the gradient's positions flatten by one stride)
    checkCase({ N: 2, C: 3, H: 5, W: 3, O: 4, kh: 2, kw: 3 }, { g: { order: [0, 1, 3, 2] } });
    checkCase({ N: 2, C: 3, H: 3, W: 6, O: 4, kh: 3, kw: 2 }, { g: { pad: 5 } });
  });

  test("large images are split into blocks of output positions", () => {
    // C·kh·kw·Ho·Wo above the 32768-float scratch: several blocks per sample, a partial last one
    checkCase({ N: 2, C: 9, H: 41, W: 37, O: 5, kh: 3, kw: 3, pad: [1, 1, 1, 1] });
    checkCase({ N: 1, C: 40, H: 20, W: 21, O: 3, kh: 3, kw: 3, stride: [2, 1], pad: [0, 2, 1, 1] }, { x: { order: [0, 2, 3, 1] } }, false);
    // one image of more than 2¹⁷ column floats: its weight gradient is chunked over blocks of
    // positions; its input gradient is left to the composed path (null)
    const big: Case = { N: 1, C: 16, H: 40, W: 100, O: 4, kh: 3, kw: 3, pad: [1, 1, 1, 1] };
    checkCase(big);
    const win = windowOf(big);
    assert.equal(hooks(nativeBackend).conv2dBackwardInput!(view4([1, 4, ...win.outSize]), view4([4, 16, 3, 3]), win, [40, 100]), null);
  });

  test("every micro-kernel", () => {
    const before = addon!.kernelName();
    try {
      for (const k of addon!.kernels()) {
        assert.ok(addon!.setKernel(k));
        checkCase({ N: 3, C: 5, H: 9, W: 8, O: 7, kh: 3, kw: 3, stride: [1, 2], pad: [1, 1, 0, 1] });
        checkCase({ N: 2, C: 16, H: 14, W: 14, O: 32, kh: 3, kw: 3, pad: [1, 1, 1, 1] }, {}, false);
      }
    } finally {
      addon!.setKernel(before);
    }
  });

  test("1 and 2 threads give the same bits", () => {
    // a batch (chunks of samples) and one large image (chunks of blocks of positions)
    for (const c of [
      { N: 19, C: 16, H: 14, W: 14, O: 32, kh: 3, kw: 3, pad: [1, 1, 1, 1] },
      { N: 1, C: 16, H: 40, W: 100, O: 4, kh: 3, kw: 3, pad: [1, 1, 1, 1] },
      { N: 7, C: 1, H: 28, W: 28, O: 16, kh: 3, kw: 3, pad: [1, 1, 1, 1] },
    ] as Case[]) {
      const win = windowOf(c);
      const x = view4([c.N, c.C, c.H, c.W]);
      const w = view4([c.O, c.C, c.kh, c.kw]);
      const g = view4([c.N, c.O, ...win.outSize]);
      const bias = vec(c.O);
      const run = () => {
        const wg = hooks(nativeBackend).conv2dBackwardWeight!(g, x, win, true)!;
        return [hooks(nativeBackend).conv2d!(x, w, bias, win)!, hooks(nativeBackend).conv2dBackwardInput!(g, w, win, [c.H, c.W]), wg.dw, wg.db!];
      };
      const threads = getThreads();
      try {
        setThreads(1);
        const one = run();
        setThreads(2);
        const two = run();
        for (let k = 0; k < one.length; k++) assert.deepEqual(two[k], one[k], `${JSON.stringify(c)}: output ${k}`);
      } finally {
        setThreads(threads);
      }
    }
  });

  test("float64 is not handled (null), empty batches give empty or zero results", () => {
    const win = windowOf({ N: 1, C: 1, H: 3, W: 3, O: 1, kh: 2, kw: 2 });
    const f64: StridedView = { data: new Float64Array(9), dtype: "float64", shape: [1, 1, 3, 3], strides: [9, 9, 3, 1], offset: 0 };
    assert.equal(hooks(nativeBackend).conv2d!(f64, f64, null, win), null);
    const c: Case = { N: 0, C: 2, H: 4, W: 4, O: 3, kh: 3, kw: 3 };
    const w0 = windowOf(c);
    const x = view4([0, 2, 4, 4]);
    const w = view4([3, 2, 3, 3]);
    const g = view4([0, 3, ...w0.outSize]);
    assert.equal(hooks(nativeBackend).conv2d!(x, w, null, w0)!.length, 0);
    assert.equal(hooks(nativeBackend).conv2dBackwardInput!(g, w, w0, [4, 4])!.length, 0);
    const { dw, db } = hooks(nativeBackend).conv2dBackwardWeight!(g, x, w0, true)!;
    assert.deepEqual([...dw], new Array(54).fill(0));
    assert.deepEqual([...db!], [0, 0, 0]);
    // no input channels: the output is the bias, the bias gradient counts the positions
    const b = vec(3);
    const noChannels = windowOf({ N: 2, C: 0, H: 5, W: 5, O: 3, kh: 3, kw: 3, pad: [1, 1, 1, 1] });
    const y = hooks(nativeBackend).conv2d!(view4([2, 0, 5, 5]), view4([3, 0, 3, 3]), b, noChannels)!;
    assert.deepEqual([...y.subarray(0, 26)], [...new Array(25).fill(at(b, 0)), at(b, 1)]);
    const g1: StridedView = { data: new Float32Array(150).fill(1), dtype: "float32", shape: [2, 3, 5, 5], strides: [75, 25, 5, 1], offset: 0 };
    assert.deepEqual([...hooks(nativeBackend).conv2dBackwardWeight!(g1, view4([2, 0, 5, 5]), noChannels, true)!.db!], [50, 50, 50]);
  });

  test("views outside their arrays are refused", () => {
    const c: Case = { N: 2, C: 2, H: 5, W: 5, O: 3, kh: 3, kw: 3 };
    const win = windowOf(c);
    const x = view4([2, 2, 5, 5]);
    const w = view4([3, 2, 3, 3]);
    const short = { ...x, data: x.data.subarray(0, 40) };
    assert.throws(() => hooks(nativeBackend).conv2d!(short, w, null, win), RangeError);
    assert.throws(() => hooks(nativeBackend).conv2d!(x, w, { data: new Float32Array(2), dtype: "float32", shape: [2], strides: [1], offset: 0 }, win), RangeError);
    assert.throws(() => hooks(nativeBackend).conv2dBackwardWeight!(view4([2, 3, 2, 3]), x, win, false), RangeError);
  });
});

/** F.conv2d on the native backend, then the same with the fused hooks hidden (the composed path). */
function bothPaths<T>(body: () => T): [T, T] {
  return [body(), withoutFused(nativeBackend, ["conv2d", "conv2dBackwardInput", "conv2dBackwardWeight"], body)];
}

function assertAllClose(a: tg.Tensor, b: tg.Tensor, what: string, tol = 1e-5): void {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  const x = Float64Array.from(a.dataSync());
  const y = Float64Array.from(b.dataSync());
  const scale = Math.max(1e-3, ...Array.from(y, Math.abs));
  for (let k = 0; k < x.length; k++) if (!(Math.abs(x[k]! - y[k]!) <= tol * scale)) assert.fail(`${what}: element ${k} is ${x[k]}, composed path gives ${y[k]}`);
}

describe("F.conv2d's fused op on the native backend", { skip }, () => {
  const F = tg.nn.functional;
  const onNative = <T>(body: () => T): T => {
    const prev = tg.backend.current();
    tg.backend.use("native");
    try {
      return body();
    } finally {
      tg.backend.use(prev);
    }
  };

  test("one recorded op whose gradients equal the composed path's", () => {
    onNative(() => {
      for (const opts of [{ padding: 1 }, { stride: 2, dilation: [1, 2] as [number, number] }, { padding: "same" as const }]) {
        tg.manualSeed(3);
        const x0 = tg.randn([3, 4, 9, 8]);
        const w0 = tg.randn([5, 4, 3, 3]);
        const b0 = tg.randn([5]);
        const gy = tg.randn(F.conv2d(x0, w0, b0, opts).shape);
        const [fused, composed] = bothPaths(() => {
          const x = x0.clone().requiresGrad_();
          const w = w0.clone().requiresGrad_();
          const b = b0.clone().requiresGrad_();
          const y = F.conv2d(x, w, b, opts);
          y.backward(gy);
          return { y, name: y.gradFn?.name, grads: [x.grad!, w.grad!, b.grad!] };
        });
        assert.equal(fused.name, "Conv2dBackward0");
        assertAllClose(fused.y, composed.y, "output");
        for (const [k, g] of fused.grads.entries()) assertAllClose(g, composed.grads[k]!, `gradient ${k}`);
      }
    });
  });

  test("only the needed gradients: an input that does not require grad, no bias, unbatched", () => {
    onNative(() => {
      tg.manualSeed(4);
      const x = tg.randn([2, 3, 6, 6]);
      const w = tg.randn([4, 3, 3, 3], { requiresGrad: true });
      F.conv2d(x, w, null, { padding: 1 }).square().sum().backward();
      const [, ref] = bothPaths(() => {
        const w2 = w.detach().clone().requiresGrad_();
        F.conv2d(x, w2, null, { padding: 1 }).square().sum().backward();
        return w2.grad!;
      });
      assertAllClose(w.grad!, ref, "weight gradient");
      assert.equal(x.grad, null);
      const xu = tg.randn([3, 5, 5], { requiresGrad: true });
      const y = F.conv2d(xu, w.detach(), tg.randn([4]), { stride: 2 });
      assert.deepEqual(y.shape, [4, 2, 2]);
      y.sum().backward();
      assert.deepEqual(xu.grad!.shape, [3, 5, 5]);
    });
  });

  test("second order through the fused op (createGraph) matches the composed path", () => {
    onNative(() => {
      tg.manualSeed(5);
      const x0 = tg.randn([2, 2, 5, 5]);
      const w0 = tg.randn([3, 2, 3, 3]);
      const [fused, composed] = bothPaths(() => {
        const x = x0.clone().requiresGrad_();
        const w = w0.clone().requiresGrad_();
        const [gx] = tg.grad(F.conv2d(x, w, null, { padding: 1 }).square().sum(), [x], { createGraph: true });
        const [gw] = tg.grad(gx!.square().sum(), [w]);
        return gw!;
      });
      assertAllClose(fused, composed, "d/dw |d/dx conv|²", 1e-4);
    });
  });
});
