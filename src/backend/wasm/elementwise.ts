/**
 * @file The wasm backend's elementwise primitives: float32 unary / binary and copies to float32
 * run in wasm (assembly/elementwise.ts) when the op is one whose result is exactly the js
 * kernel's and the tensor is large enough to pay for staging; everything else (other dtypes,
 * transcendentals, tiny tensors, views that do not collapse to 4 dims) calls the js kernel.
 * Either way the result is bit-identical to js. Also the optional hooks reluBackward (one pass
 * instead of gt, cast, mul) and adamStep (the optimizer's loop in float32 SIMD, parameters updated
 * where they lie when resident, the moments staged in and out). Large calls are cut into
 * disjoint output ranges run on the worker pool (threads.ts `runCalls`): every element gets the
 * same operation wherever it runs, so results do not depend on the thread count.
 */
import { sizeOf } from "../../base/shape.ts";
import type { DType, TypedArray } from "../../base/dtype.ts";
import type { BinaryKernel, StridedView, UnaryKernel } from "../backend.ts";
import type { FusedArgs } from "../fused.ts";
import { binary as jsBinary, copy as jsCopy, unary as jsUnary, where as jsWhere } from "../js/elementwise.ts";
import { reluBackward as jsReluBackward } from "../js/relu-backward.ts";
import { copyOutF32, getArena, stage } from "./runtime.ts";
import { type KernelCall, runCalls, taskCount } from "./threads.ts";

/** Below this many elements the js loop is as fast as staging into wasm and back. */
export const WASM_MIN_ELEMENTS = 1024;

const UNARY: Partial<Record<UnaryKernel, number>> = { neg: 0, abs: 1, sqrt: 2, relu: 3, sign: 4 };
const BINARY: Partial<Record<BinaryKernel, number>> = {
  add: 0,
  sub: 1,
  mul: 2,
  div: 3,
  maximum: 4,
  minimum: 5,
  eq: 6,
  ne: 7,
  gt: 8,
  ge: 9,
  lt: 10,
  le: 11,
};
const COMPARE_MIN = 6;

/**
 * A task of an elementwise or window kernel has at least this many elements (~100 µs of kernel):
 * waking a worker costs ~25 µs, and these calls' time is mostly the staging and copy-out on the
 * calling thread, which do not split; at 2¹⁵ W3 trained 3 % slower on 2 threads than without.
 */
export const PARALLEL_MIN_ELEMENTS = 1 << 18;

/**
 * Stages `views` (walked with the collapsed strides `c.strides[i]`) and runs
 * `fn(...head, n0, n1, n2, n3, [operand ptr, its 4 strides]..., out)` over the 4-D space `c.shape`,
 * cut along its outermost non-trivial dim into slabs, disjoint contiguous ranges of the output,
 * when it is large enough for the pool. Returns the result copied out: float32, or bytes (bool)
 * when `outBytes` is 1.
 */
function run4d(fn: KernelCall[0], head: readonly number[], c: Collapsed, views: readonly StridedView[], outBytes: 1 | 4): TypedArray {
  const shape = c.shape;
  const n = shape[0]! * shape[1]! * shape[2]! * shape[3]!;
  const ar = getArena().reset();
  const ops = views.map((v, i) => ({ ...stage(ar, v.data, shape, c.strides[i]!, v.offset), bytes: v.data.BYTES_PER_ELEMENT }));
  const out = ar.alloc(n * outBytes);
  const call = (sh: readonly number[], off: number, inner: number): KernelCall => {
    const args: number[] = [...head, ...sh];
    for (const o of ops) args.push(o.ptr + off * o.strides[d]! * o.bytes, ...o.strides);
    args.push(out + off * inner * outBytes);
    return [fn, ...args];
  };
  // the outermost dim longer than 1: a slab of it is a contiguous range of the output
  const d = Math.max(0, shape.findIndex((e) => e > 1));
  const len = shape[d]!;
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  // slab edges on 16-element boundaries of the innermost dim (whole vectors, whole cache lines)
  const align = d === 3 ? 16 : 1;
  const k = len < 2 ? 1 : Math.min(taskCount(n, PARALLEL_MIN_ELEMENTS), len);
  const calls: KernelCall[] = [];
  for (let t = 0; t < k; t++) {
    const i0 = Math.min(len, Math.ceil((len * t) / k / align) * align);
    const i1 = t === k - 1 ? len : Math.min(len, Math.ceil((len * (t + 1)) / k / align) * align);
    if (i1 <= i0) continue;
    const sh = [...shape];
    sh[d] = i1 - i0;
    calls.push(call(sh, i0, inner));
  }
  runCalls(calls);
  return outBytes === 1 ? ar.u8.slice(out, out + n) : copyOutF32(ar, out, n);
}

/** An iteration space collapsed to 4 dims, with each operand's strides. */
type Collapsed = { shape: number[]; strides: number[][] };

/**
 * Collapses an iteration space: drops size-1 dims and merges neighbours that every operand walks
 * contiguously, then pads to exactly 4 dims. Null when more than 4 dims remain.
 */
export function collapse(shape: readonly number[], strides: readonly (readonly number[])[]): Collapsed | null {
  const sh: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = sh.length - 1;
    // merge into the previous dim when, for every operand, stepping it equals n steps of this one
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[d]! * n)) {
      sh[last] = sh[last]! * n;
      strides.forEach((s, k) => {
        st[k]![last] = s[d]!;
      });
      continue;
    }
    sh.push(n);
    strides.forEach((s, k) => {
      st[k]!.push(s[d]!);
    });
  }
  if (sh.length > 4) return null;
  while (sh.length < 4) {
    sh.unshift(1);
    for (const s of st) s.unshift(0);
  }
  return { shape: sh, strides: st };
}

export function unary(op: UnaryKernel, x: StridedView): TypedArray {
  const code = UNARY[op];
  if (code === undefined || x.dtype !== "float32" || sizeOf(x.shape) < WASM_MIN_ELEMENTS) return jsUnary(op, x);
  const c = collapse(x.shape, [x.strides]);
  return c === null ? jsUnary(op, x) : run4d("unaryF32", [code], c, [x], 4);
}

export function binary(op: BinaryKernel, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  const code = BINARY[op];
  if (code === undefined || a.dtype !== "float32" || b.dtype !== "float32" || sizeOf(shape) < WASM_MIN_ELEMENTS) return jsBinary(op, a, b, shape);
  const c = collapse(shape, [a.strides, b.strides]);
  return c === null ? jsBinary(op, a, b, shape) : run4d("binaryF32", [code], c, [a, b], code >= COMPARE_MIN ? 1 : 4);
}

const COPY_SOURCE: Partial<Record<DType, number>> = { float32: 0, bool: 1, int32: 2 };

/** Copies to float32 (strided views made contiguous, bool and int32 converted) in wasm; other copies in js. */
export function copy(x: StridedView, dtype: DType): TypedArray {
  const type = COPY_SOURCE[x.dtype];
  if (dtype !== "float32" || type === undefined || sizeOf(x.shape) < WASM_MIN_ELEMENTS) return jsCopy(x, dtype);
  const c = collapse(x.shape, [x.strides]);
  // a dense float32 → float32 copy is one memcpy in js already
  if (c === null || (type === 0 && c.strides[0]![3] === 1 && c.shape[0]! * c.shape[1]! * c.shape[2]! === 1)) return jsCopy(x, dtype);
  return run4d("copyToF32", [type], c, [x], 4);
}

/** cond ? a : b for float32 a, b (bool cond), any broadcast; other dtypes in js. */
export function where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  if (a.dtype !== "float32" || b.dtype !== "float32" || cond.dtype !== "bool" || sizeOf(shape) < WASM_MIN_ELEMENTS) return jsWhere(cond, a, b, shape);
  const c = collapse(shape, [cond.strides, a.strides, b.strides]);
  return c === null ? jsWhere(cond, a, b, shape) : run4d("whereF32", [], c, [cond, a, b], 4);
}

/** The op code of assembly/elementwise.ts's relu gradient (a binary op writing float32). */
export const RELU_GRAD = 12;

/** g · (y > 0 ? 1 : 0) for float32 views of one shape, in one wasm pass; else the js reference. */
export function reluBackward({ g, y }: FusedArgs<"reluBackward">): TypedArray {
  if (g.dtype !== "float32" || y.dtype !== "float32" || sizeOf(g.shape) < WASM_MIN_ELEMENTS) return jsReluBackward(g, y);
  const c = collapse(g.shape, [g.strides, y.strides]);
  return c === null ? jsReluBackward(g, y) : run4d("binaryF32", [RELU_GRAD], c, [g, y], 4);
}

/**
 * Adam/AdamW on float32 arrays in wasm (assembly/elementwise.ts's adamF32: optim/adam.ts's float32
 * arithmetic, bit-identical). Arrays are staged (resident ones, the parameters, are updated in
 * place) and the written ones copied back. False (the js loop runs) for other dtypes and small arrays.
 */
export function adamStep({ w, g, m, v, vMax, h }: FusedArgs<"adamStep">): boolean {
  const n = w.length;
  const f32 = (a: TypedArray | null) => a === null || (a instanceof Float32Array && a.length === n);
  if (!(w instanceof Float32Array) || !f32(g) || !f32(m) || !f32(v) || !f32(vMax) || n < WASM_MIN_ELEMENTS) return false;
  const ar = getArena().reset();
  const hp = ar.alloc(72);
  ar.f64.set(h, hp >> 3);
  const put = (a: TypedArray) => stage(ar, a, [n], [1], 0).ptr;
  const pw = put(w);
  const pg = put(g);
  const pm = put(m);
  const pv = put(v);
  const px = vMax === null ? 0 : put(vMax);
  // disjoint ranges of every array, 16-element aligned
  const parts = taskCount(n, PARALLEL_MIN_ELEMENTS >> 2);
  const calls: KernelCall[] = [];
  for (let t = 0, i0 = 0; t < parts && i0 < n; t++) {
    const i1 = t === parts - 1 ? n : Math.min(n, Math.ceil((n * (t + 1)) / parts / 16) * 16);
    const o = i0 * 4;
    calls.push(["adamF32", i1 - i0, pw + o, pg + o, pm + o, pv + o, px === 0 ? 0 : px + o, hp]);
    i0 = i1;
  }
  runCalls(calls);
  // copy back what the kernel wrote (a resident array was written in place)
  const back = (a: TypedArray, p: number) => {
    if (!ar.isResident(a)) (a as Float32Array).set(ar.f32.subarray(p >> 2, (p >> 2) + n));
  };
  back(w, pw);
  back(m, pm);
  back(v, pv);
  if (vMax !== null) back(vMax, px);
  return true;
}
