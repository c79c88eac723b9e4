/**
 * @file The backends the conformance suite runs on: every backend the registry lists
 * (`tg.backend.list()`: js, wasm where its build loads, native where its addon is built, and any
 * backend registered before this module loads), each at its thread counts and in each of its
 * selectable kernel variants. A new backend passes the suite by registering itself; the tables
 * below only add what the registry cannot say (threads, variants, declared tolerances).
 */
import type { Backend } from "../../src/backend/backend.ts";
import type { FusedOp } from "../../src/backend/fused.ts";
import { poisonNativeOutputs } from "../../src/backend/native/alloc.ts";
import { nativeAddon } from "../../src/backend/native/index.ts";
import { kernels } from "../../src/backend/registry.ts";
import * as tg from "../../src/index.ts";

/** One backend under test. */
export interface Target {
  readonly name: string;
  readonly backend: Backend;
  /** Thread counts every case runs at (`tg.backend.setThreads`); later counts must give the first one's bits. */
  readonly threads: readonly number[];
  /** Kernel variants the gemm cases run in (e.g. native's micro-kernels); [null] when the backend has none to select. */
  readonly variants: readonly (string | null)[];
  /** Selects a variant (null: the default), returning the function that restores the previous one. */
  selectVariant(v: string | null): () => void;
  /**
   * Fused ops whose kernel sums in its own order on this backend: checked within the op's stated
   * float32 tolerance against the composition instead of bit for bit, with the reason.
   */
  readonly inexact: { readonly [K in FusedOp]?: string };
}

/** Threads per backend: the multi-threaded ones at 1, 2 and 3 (one more than CI's cores); the rest at 1. */
const THREADS: Record<string, readonly number[]> = { wasm: [1, 2, 3], native: [1, 2, 3] };

/** Selectable kernel variants per backend. */
const VARIANTS: Record<string, { list(): string[]; select(v: string): () => void }> = {
  native: {
    list: () => nativeAddon()?.kernels() ?? [],
    select(v) {
      const addon = nativeAddon()!;
      const before = addon.kernelName();
      if (!addon.setKernel(v)) throw new Error(`native: cannot select micro-kernel ${v}`);
      return () => addon.setKernel(before);
    },
  },
};

const SUMMED_IN_BLOCKS = "the native conv kernels sum each window in blocks of output positions, not in the composition's gemm order";
const FLOAT64_DW = "dW is summed over the batch in float64 (the composition sums float32 products per sample)";

/** Declared tolerances per backend (everything else is bit for bit). */
const INEXACT: Record<string, Target["inexact"]> = {
  wasm: { conv2dBackwardWeight: FLOAT64_DW },
  native: { conv2d: SUMMED_IN_BLOCKS, conv2dBackwardInput: SUMMED_IN_BLOCKS, conv2dBackwardWeight: SUMMED_IN_BLOCKS },
};

// native kernel outputs are uninitialised memory: NaN-fill them so an element a kernel skips fails a comparison
poisonNativeOutputs(true);

/** The backend object registered under `name`. */
function backendNamed(name: string): Backend {
  const before = tg.backend.current();
  tg.backend.use(name);
  try {
    return kernels();
  } finally {
    tg.backend.use(before);
  }
}

/** Every registered backend as a conformance target, js (the reference) first. */
export const TARGETS: readonly Target[] = tg.backend.list().map((name) => {
  const v = VARIANTS[name];
  return {
    name,
    backend: backendNamed(name),
    threads: THREADS[name] ?? [1],
    variants: v === undefined || v.list().length === 0 ? [null] : v.list(),
    selectVariant: (k: string | null) => (k === null || v === undefined ? () => {} : v.select(k)),
    inexact: INEXACT[name] ?? {},
  };
});

/** The targets other than the js reference (the primitives' reference is js itself). */
export const FAST_TARGETS: readonly Target[] = TARGETS.filter((t) => t.name !== "js");

/** Runs `body` with `t` the active backend at `threads` threads, restoring both after. */
export function onTarget<T>(t: Target, threads: number, body: () => T): T {
  const backend = tg.backend.current();
  const before = tg.backend.threads();
  tg.backend.use(t.name);
  tg.backend.setThreads(threads);
  try {
    return body();
  } finally {
    tg.backend.setThreads(before);
    tg.backend.use(backend);
  }
}

/** Why `t` has no kernel for fused op `op` (a test's skip reason), or false where it has one. */
export function lacks(t: Target, op: FusedOp): string | false {
  return t.backend.fused?.[op] === undefined ? `${t.name} has no ${op} kernel` : false;
}
