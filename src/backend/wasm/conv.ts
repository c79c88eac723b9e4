/**
 * @file The wasm backend's fused float32 convolution hooks (conv2d, its input gradient, its weight
 * and bias gradient): assembly/conv.ts builds one sample's columns at a time in a scratch block
 * that stays in cache and runs the packed gemm on it, so the [N, C·kh·kw, Ho·Wo] columns tensor of
 * the im2col composition is never materialised, copied out or staged back. Each input is staged
 * once (resident parameters are read in place) and each result copied out once.
 *
 * The gradients of a relu-fused forward get y (the relu'd output) staged like g, and the kernels
 * mask each sample's g by relu's gradient into a cache-resident block as they read it (a separate
 * reluBackward pass wrote, copied out and re-staged the whole masked g: ~1.5 ms of W3's first layer).
 *
 * Threads: calls own ranges of samples. The forward and the input gradient write disjoint outputs,
 * and each sample's arithmetic is that of the composition on this backend (bit-identical to it).
 * The weight gradient sums over samples, so its samples are cut into chunks fixed by N and the
 * layer's size alone; the chunks' partial dW (and float64 db) are summed in chunk order.
 * Results are therefore bit-identical for any thread count.
 *
 * Conv2d → ReLU → MaxPool2d with non-overlapping pool windows (nn.Sequential's fusion) has its own
 * three hooks: the forward pools each sample's relu'd conv output in the scratch, so only the pooled
 * values and indices are copied out (not the [N, O, Ho, Wo] conv output: 3.2 MB for W3's first
 * layer), and the gradients take the pooled gradient, the indices and the pooled values, rebuilding
 * per sample the masked gradient block the unfused maxPool2dBackward + relu mask would have staged.
 * They decline exactly where the conv2d hooks do, and split samples the same way (the same bits).
 */
import type { TypedArray } from "../../base/dtype.ts";
import { contiguousStrides } from "../../base/shape.ts";
import { isRowMajor } from "../../base/strided.ts";
import { poolTiles, type StridedView, type Window2d, windowInts } from "../backend.ts";
import type { ConvWeightGradients, FusedArgs, PooledValues } from "../fused.ts";
import { jsBackend } from "../js/index.ts";
import { type Arena, copyOutF32, getArena, getRuntime, stage } from "./runtime.ts";
import { getThreads, type KernelCall, PARALLEL_MIN_MACS, ranges, runCalls, taskCount } from "./threads.ts";

/** The weight gradient's samples are cut into at most this many chunks (partial sums), fixed whatever the thread count. */
const DW_CHUNKS = 16;
/** …and the chunks' partial dW together stay under this many bytes (a large layer gets fewer chunks). */
const DW_PARTIAL_BYTES = 1 << 24;
/** Every task holds one sample's columns: beyond this many floats (64 MiB) they are left to the composition… */
const MAX_COLUMNS = 1 << 24;
/** …and a call has at most as many tasks as fit this many floats of columns (256 MiB). */
const ALL_COLUMNS = 1 << 26;
/** Below one sample per thread a large forward or input gradient is left to the composition, whose gemm splits rows across threads (the same bits). */
const FEW_SAMPLES_MIN_MACS = 1 << 22;

/** A strided operand the kernels read as a matrix per sample: its data, offset and the two strides. */
interface Matrix {
  view: StridedView;
  /** Stride between rows and between columns, in elements. */
  rows: number;
  cols: number;
}

/**
 * Stride of the flattened dims `dims` of `v` when one stride walks them in row-major order (sizes
 * of 1 place no constraint), else null.
 */
function mergedStride(v: StridedView, dims: readonly number[]): number | null {
  let stride: number | null = null;
  let span = 1;
  for (let d = dims.length - 1; d >= 0; d--) {
    const size = v.shape[dims[d]!]!;
    if (size === 1) continue;
    const s = v.strides[dims[d]!]!;
    if (stride === null) stride = s;
    else if (s !== stride * span) return null;
    span *= size;
  }
  return stride ?? 1;
}

/** A contiguous copy of `v` (the rare operand whose trailing dims do not merge into one stride, or a pooled operand that is not dense). */
function contiguous(v: StridedView): StridedView {
  return { data: jsBackend.copy(v, v.dtype), dtype: v.dtype, shape: v.shape, strides: contiguousStrides(v.shape), offset: 0 };
}

/**
 * `v` as a matrix per index of the dims before `rowDim` ([A, B, ...rest] with rowDim 1: one per
 * sample; the weight [O, C, kh, kw] with rowDim 0: [O, K]): dim `rowDim` the rows, the rest
 * flattened into columns.
 */
function matrix(v: StridedView, rowDim = 1): Matrix {
  const cols = mergedStride(v, v.shape.map((_, d) => d).slice(rowDim + 1));
  const view = cols === null ? contiguous(v) : v;
  return { view, rows: view.strides[rowDim]!, cols: cols ?? 1 };
}

/** Ints in assembly/conv.ts's parameter block; y's address (0: no relu mask) at Y_AT, then its strides, then the pool's geometry. */
const PARAMS = 38;
const Y_AT = 24;

/** A pool-less parameter block's pool geometry. */
const NO_POOL: readonly number[] = new Array<number>(10).fill(0);

/**
 * Writes assembly/conv.ts's int32 parameter block into the arena: the shapes `s`, x's strides, w's
 * matrix strides and g's (sample, row, column) strides (zeros where the kernel does not read them);
 * `y`: the relu mask's address and strides (n, o, l); `pool`: the max pool of a Conv2d → ReLU →
 * MaxPool2d op (over the conv output).
 */
function params(ar: Arena, s: Shapes, x: readonly number[], w: Matrix | null, g: readonly number[], win: Window2d, relu: boolean, y: readonly number[] | null, pool: Window2d | null): number {
  const p = ar.alloc(PARAMS * 4);
  const { C, H, W, O } = s;
  const block = [C, H, W, ...x, O, w?.rows ?? 0, w?.cols ?? 0, ...g, ...windowInts(win), relu ? 1 : 0, ...(y ?? [0, 0, 0, 0])];
  ar.i32.set([...block, ...(pool === null ? NO_POOL : windowInts(pool))], p >> 2);
  return p;
}

/** y (the relu mask, g's shape) staged for the kernels: [address at sample 0, n, o, l strides], or null when there is none. */
function stageMask(ar: Arena, y: StridedView | null): number[] | null {
  if (y === null) return null;
  const m = matrix(y);
  const s = stageView(ar, m.view);
  return [s.ptr, s.strides[0]!, m.rows, m.cols];
}

/**
 * Each task's parameter block: the call's own when there is no mask, else a copy with y's address
 * moved to the task's first sample (the kernels' other operands are passed that way, as arguments).
 */
function taskParams(ar: Arena, p: number, tasks: readonly [number, number][], y: readonly number[] | null): number[] {
  if (y === null) return tasks.map(() => p);
  return tasks.map(([n0]) => {
    const t = ar.alloc(PARAMS * 4);
    ar.i32.copyWithin(t >> 2, p >> 2, (p >> 2) + PARAMS);
    ar.i32[(t >> 2) + Y_AT] = y[0]! + n0 * y[1]! * 4;
    return t;
  });
}

/** Whether an optional relu mask can be read by the kernels: none, or float32 of g's shape. */
function maskFits(g: StridedView, y: StridedView | null): boolean {
  return y === null || (y.dtype === "float32" && y.shape.length === g.shape.length && y.shape.every((d, i) => d === g.shape[i]));
}

/** Float32 operands of the shapes the hooks take, else null (the front end composes). */
function shapes(x: readonly number[], w: readonly number[], win: Window2d) {
  const [N, C, H, W] = x as [number, number, number, number];
  const [O, Cw, kh, kw] = w as [number, number, number, number];
  if (x.length !== 4 || w.length !== 4 || Cw !== C || kh !== win.kernel[0] || kw !== win.kernel[1]) return null;
  return { N, C, H, W, O, K: C * kh * kw, L: win.outSize[0] * win.outSize[1] };
}
/** A call's sizes: x [N, C, H, W], w [O, C, kh, kw], K = C·kh·kw, L = Ho·Wo. */
type Shapes = NonNullable<ReturnType<typeof shapes>>;

/** Per-task scratch blocks (conv2dScratchBytes each), one per call. */
function scratch(ar: Arena, p: number, tasks: number): number[] {
  const bytes = getRuntime().kernels.conv2dScratchBytes(p);
  return Array.from({ length: tasks }, () => ar.alloc(bytes));
}

/** How many sample ranges a forward or input gradient of `macs` multiply-adds is cut into; 0: leave it to the composition. */
function sampleTasks(N: number, macs: number, columns: number): number {
  if (columns > MAX_COLUMNS || (N < getThreads() && macs >= FEW_SAMPLES_MIN_MACS)) return 0;
  return Math.max(1, Math.min(N, taskCount(macs, PARALLEL_MIN_MACS), Math.floor(ALL_COLUMNS / columns)));
}

/** A view staged with its own strides (x, bias, and a Matrix's view: its strides already merge). */
function stageView(ar: Arena, v: StridedView) {
  return stage(ar, v.data, v.shape, v.strides, v.offset);
}

/**
 * Whether `pool` is a max pool the fused Conv2d → ReLU → MaxPool2d kernels take over conv outputs
 * of size `conv`: non-overlapping windows (stride = kernel, no padding, dilation 1) inside it.
 */
function poolFits(pool: Window2d, conv: readonly [number, number]): boolean {
  return poolTiles(pool) && pool.outSize.every((n, a) => n >= 1 && n * pool.kernel[a]! <= conv[a]!);
}

/** A [N, O, Hp, Wp] view staged for the pooled gradient kernels as contiguous storage (a copy if it is not). */
function stageContiguous(ar: Arena, v: StridedView): number {
  return stageView(ar, isRowMajor(v) ? v : contiguous(v)).ptr;
}

/** Pooled gradient operands of the right kinds and shapes: g, indices (int32) and pooled values, all [N, O, ...pool.outSize]. */
function pooledFit(g: StridedView, indices: StridedView, pooled: StridedView, N: number, O: number, pool: Window2d): boolean {
  const want = [N, O, ...pool.outSize];
  const is = (v: StridedView) => v.shape.length === 4 && v.shape.every((d, i) => d === want[i]);
  return g.dtype === "float32" && indices.dtype === "int32" && pooled.dtype === "float32" && is(g) && is(indices) && is(pooled);
}

/** Float32 forward operands of the shapes the kernels take, else null. */
function forwardShapes({ x, w, bias, win }: FusedArgs<"conv2d" | "conv2dReluMaxPool">): Shapes | null {
  if (x.dtype !== "float32" || w.dtype !== "float32" || (bias !== null && bias.dtype !== "float32")) return null;
  return shapes(x.shape, w.shape, win);
}

/**
 * Runs forward kernel `name` over sample ranges (null: left to the composition). It gets (samples,
 * params, x, w, bias, bias stride, ...outputs, scratch), each output `perSample[i]` floats a sample.
 */
function runForward(
  name: KernelCall[0],
  s: Shapes,
  { x, w, bias, win }: FusedArgs<"conv2d" | "conv2dReluMaxPool">,
  relu: boolean,
  pool: Window2d | null,
  perSample: readonly number[],
): { ar: Arena; outs: number[] } | null {
  const { N, O, K, L } = s;
  const parts = sampleTasks(N, N * O * K * L, K * L);
  if (parts === 0) return null;
  const wm = matrix(w, 0);
  const ar = getArena().reset();
  const sx = stageView(ar, x);
  const sw = stageView(ar, wm.view);
  const sb = bias === null ? null : stageView(ar, bias);
  const p = params(ar, s, sx.strides, wm, [0, 0, 0], win, relu, null, pool);
  const outs = perSample.map((n) => ar.alloc(N * n * 4));
  const tasks = ranges(N, parts);
  const ws = scratch(ar, p, tasks.length);
  runCalls(
    tasks.map(([n0, n1], t): KernelCall => [
      name,
      n1 - n0,
      p,
      sx.ptr + n0 * sx.strides[0]! * 4,
      sw.ptr,
      sb?.ptr ?? 0,
      sb?.strides[0] ?? 0,
      ...outs.map((o, i) => o + n0 * perSample[i]! * 4),
      ws[t]!,
    ]),
  );
  return { ar, outs };
}

/** What a gradient kernel reads besides g and w (or x): relu's mask, or the pooled forward's operands. */
interface GradExtra {
  /** The rest of g's and its companions' checks, given N and O. */
  fits(N: number, O: number): boolean;
  /** Stages them (after g): the mask for the parameter block, the pool, the arguments after g, and those ahead of the parameter block per task. */
  stage(ar: Arena): { y: number[] | null; pool: Window2d | null; args: number[]; lead(n0: number): number[] };
}

/** The relu-masked (y) or plain gradients: g float32 [N, O, ...win.outSize], y null or g's shape. */
function maskExtra(g: StridedView, y: StridedView | null, win: Window2d): GradExtra {
  return {
    fits: () => g.dtype === "float32" && maskFits(g, y) && g.shape[2] === win.outSize[0] && g.shape[3] === win.outSize[1],
    stage: (ar) => ({ y: stageMask(ar, y), pool: null, args: [], lead: () => [] }),
  };
}

/** The pooled gradients: indices and pooled values are read from sample 0, so each task also gets its first sample. */
function poolExtra({ g, win, pool, indices, pooled }: FusedArgs<"conv2dReluMaxPoolBackwardInput" | "conv2dReluMaxPoolBackwardWeight">): GradExtra {
  return {
    fits: (N, O) => poolFits(pool, win.outSize) && pooledFit(g, indices, pooled, N, O, pool),
    stage: (ar) => ({ y: null, pool, args: [stageContiguous(ar, indices), stageContiguous(ar, pooled)], lead: (n0) => [n0] }),
  };
}

/**
 * Stages a gradient call's g and `extra`'s operands and writes its parameter block (x's strides `x`,
 * w's matrix `w`); `call` then makes task t's kernel call for samples [n0, n1): (samples, …lead,
 * params, …before, g at n0, …extra's args, …after, scratch). Returns the parameter block too.
 */
function stageGradient(ar: Arena, s: Shapes, g: StridedView, win: Window2d, extra: GradExtra, x: readonly number[], w: Matrix | null, tasks: readonly [number, number][]) {
  const gm = matrix(g);
  const sg = stageView(ar, gm.view);
  const e = extra.stage(ar);
  const p = params(ar, s, x, w, [sg.strides[0]!, gm.rows, gm.cols], win, false, e.y, e.pool);
  const ps = taskParams(ar, p, tasks, e.y);
  const ws = scratch(ar, p, tasks.length);
  const call = (name: KernelCall[0], t: number, before: number[], after: number[]): KernelCall => {
    const [n0, n1] = tasks[t]!;
    return [name, n1 - n0, ...e.lead(n0), ps[t]!, ...before, sg.ptr + n0 * sg.strides[0]! * 4, ...e.args, ...after, ws[t]!];
  };
  return { p, call };
}

/** Runs input-gradient kernel `name` (…lead, params, g, …args, w, dx, scratch) over sample ranges → dx, or null (the composition). */
function inputGradient(name: KernelCall[0], { g, w, win, inSize }: Omit<FusedArgs<"conv2dBackwardInput">, "y">, extra: GradExtra): TypedArray | null {
  if (w.dtype !== "float32" || g.shape.length !== 4 || w.shape.length !== 4) return null;
  const [N, O] = g.shape as [number, number];
  const [H, W] = inSize;
  const s = shapes([N, w.shape[1]!, H, W], w.shape, win);
  if (s === null || w.shape[0] !== O || !extra.fits(N, O)) return null;
  const { C, K, L } = s;
  if (N * C * H * W === 0) return new Float32Array(0);
  if (O * L === 0) return new Float32Array(N * C * H * W);
  const parts = sampleTasks(N, N * O * K * L, K * L);
  if (parts === 0) return null;
  const wm = matrix(w, 0);
  const ar = getArena().reset();
  const sw = stageView(ar, wm.view);
  const out = ar.alloc(N * C * H * W * 4);
  const tasks = ranges(N, parts);
  const { call } = stageGradient(ar, s, g, win, extra, [0, 0, 0, 0], wm, tasks);
  runCalls(tasks.map(([n0], t) => call(name, t, [], [sw.ptr, out + n0 * C * H * W * 4])));
  return copyOutF32(ar, out, N * C * H * W);
}

/**
 * Runs weight-gradient kernel `name` (…lead, params, x, g, …args, partial dW, partial db, scratch)
 * over the sample chunks and sums them → dw (and db), or null (the composition).
 */
function weightGradient(name: KernelCall[0], { g, x, win, bias }: Omit<FusedArgs<"conv2dBackwardWeight">, "y">, extra: GradExtra): ConvWeightGradients | null {
  if (x.dtype !== "float32" || g.shape.length !== 4 || x.shape.length !== 4) return null;
  const [N, C] = x.shape as [number, number];
  const O = g.shape[1]!;
  const s = shapes(x.shape, [O, C, ...win.kernel], win);
  if (s === null || g.shape[0] !== N || !extra.fits(N, O)) return null;
  const { K, L } = s;
  // no input channels: dw is empty but db is still Σ g, which the composition sums
  if (O * K === 0) return bias && O > 0 ? null : { dw: new Float32Array(0), db: bias ? new Float32Array(0) : null };
  if (N * L === 0) return { dw: new Float32Array(O * K), db: bias ? new Float32Array(O) : null };
  if (K * L > MAX_COLUMNS) return null;
  const chunks = Math.max(1, Math.min(N, DW_CHUNKS, Math.floor(DW_PARTIAL_BYTES / (O * K * 4)), Math.floor(ALL_COLUMNS / (K * L))));
  const ar = getArena().reset();
  const sx = stageView(ar, x);
  const tasks = ranges(N, chunks);
  const parts = ar.alloc(tasks.length * O * K * 4);
  const db = bias ? ar.alloc(tasks.length * O * 8) : 0;
  const { p, call } = stageGradient(ar, s, g, win, extra, sx.strides, null, tasks);
  runCalls(tasks.map(([n0], t) => call(name, t, [sx.ptr + n0 * sx.strides[0]! * 4], [parts + t * O * K * 4, bias ? db + t * O * 8 : 0])));
  return sumWeightParts(ar, p, tasks.length, parts, db, O, K, bias);
}

/** dw (and db) from the weight gradient's chunk partials, summed in chunk order. */
function sumWeightParts(ar: Arena, p: number, chunks: number, parts: number, db: number, O: number, K: number, bias: boolean): ConvWeightGradients {
  const dw = ar.alloc(O * K * 4);
  getRuntime().kernels.conv2dSumPartsF32(p, chunks, parts, dw);
  let dbOut: Float32Array | null = null;
  if (bias) {
    const sum = new Float64Array(O);
    for (let t = 0; t < chunks; t++) for (let o = 0; o < O; o++) sum[o] = sum[o]! + ar.f64[(db >> 3) + t * O + o]!;
    dbOut = Float32Array.from(sum);
  }
  const dwOut = copyOutF32(ar, dw, O * K);
  return { dw: dwOut, db: dbOut };
}

/** The fused table's `conv2d`: x [N, C, H, W] ⋆ w [O, C, kh, kw] (+ bias) → [N, O, Ho, Wo]. */
export function conv2d(a: FusedArgs<"conv2d">): TypedArray | null {
  const s = forwardShapes(a);
  if (s === null) return null;
  const { N, O, L } = s;
  if (N * O * L === 0) return new Float32Array(0);
  const r = runForward("conv2dF32", s, a, a.relu, null, [O * L]);
  return r === null ? null : copyOutF32(r.ar, r.outs[0]!, N * O * L);
}

/**
 * The fused table's `conv2dReluMaxPool`: relu(x ⋆ w + bias) [N, O, Ho, Wo] max-pooled by `pool`
 * (non-overlapping windows) → values [N, O, Hp, Wp] and their int32 indices in the Ho·Wo plane.
 */
export function conv2dReluMaxPool(a: FusedArgs<"conv2dReluMaxPool">): PooledValues | null {
  const { pool } = a;
  const s = forwardShapes(a);
  if (s === null || !poolFits(pool, a.win.outSize)) return null;
  const { N, O, L } = s;
  if (N * O * L === 0) return { values: new Float32Array(0), indices: new Int32Array(0) };
  const n = O * pool.outSize[0] * pool.outSize[1];
  const r = runForward("conv2dReluPoolF32", s, a, true, pool, [n, n]);
  if (r === null) return null;
  const [values, indices] = r.outs as [number, number];
  return { values: copyOutF32(r.ar, values, N * n), indices: r.ar.i32.slice(indices >> 2, (indices >> 2) + N * n) };
}

/** The fused table's `conv2dBackwardInput`: g [N, O, Ho, Wo] (masked by relu's gradient from y), w [O, C, kh, kw] → dx [N, C, ...inSize]. */
export const conv2dBackwardInput = (a: FusedArgs<"conv2dBackwardInput">) => inputGradient("conv2dBackwardInputF32", a, maskExtra(a.g, a.y, a.win));
/** `conv2dBackwardWeight`: g, x [N, C, H, W] → dw [O, C, kh, kw] and, when `bias`, db [O] (float64 sums rounded once). */
export const conv2dBackwardWeight = (a: FusedArgs<"conv2dBackwardWeight">) => weightGradient("conv2dBackwardWeightF32", a, maskExtra(a.g, a.y, a.win));
/** conv2dReluMaxPool's gradients: the same chunks and sums on the gradient blocks rebuilt from the pooled g, indices and values. */
export const conv2dReluMaxPoolBackwardInput = (a: FusedArgs<"conv2dReluMaxPoolBackwardInput">) => inputGradient("conv2dPoolBackwardInputF32", a, poolExtra(a));
export const conv2dReluMaxPoolBackwardWeight = (a: FusedArgs<"conv2dReluMaxPoolBackwardWeight">) => weightGradient("conv2dPoolBackwardWeightF32", a, poolExtra(a));
