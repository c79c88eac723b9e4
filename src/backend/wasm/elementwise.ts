/**
 * @file The wasm backend's elementwise primitives: float32 unary / binary and copies to float32
 * run in wasm (assembly/elementwise.ts) when the op is one whose result is exactly the js
 * kernel's and the tensor is large enough to pay for staging; everything else (other dtypes,
 * transcendentals, tiny tensors, views that do not collapse to 4 dims) calls the js kernel.
 * Either way the result is bit-identical to js. Also the optional hooks reluBackward (one pass
 * instead of gt, cast, mul) and adamStep (the optimizer's loop in float64 SIMD, parameters updated
 * where they lie when resident, the moments staged in and out).
 */
import { sizeOf } from "../../tensor/shape.ts";
import type { DType, TypedArray } from "../../tensor/dtype.ts";
import type { BinaryKernel, StridedView, UnaryKernel } from "../backend.ts";
import { binary as jsBinary, copy as jsCopy, unary as jsUnary, where as jsWhere } from "../js/elementwise.ts";
import { reluBackward as jsReluBackward } from "../js/relu-backward.ts";
import { getArena, getRuntime, stage } from "./runtime.ts";

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
 * Collapses an iteration space: drops size-1 dims and merges neighbours that every operand walks
 * contiguously, then pads to exactly 4 dims. Null when more than 4 dims remain.
 */
export function collapse(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
): { shape: number[]; strides: number[][] } | null {
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
  const n = sizeOf(x.shape);
  if (code === undefined || x.dtype !== "float32" || n < WASM_MIN_ELEMENTS) return jsUnary(op, x);
  const c = collapse(x.shape, [x.strides]);
  if (c === null) return jsUnary(op, x);
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sx = stage(ar, x.data, c.shape, c.strides[0]!, x.offset);
  const out = ar.alloc(n * 4);
  const [s0, s1, s2, s3] = sx.strides as [number, number, number, number];
  const [n0, n1, n2, n3] = c.shape as [number, number, number, number];
  rt.kernels.unaryF32(code, n0, n1, n2, n3, sx.ptr, s0, s1, s2, s3, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}

export function binary(op: BinaryKernel, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  const code = BINARY[op];
  const n = sizeOf(shape);
  if (code === undefined || a.dtype !== "float32" || b.dtype !== "float32" || n < WASM_MIN_ELEMENTS) return jsBinary(op, a, b, shape);
  const c = collapse(shape, [a.strides, b.strides]);
  if (c === null) return jsBinary(op, a, b, shape);
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sa = stage(ar, a.data, c.shape, c.strides[0]!, a.offset);
  const sb = stage(ar, b.data, c.shape, c.strides[1]!, b.offset);
  const compare = code >= COMPARE_MIN;
  const out = ar.alloc(compare ? n : n * 4);
  const [n0, n1, n2, n3] = c.shape as [number, number, number, number];
  const [a0, a1, a2, a3] = sa.strides as [number, number, number, number];
  const [b0, b1, b2, b3] = sb.strides as [number, number, number, number];
  rt.kernels.binaryF32(code, n0, n1, n2, n3, sa.ptr, a0, a1, a2, a3, sb.ptr, b0, b1, b2, b3, out);
  return compare ? ar.u8.slice(out, out + n) : ar.f32.slice(out >> 2, (out >> 2) + n);
}

const COPY_SOURCE: Partial<Record<DType, number>> = { float32: 0, bool: 1, int32: 2 };

/** Copies to float32 (strided views made contiguous, bool and int32 converted) in wasm; other copies in js. */
export function copy(x: StridedView, dtype: DType): TypedArray {
  const type = COPY_SOURCE[x.dtype];
  const n = sizeOf(x.shape);
  if (dtype !== "float32" || type === undefined || n < WASM_MIN_ELEMENTS) return jsCopy(x, dtype);
  const c = collapse(x.shape, [x.strides]);
  // a dense float32 → float32 copy is one memcpy in js already
  if (c === null || (type === 0 && c.strides[0]![3] === 1 && c.shape[0]! * c.shape[1]! * c.shape[2]! === 1)) return jsCopy(x, dtype);
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sx = stage(ar, x.data, c.shape, c.strides[0]!, x.offset);
  const out = ar.alloc(n * 4);
  const [s0, s1, s2, s3] = sx.strides as [number, number, number, number];
  const [n0, n1, n2, n3] = c.shape as [number, number, number, number];
  rt.kernels.copyToF32(type, n0, n1, n2, n3, sx.ptr, s0, s1, s2, s3, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}

/** cond ? a : b for float32 a, b (bool cond), any broadcast; other dtypes in js. */
export function where(cond: StridedView, a: StridedView, b: StridedView, shape: readonly number[]): TypedArray {
  const n = sizeOf(shape);
  if (a.dtype !== "float32" || b.dtype !== "float32" || cond.dtype !== "bool" || n < WASM_MIN_ELEMENTS) return jsWhere(cond, a, b, shape);
  const c = collapse(shape, [cond.strides, a.strides, b.strides]);
  if (c === null) return jsWhere(cond, a, b, shape);
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sc = stage(ar, cond.data, c.shape, c.strides[0]!, cond.offset);
  const sa = stage(ar, a.data, c.shape, c.strides[1]!, a.offset);
  const sb = stage(ar, b.data, c.shape, c.strides[2]!, b.offset);
  const out = ar.alloc(n * 4);
  const [n0, n1, n2, n3] = c.shape as [number, number, number, number];
  const [c0, c1, c2, c3] = sc.strides as [number, number, number, number];
  const [a0, a1, a2, a3] = sa.strides as [number, number, number, number];
  const [b0, b1, b2, b3] = sb.strides as [number, number, number, number];
  rt.kernels.whereF32(n0, n1, n2, n3, sc.ptr, c0, c1, c2, c3, sa.ptr, a0, a1, a2, a3, sb.ptr, b0, b1, b2, b3, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}

/** The op code of assembly/elementwise.ts's relu gradient (a binary op writing float32). */
const RELU_GRAD = 12;

/** g · (y > 0 ? 1 : 0) for float32 views of one shape, in one wasm pass; else the js reference. */
export function reluBackward(g: StridedView, y: StridedView): TypedArray {
  const n = sizeOf(g.shape);
  if (g.dtype !== "float32" || y.dtype !== "float32" || n < WASM_MIN_ELEMENTS) return jsReluBackward(g, y);
  const c = collapse(g.shape, [g.strides, y.strides]);
  if (c === null) return jsReluBackward(g, y);
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const sg = stage(ar, g.data, c.shape, c.strides[0]!, g.offset);
  const sy = stage(ar, y.data, c.shape, c.strides[1]!, y.offset);
  const out = ar.alloc(n * 4);
  const [n0, n1, n2, n3] = c.shape as [number, number, number, number];
  const [a0, a1, a2, a3] = sg.strides as [number, number, number, number];
  const [b0, b1, b2, b3] = sy.strides as [number, number, number, number];
  rt.kernels.binaryF32(RELU_GRAD, n0, n1, n2, n3, sg.ptr, a0, a1, a2, a3, sy.ptr, b0, b1, b2, b3, out);
  return ar.f32.slice(out >> 2, (out >> 2) + n);
}

/**
 * Adam/AdamW on float32 arrays in wasm (assembly/elementwise.ts's adamF32: optim/adam.ts's float64
 * arithmetic, bit-identical). Arrays are staged (resident ones, the parameters, are updated in
 * place) and the written ones copied back. False (the js loop runs) for other dtypes and small arrays.
 */
export function adamStep(w: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, vMax: TypedArray | null, h: readonly number[]): boolean {
  const n = w.length;
  const f32 = (a: TypedArray | null) => a === null || (a instanceof Float32Array && a.length === n);
  if (!(w instanceof Float32Array) || !f32(g) || !f32(m) || !f32(v) || !f32(vMax) || n < WASM_MIN_ELEMENTS) return false;
  const rt = getRuntime();
  const ar = getArena();
  ar.reset();
  const hp = ar.alloc(72);
  ar.f64.set(h, hp >> 3);
  const put = (a: TypedArray) => stage(ar, a, [n], [1], 0).ptr;
  const pw = put(w);
  const pg = put(g);
  const pm = put(m);
  const pv = put(v);
  const px = vMax === null ? 0 : put(vMax);
  rt.kernels.adamF32(n, pw, pg, pm, pv, px, hp);
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
