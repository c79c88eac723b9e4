/**
 * @file Loads the wasm kernel module (feature-detected variant), owns its memory, and stages
 * tensor data in and out of it.
 *
 * Variants (built by scripts/build-wasm.ts into ./build/): relaxed SIMD (fused multiply-add) or
 * plain SIMD, each with a shared memory (worker threads can run on it) or a private one (where
 * SharedArrayBuffer is unavailable). Node 20 validates relaxed-SIMD opcodes only after
 * `--experimental-wasm-relaxed-simd`, which is set at run time when needed (newer Node and
 * browsers have it on). `TG_WASM_VARIANT=simd` (or `relaxed`) forces a variant. A build that
 * lacks an export kernels.generated.ts declares (built from older sources) counts as missing.
 * Files and flags come from platform.ts (Node: read synchronously at import); in the browser bundle
 * platform.browser.ts fetches the module and `loadAsync` compiles it (`tg.backend.ready()`).
 *
 * Memory (layout: see Arena): tensors own ordinary typed arrays, with one exception: float32
 * nn.Parameters made while wasm is the active backend on a shared memory live in wasm memory
 * (`Arena.allocResident`, through the backend's `allocPersistent`): Float32Array views onto the
 * memory's SharedArrayBuffer, which `grow` never detaches (a private memory's would be), visible to
 * the worker threads. `stage` recognises such a view (its `.buffer` is one of the memory's buffer
 * objects) and passes its address to the kernel, so a batch-1 `x · Wᵀ` reads W where it lies.
 * Every other input span is copied into a scratch arena (reset at every call: calls are
 * synchronous and never nest), and each result is copied out into a typed array of its own (storage
 * backward has finished with, ../output-pool.ts, else a fresh one). The copies
 * are memcpys (~0.1–0.3 ns per element), small next to gemm, except where a big operand meets a
 * small product (batch-1 inference: hence resident parameters). The arena grows to the largest
 * call's need and stays (wasm memory cannot shrink), so a training loop keeps a flat wasm memory.
 * A resident block is freed by a FinalizationRegistry when its array is collected; parameters live
 * as long as their module, and beyond RESIDENT_CAP_BYTES new ones get ordinary arrays. To other code
 * a resident array is an ordinary Float32Array, except that structuredClone / postMessage of it
 * share the memory (SharedArrayBuffer semantics; `slice()` copies), so such a copy, like a
 * `subarray`, must not outlive the parameter: its block is reused once the parameter's array is
 * collected. Activations and gradients are not kept in wasm memory: freeing them needs to know
 * when a tensor died, and a synchronous training loop never yields to the event loop, so
 * FinalizationRegistry callbacks never run in it. What the engine knows is dead (gradients backward
 * is done with, unread parameter gradients at zeroGrad) goes back to ../output-pool.ts, whose
 * arrays copy-out reuses: fewer fresh multi-MB outputs (page faults, and external memory that
 * starts V8's full GCs, whose helper threads take the worker threads' cores).
 */
import { issueF32, takeF32 } from "../output-pool.ts";
import { KERNEL_NAMES, type KernelExports } from "./kernels.generated.ts";
import { enableRelaxedSimd, envVar, fetchKernel, readKernel, SYNC_LOAD } from "./platform.ts";
import type {} from "./webassembly-types.ts";

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
  const forced = envVar("TG_WASM_VARIANT");
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
  return enableRelaxedSimd() && WebAssembly.validate(bytes);
}

interface Found {
  module: WebAssembly.Module;
  c: Candidate;
}

let found: Found | null | undefined;
let whyNot = "";

/** Whether a variant's bytes (or the reason there are none) can run here; records why not in `tried`. */
function usable(c: Candidate, bytes: Uint8Array | string, tried: string[]): bytes is Uint8Array {
  if (typeof bytes === "string") tried.push(bytes);
  else if (!validates(bytes, c)) tried.push(`${c.file} not supported here`);
  else return true;
  return false;
}

/**
 * Whether the compiled module has every export kernels.generated.ts declares (a build from older
 * sources lacks some, and is then treated as missing); records why not in `tried`.
 */
function complete(c: Candidate, module: WebAssembly.Module, tried: string[]): boolean {
  const names = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = KERNEL_NAMES.filter((e) => !names.has(e));
  if (missing.length > 0) tried.push(`${c.file} is stale (lacks ${missing.join(", ")})`);
  return missing.length === 0;
}

function noVariant(tried: string[]): string {
  return tried.length === 0 ? "no variant matches TG_WASM_VARIANT" : `${tried.join("; ")} (build with \`npm run build:wasm\`)`;
}

/**
 * Finds the best variant this runtime validates and compiles it (milliseconds: the module is a
 * few KiB). Synchronous where the platform reads files (Node); in a browser `loadAsync` does it.
 */
function probe(): Found | null {
  if (found !== undefined) return found;
  if (typeof WebAssembly === "undefined") {
    whyNot = "WebAssembly is not available";
    found = null;
    return null;
  }
  if (!SYNC_LOAD) {
    whyNot = "the kernels are not loaded yet: in a browser, call `await tg.backend.ready()` first";
    return null;
  }
  found = null;
  const tried: string[] = [];
  for (const c of candidates()) {
    const bytes = readKernel(c.file);
    if (!usable(c, bytes, tried)) continue;
    const module = new WebAssembly.Module(bytes);
    if (!complete(c, module, tried)) continue;
    found = { module, c };
    return found;
  }
  whyNot = noVariant(tried);
  return null;
}

let loading: Promise<boolean> | null = null;

/**
 * Loads the kernels where that cannot be synchronous (a browser: `tg.backend.ready()` calls it):
 * fetches the best variant from `base` (default: beside the bundle), compiles and instantiates
 * it asynchronously (browsers refuse large synchronous compiles on the main thread). In Node the
 * synchronous probe has run already. Resolves to whether the backend can run; never rejects.
 */
export function loadAsync(base?: string | URL): Promise<boolean> {
  if (SYNC_LOAD || typeof WebAssembly === "undefined" || found !== undefined) return Promise.resolve(probe() !== null);
  loading ??= (async () => {
    const tried: string[] = [];
    try {
      for (const c of candidates()) {
        const bytes = await fetchKernel(c.file, base);
        if (!usable(c, bytes, tried)) continue;
        const module = await WebAssembly.compile(bytes);
        if (!complete(c, module, tried)) continue;
        const memory = newMemory(c);
        runtime = makeRuntime(module, memory, await WebAssembly.instantiate(module, { env: { memory } }), c);
        found = { module, c };
        return true;
      }
    } catch (e) {
      tried.push(`loading failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    found = null;
    whyNot = noVariant(tried);
    return false;
  })();
  return loading;
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
  const memory = newMemory(p.c);
  runtime = makeRuntime(p.module, memory, new WebAssembly.Instance(p.module, { env: { memory } }), p.c);
  return runtime;
}

function newMemory(c: Candidate): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: 32, maximum: 65536, shared: c.shared });
}

function makeRuntime(module: WebAssembly.Module, memory: WebAssembly.Memory, instance: WebAssembly.Instance, c: Candidate): WasmRuntime {
  return { module, memory, kernels: instance.exports as unknown as KernelExports, simd: c.simd, shared: c.shared, file: c.file };
}

/** Resident storage stops growing here (later requests get ordinary arrays): wasm memory never shrinks. */
export const RESIDENT_CAP_BYTES = 512 * 1024 * 1024;

/**
 * Wasm memory: [page 0: the thread pool's control block][resident blocks and free holes][the
 * scratch arena, from `base` to the end of memory]. The arena is reset at the start of every
 * kernel call (`reset()`, then `alloc` and stage). Resident blocks (`allocResident`) take the
 * first free hole that fits or move `base` up; that happens only between kernel calls, which are
 * synchronous and never nest, so the arena is never in use then. Views of memory are refreshed
 * whenever the memory grew.
 */
export class Arena {
  /** Where the arena starts: everything below is the control block and resident blocks. */
  private base = ARENA_BASE;
  private top = ARENA_BASE;
  /** Free holes among the resident blocks, sorted by address, never adjacent (coalesced), none ending at `base`. */
  private readonly holes: { ptr: number; bytes: number }[] = [];
  /** Bytes of resident blocks in use. */
  residentBytes = 0;
  /** Every generation of the memory's buffer (a shared memory's `buffer` is a new object after each grow). */
  private readonly generations = new WeakSet<ArrayBufferLike>();
  private readonly registry = new FinalizationRegistry<{ ptr: number; bytes: number }>((b) => this.freeResident(b.ptr, b.bytes));
  private buffer!: ArrayBufferLike;
  f32!: Float32Array;
  f64!: Float64Array;
  i32!: Int32Array;
  u8!: Uint8Array;

  constructor(private readonly memory: WebAssembly.Memory) {
    this.refresh();
  }

  /** Starts a kernel call's scratch (`getArena().reset()`). */
  reset(): this {
    this.top = this.base;
    this.refresh();
    return this;
  }

  /** `bytes` of scratch, 64-byte aligned (a cache line). */
  alloc(bytes: number): number {
    const ptr = this.top;
    this.top = (ptr + bytes + 63) & ~63;
    this.ensure(this.top);
    return ptr;
  }

  /** Grows memory (geometrically, so a sequence of slightly larger calls does not grow every time) to hold `end` bytes. */
  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, have / PAGE / 4) | 0;
    try {
      this.memory.grow(pages);
    } catch {
      this.memory.grow(need);
    }
    this.refresh();
  }

  /**
   * A zeroed float32 array of `n` elements that lives in wasm memory (kernels read it in place:
   * `stage` passes its address), or null beyond RESIDENT_CAP_BYTES or when the memory is not
   * shared (growing a private memory detaches every view of it). Its block is freed when the
   * array is garbage-collected. Call only between kernel calls.
   */
  allocResident(n: number): Float32Array | null {
    if (typeof SharedArrayBuffer === "undefined" || !(this.memory.buffer instanceof SharedArrayBuffer)) return null;
    const bytes = (n * 4 + 63) & ~63;
    if (bytes === 0 || this.residentBytes + bytes > RESIDENT_CAP_BYTES) return null;
    let ptr = -1;
    const i = this.holes.findIndex((h) => h.bytes >= bytes);
    if (i >= 0) {
      const h = this.holes[i]!;
      ptr = h.ptr;
      if (h.bytes === bytes) this.holes.splice(i, 1);
      else {
        h.ptr += bytes;
        h.bytes -= bytes;
      }
    } else {
      ptr = this.base;
      this.ensure(ptr + bytes);
      this.base = ptr + bytes;
      this.top = this.base;
    }
    this.residentBytes += bytes;
    this.refresh();
    const view = new Float32Array(this.buffer, ptr, n);
    view.fill(0); // a reused hole holds old data
    this.registry.register(view, { ptr, bytes }, view);
    return view;
  }

  /** @internal Frees a resident array now (its owner must never touch it again); tests use it. */
  releaseResident(view: Float32Array): void {
    if (this.registry.unregister(view)) this.freeResident(view.byteOffset, (view.length * 4 + 63) & ~63);
  }

  /** Returns a resident block: into the hole list (coalesced), or back to the arena when it is the last block. */
  private freeResident(ptr: number, bytes: number): void {
    this.residentBytes -= bytes;
    let i = 0;
    while (i < this.holes.length && this.holes[i]!.ptr < ptr) i++;
    const prev = i > 0 ? this.holes[i - 1]! : null;
    const next = i < this.holes.length ? this.holes[i]! : null;
    let hole: { ptr: number; bytes: number };
    if (prev !== null && prev.ptr + prev.bytes === ptr) {
      prev.bytes += bytes;
      hole = prev;
      i--;
    } else {
      hole = { ptr, bytes };
      this.holes.splice(i, 0, hole);
    }
    if (next !== null && hole.ptr + hole.bytes === next.ptr) {
      hole.bytes += next.bytes;
      this.holes.splice(i + 1, 1);
    }
    if (hole.ptr + hole.bytes === this.base) {
      this.holes.splice(i, 1);
      this.base = hole.ptr;
      this.top = this.base;
    }
  }

  /** Whether `data` is a view of wasm memory (a resident array, or any view of one). */
  isResident(data: ArrayBufferView): boolean {
    return this.generations.has(data.buffer);
  }

  /** Makes the views (at construction, and after the memory grew). */
  private refresh(): void {
    const b = this.memory.buffer;
    if (b === this.buffer && b.byteLength === this.f32.byteLength) return;
    this.buffer = b;
    this.generations.add(b);
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
  const bpe = data.BYTES_PER_ELEMENT;
  // resident storage is read in place (kernels never write their inputs)
  if (ar.isResident(data)) return { ptr: data.byteOffset + offset * bpe, strides: [...strides] };
  let lo = offset;
  let hi = offset;
  for (let d = 0; d < shape.length; d++) {
    const ext = (shape[d]! - 1) * strides[d]!;
    if (ext < 0) lo += ext;
    else hi += ext;
  }
  const ptr = ar.alloc((hi - lo + 1) * bpe);
  if (bpe === 4 && data instanceof Float32Array) ar.f32.set(data.subarray(lo, hi + 1), ptr >> 2);
  else ar.u8.set(new Uint8Array(data.buffer, data.byteOffset + lo * bpe, (hi - lo + 1) * bpe), ptr);
  return { ptr: ptr + (offset - lo) * bpe, strides: [...strides] };
}

/** Node's `Buffer.allocUnsafeSlow` (its own ArrayBuffer, offset 0, exact length, not zero-filled); absent in browsers. */
const allocUnsafe = (globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => { buffer: ArrayBufferLike; byteOffset: number } } }).Buffer
  ?.allocUnsafeSlow;

/**
 * A kernel's float32 result copied out of the arena into an array of its own: one that backward
 * has finished with (../output-pool.ts), else a fresh one. Large fresh ones get uninitialised
 * storage where the platform has it: the zero fill a plain `new Float32Array` does first is wasted
 * work on a multi-MB output (~20 % of a fresh 7 MB copy-out, most of the rest being page faults).
 */
export function copyOutF32(ar: Arena, ptr: number, n: number): Float32Array {
  const src = ar.f32.subarray(ptr >> 2, (ptr >> 2) + n);
  const reused = takeF32(n);
  if (reused !== null) {
    reused.set(src);
    return issueF32(reused);
  }
  if (allocUnsafe === undefined || n < 16384) return issueF32(src.slice());
  const b = allocUnsafe(n * 4);
  const out = new Float32Array(b.buffer, b.byteOffset, n);
  out.set(src);
  return issueF32(out);
}

/** The typed arrays tensors store. */
export type TypedArrayLike = Float32Array | Float64Array | Int32Array | Uint8Array;
