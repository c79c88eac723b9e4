/**
 * @file Shared by the backend tests: random strided gemm operands and the environment for child
 * `node` runs.
 */
import type { StridedView } from "../src/backend/backend.ts";
import type { Generator } from "../src/index.ts";

/** n standard-normal float32 values drawn from `gen`. */
export function randomF32(gen: Generator, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = gen.normal();
  return a;
}

export interface ViewOptions {
  transposed?: boolean;
  offset?: number;
  broadcast?: boolean;
  negative?: boolean;
  /** Rows padded to this many extra elements (a narrowed view: row stride > row length). */
  pad?: number;
}

/** A [B, R, C] float32 view over fresh random storage from `gen`, laid out as `opts` says. */
export function gemmView(gen: Generator, B: number, R: number, C: number, opts: ViewOptions = {}): StridedView {
  const off = opts.offset ?? 0;
  const pad = opts.pad ?? 0;
  const batches = opts.broadcast ? 1 : B;
  const plane = opts.transposed ? C * (R + pad) : R * (C + pad);
  const data = randomF32(gen, off + batches * plane + 3);
  let strides = opts.transposed ? [plane, 1, R + pad] : [plane, C + pad, 1];
  if (opts.broadcast) strides = [0, strides[1]!, strides[2]!];
  let offset = off;
  if (opts.negative) {
    offset = off + (R - 1) * strides[1]!; // rows walked backwards from the last
    strides = [strides[0]!, -strides[1]!, strides[2]!];
  }
  return { data, dtype: "float32", shape: [B, R, C], strides, offset };
}

/** The environment for a child `node` run: without node:test's marker, which makes a nested `--test` skip its files. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}
