/**
 * @file Loads the wasm kernel module (feature-detected variant), owns its memory, and stages
 * tensor data in and out of it.
 *
 * Variants (built by scripts/build-wasm.ts into ./build/): relaxed SIMD (fused multiply-add) or
 * plain SIMD, each with a shared memory (worker threads can run on it) or a private one (where
 * SharedArrayBuffer is unavailable). Node 20 validates relaxed-SIMD opcodes only after
 * `--experimental-wasm-relaxed-simd`, which is set at run time when needed (newer Node and
 * browsers have it on). `TG_WASM_VARIANT=simd` (or `relaxed`) forces a variant. A build that
 * lacks an export this file calls (built from older sources) counts as missing.
 *
 * Memory: tensors keep owning ordinary typed arrays; a kernel call copies the spans of storage
 * it reads into a scratch arena in wasm memory (reset at every call: calls are synchronous and
 * never nest), runs, and copies the result out into a fresh typed array. The copies are memcpys
 * (~0.1–0.3 ns per element), small next to gemm and to the js loops they replace. The arena
 * grows to the largest call's need and stays (wasm memory cannot shrink), so a training loop
 * keeps a flat wasm memory. Not yet done: tensors whose storage lives in wasm memory would
 * save the copies and, more importantly, the cost of every fresh multi-MB output array (page
 * faults when the allocator has returned freed blocks to the OS: ~0.3–2 µs per 4 KiB page on
 * these VMs, as much as an elementwise kernel). Freeing such storage needs to know when a
 * tensor died, and a synchronous training loop never yields to the event loop, so
 * FinalizationRegistry callbacks never run in it, and WeakRef.deref() keeps its target alive
 * until the loop ends; that design needs an explicit release point (e.g. the optimizer step or
 * the end of backward) or pressure-triggered fallbacks first.
 */
import { existsSync, readFileSync } from "node:fs";
import * as v8 from "node:v8";
import type {} from "./webassembly-types.ts";

/** The kernel module's exports (byte addresses and element strides; see assembly/*.ts). */
export interface KernelExports {
  sgemm(
    M: number,
    N: number,
    K: number,
    a: number,
    sam: number,
    sak: number,
    b: number,
    sbk: number,
    sbn: number,
    c: number,
    ldc: number,
    ws: number,
  ): void;
  sgemmBatched(
    batch: number,
    M: number,
    N: number,
    K: number,
    a: number,
    sab: number,
    sam: number,
    sak: number,
    b: number,
    sbb: number,
    sbk: number,
    sbn: number,
    c: number,
    scb: number,
    ldc: number,
    ws: number,
  ): void;
  sgemmWorkspaceBytes(): number;
  unaryF32(
    op: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    x: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    out: number,
  ): void;
  binaryF32(
    op: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    a: number,
    sa0: number,
    sa1: number,
    sa2: number,
    sa3: number,
    b: number,
    sb0: number,
    sb1: number,
    sb2: number,
    sb3: number,
    out: number,
  ): void;
  copyToF32(
    type: number,
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    x: number,
    s0: number,
    s1: number,
    s2: number,
    s3: number,
    out: number,
  ): void;
  whereF32(
    n0: number,
    n1: number,
    n2: number,
    n3: number,
    c: number,
    sc0: number,
    sc1: number,
    sc2: number,
    sc3: number,
    a: number,
    sa0: number,
    sa1: number,
    sa2: number,
    sa3: number,
    b: number,
    sb0: number,
    sb1: number,
    sb2: number,
    sb3: number,
    out: number,
  ): void;
  reduceF32(
    op: number,
    nk0: number,
    nk1: number,
    sk0: number,
    sk1: number,
    nr0: number,
    nr1: number,
    sr0: number,
    sr1: number,
    x: number,
    out: number,
  ): void;
  im2colF32(
    N: number,
    C: number,
    H: number,
    W: number,
    sn: number,
    sc: number,
    sh: number,
    sw: number,
    x: number,
    geo: number,
    out: number,
  ): void;
  col2imF32(N: number, C: number, H: number, W: number, sn: number, sr: number, sl: number, cols: number, geo: number, out: number): void;
  maxPool2dF32(
    N: number,
    C: number,
    H: number,
    W: number,
    sn: number,
    sc: number,
    sh: number,
    sw: number,
    x: number,
    geo: number,
    values: number,
    indices: number,
  ): void;
  maxPool2dBackwardF32(
    N: number,
    C: number,
    Ho: number,
    Wo: number,
    H: number,
    W: number,
    g: number,
    gn: number,
    gc: number,
    gh: number,
    gw: number,
    indices: number,
    in_: number,
    ic: number,
    ih: number,
    iw: number,
    out: number,
  ): void;
}

export interface WasmRuntime {
  readonly module: WebAssembly.Module;
  readonly memory: WebAssembly.Memory;
  readonly kernels: KernelExports;
  /** "relaxed-simd" (fused multiply-add) or "simd". */
  readonly simd: "relaxed-simd" | "simd";
  /** Whether the memory is shared (worker threads possible). */
  readonly shared: boolean;
  readonly file: string;
}

const BUILD = new URL("./build/", import.meta.url);
const PAGE = 65536;
/** The first bytes of memory hold the thread pool's control block; the arena starts after them. */
export const ARENA_BASE = PAGE;

interface Candidate {
  file: string;
  simd: "relaxed-simd" | "simd";
  shared: boolean;
}

function candidates(): Candidate[] {
  const canShare = typeof SharedArrayBuffer !== "undefined";
  const forced = process.env.TG_WASM_VARIANT;
  const out: Candidate[] = [];
  for (const simd of ["relaxed-simd", "simd"] as const) {
    if (forced !== undefined && forced !== "" && !simd.startsWith(forced)) continue;
    const stem = simd === "relaxed-simd" ? "kernels-relaxed" : "kernels-simd";
    if (canShare) out.push({ file: `${stem}-shared.wasm`, simd, shared: true });
    out.push({ file: `${stem}.wasm`, simd, shared: false });
  }
  return out;
}

let relaxedFlagSet = false;

/** Validates `bytes`; on failure for a relaxed-SIMD build in Node, turns relaxed SIMD on once and retries. */
function validates(bytes: Uint8Array, c: Candidate): boolean {
  if (WebAssembly.validate(bytes)) return true;
  if (c.simd !== "relaxed-simd" || relaxedFlagSet) return false;
  relaxedFlagSet = true;
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false;
  }
  return WebAssembly.validate(bytes);
}

/** Exports this JS side calls: a build from older sources lacks some, and is then treated as missing. */
const REQUIRED_EXPORTS = [
  "sgemm",
  "sgemmBatched",
  "sgemmWorkspaceBytes",
  "unaryF32",
  "binaryF32",
  "copyToF32",
  "whereF32",
  "reduceF32",
  "im2colF32",
  "col2imF32",
  "maxPool2dF32",
  "maxPool2dBackwardF32",
];

let found: { module: WebAssembly.Module; c: Candidate } | null | undefined;
let whyNot = "";

/** Finds the best variant this runtime validates and compiles it (milliseconds: the module is a few KiB). */
function probe(): { module: WebAssembly.Module; c: Candidate } | null {
  if (found !== undefined) return found;
  found = null;
  if (typeof WebAssembly === "undefined") {
    whyNot = "WebAssembly is not available";
    return null;
  }
  const tried: string[] = [];
  for (const c of candidates()) {
    const url = new URL(c.file, BUILD);
    if (!existsSync(url)) {
      tried.push(`${c.file} missing`);
      continue;
    }
    const bytes = readFileSync(url);
    if (!validates(bytes, c)) {
      tried.push(`${c.file} not supported here`);
      continue;
    }
    const module = new WebAssembly.Module(bytes);
    const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
    const missing = REQUIRED_EXPORTS.filter((e) => !names.has(e));
    if (missing.length > 0) {
      tried.push(`${c.file} is stale (lacks ${missing.join(", ")})`);
      continue;
    }
    found = { module, c };
    return found;
  }
  whyNot = tried.length === 0 ? "no variant matches TG_WASM_VARIANT" : `${tried.join("; ")} (build with \`npm run build:wasm\`)`;
  return null;
}

/** Whether the wasm backend can run here; `wasmUnavailableReason()` says why not. */
export function wasmAvailable(): boolean {
  return probe() !== null;
}

export function wasmUnavailableReason(): string {
  probe();
  return whyNot;
}

let runtime: WasmRuntime | null = null;

/** Compiles and instantiates the module on first use. */
export function getRuntime(): WasmRuntime {
  if (runtime !== null) return runtime;
  const p = probe();
  if (p === null) throw new Error(`wasm backend: unavailable (${whyNot})`);
  const module = p.module;
  const memory = new WebAssembly.Memory({
    initial: 32,
    maximum: 65536,
    shared: p.c.shared,
  });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  runtime = {
    module,
    memory,
    kernels: instance.exports as unknown as KernelExports,
    simd: p.c.simd,
    shared: p.c.shared,
    file: p.c.file,
  };
  return runtime;
}

/**
 * The per-call scratch arena: `reset()` at the start of a kernel call, then `alloc` and stage.
 * Views of memory are refreshed whenever the memory grew.
 */
export class Arena {
  private top = ARENA_BASE;
  private buffer: ArrayBufferLike;
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  u8: Uint8Array;

  constructor(private readonly memory: WebAssembly.Memory) {
    this.buffer = memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.i32 = new Int32Array(this.buffer);
    this.u8 = new Uint8Array(this.buffer);
  }

  reset(): void {
    this.top = ARENA_BASE;
    this.refresh();
  }

  /** `bytes` of scratch, 64-byte aligned (a cache line). */
  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = (ptr + bytes + 63) & ~63;
    if (this.top > this.memory.buffer.byteLength) {
      const need = Math.ceil((this.top - this.memory.buffer.byteLength) / PAGE);
      // grow geometrically so a sequence of slightly larger calls does not grow every time
      const pages = Math.max(need, this.memory.buffer.byteLength / PAGE / 4) | 0;
      try {
        this.memory.grow(pages);
      } catch {
        this.memory.grow(need);
      }
      this.refresh();
    }
    return ptr;
  }

  private refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buffer && b.byteLength === this.f32.byteLength) return;
    this.buffer = b;
    this.f32 = new Float32Array(b);
    this.f64 = new Float64Array(b);
    this.i32 = new Int32Array(b);
    this.u8 = new Uint8Array(b);
  }
}

let arena: Arena | null = null;

export function getArena(): Arena {
  if (arena === null) arena = new Arena(getRuntime().memory);
  return arena;
}

/** Where a staged strided view lives in wasm memory: the byte address of its element 0 and its strides. */
export interface Staged {
  ptr: number;
  strides: number[];
}

/**
 * Copies the storage span a view reads (from its lowest to its highest reachable element) into
 * the arena with one memcpy and returns the byte address its element 0 landed at; strides stay
 * in elements (they are relative to the span).
 */
export function stage(ar: Arena, data: TypedArrayLike, shape: readonly number[], strides: readonly number[], offset: number): Staged {
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const ext = (shape[d]! - 1) * strides[d]!;
    if (ext < 0) lo += ext;
    else hi += ext;
  }
  const bpe = data.BYTES_PER_ELEMENT;
  const ptr = ar.alloc((hi - lo + 1) * bpe);
  if (bpe === 4 && data instanceof Float32Array) ar.f32.set(data.subarray(lo, hi + 1), ptr >> 2);
  else ar.u8.set(new Uint8Array(data.buffer, data.byteOffset + lo * bpe, (hi - lo + 1) * bpe), ptr);
  return { ptr: ptr + (offset - lo) * bpe, strides: [...strides] };
}

/** The typed arrays tensors store. */
export type TypedArrayLike = Float32Array | Float64Array | Int32Array | Uint8Array;

/** `stage` for float32 storage (matmul's operands). */
export function stageF32(ar: Arena, data: Float32Array, shape: readonly number[], strides: readonly number[], offset: number): Staged {
  return stage(ar, data, shape, strides, offset);
}
