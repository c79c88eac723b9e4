/** @file The backend registry: which backends exist and which one new tensors use. */
import type { Backend } from "./backend.ts";
import { jsBackend } from "./js/index.ts";
import { getThreads as nativeThreads, setThreads as setNativeThreads, loadNativeBackend, nativeUnavailableReason } from "./native/index.ts";
import {
  loadWasmBackend,
  loadWasmBackendAsync,
  readyWorkers,
  getThreads as wasmThreads,
  setThreads as setWasmThreads,
  wasmUnavailableReason,
} from "./wasm/index.ts";

/**
 * The output pool belongs to the backends; the autograd engine and tensors hand storage back
 * through these (see output-pool.ts for when that is safe).
 */
export { outputPoolingEnabled, outputSerial, recycle } from "./output-pool.ts";

const backends = new Map<string, Backend>([["js", jsBackend]]);
let active: Backend = jsBackend;
/** Whether the program chose a backend (`use`, TG_BACKEND): `ready()` then leaves the choice alone. */
let chosen = false;
// wasm is registered when its build exists and this runtime validates it, native when its optional
// addon was built and loads here; each is then the default, native ahead of wasm in Node: the whole
// test suite passes on either (float32 matmul to float tolerance, the rest bit-identical or the js
// kernels); info() says why one is missing where it is
for (const b of [loadWasmBackend(), loadNativeBackend()]) {
  if (b === null) continue;
  backends.set(b.name, b);
  active = b;
}
// TG_BACKEND=wasm runs a whole program (or the test suite) on another backend
const fromEnv = typeof process !== "undefined" ? process.env.TG_BACKEND : undefined;
if (fromEnv !== undefined && fromEnv !== "") {
  const b = backends.get(fromEnv);
  if (b === undefined) throw new Error(`TG_BACKEND=${fromEnv}: unknown backend (available: ${[...backends.keys()].join(", ")})`);
  active = b;
  chosen = true;
}

/** Options of `ready()`. */
export interface ReadyOptions {
  /** The folder (URL) holding the `kernels-*.wasm` files, when they are not beside the browser bundle. */
  wasmUrl?: string | URL;
}

let readying: Promise<void> | null = null;

/**
 * Finishes loading the backends that cannot load synchronously. In Node everything loads at
 * import, so it resolves at once. In a browser, call it once before training: it fetches and
 * compiles the wasm kernels and, on a cross-origin-isolated page, starts the Web Worker pool;
 * then wasm becomes the active backend unless `use()` chose one. Until then ops run on js. It
 * never rejects: where wasm cannot run, `info()` says why.
 * @example await tg.backend.ready(); tg.backend.current(); // "wasm" where the browser supports it
 */
export function ready(opts: ReadyOptions = {}): Promise<void> {
  readying ??= (async () => {
    if (backends.has("wasm")) return;
    const w = await loadWasmBackendAsync(opts.wasmUrl);
    if (w === null) return;
    backends.set(w.name, w);
    if (!chosen && active === jsBackend) active = w;
  })();
  return readying;
}

/** Makes a backend available to `use` (later backends: wasm, native). */
export function register(b: Backend): void {
  backends.set(b.name, b);
}

/** Names of the available backends, e.g. `["js"]`. */
export function list(): string[] {
  return [...backends.keys()];
}

/** Selects the backend every following op runs on. */
export function use(name: string): void {
  const b = backends.get(name);
  if (b === undefined) throw new Error(`backend.use: unknown backend "${name}" (available: ${list().join(", ")})`);
  active = b;
  chosen = true;
}

/** The name of the backend ops run on now. */
export function current(): string {
  return active.name;
}

/** The active backend's kernels (internal). */
export function kernels(): Backend {
  return active;
}

/** What `info()` reports for one backend. */
export interface BackendInfo {
  name: string;
  /** Whether `use(name)` works here. */
  available: boolean;
  /** Why it is unavailable (null when available). */
  reason: string | null;
  /** Whether ops run on it now. */
  active: boolean;
}

/**
 * Every backend tensorgrad knows (js, wasm, native, and any registered), whether it can run here
 * and, when not, why (e.g. the native addon was not built because no C++ compiler was found).
 * @example tg.backend.info().find((b) => b.name === "native")?.reason
 */
export function info(): BackendInfo[] {
  const reasons: Record<string, () => string> = { wasm: wasmUnavailableReason, native: nativeUnavailableReason };
  const names = [...new Set(["js", "wasm", "native", ...backends.keys()])];
  return names.map((name) => {
    const available = backends.has(name);
    const why = available ? "" : (reasons[name]?.() ?? "");
    return { name, available, reason: available ? null : why !== "" ? why : "not registered", active: active.name === name };
  });
}

/**
 * Sets how many threads the multi-threaded backends (wasm, native) use, the calling thread
 * included (default: the number of cores, or `TG_THREADS`); the js backend is single-threaded.
 * @example tg.backend.setThreads(1); // deterministic timing, no workers
 */
export function setThreads(n: number): void {
  setWasmThreads(n);
  setNativeThreads(n);
}

/**
 * The thread count of the active backend's kernels (the calling thread included); for js, the
 * count wasm would use.
 * @example tg.backend.threads(); // 2 on a 2-core machine
 */
export function threads(): number {
  return active.name === "native" ? nativeThreads() : wasmThreads();
}

/**
 * How many worker threads the wasm backend's pool has running now (0 before its first large gemm
 * in Node, or where its memory cannot be shared); a diagnostic, e.g. that a browser page is
 * cross-origin isolated enough for threads.
 * @example await tg.backend.ready(); tg.backend.wasmWorkers(); // 3 on a 4-core isolated page
 */
export function wasmWorkers(): number {
  return readyWorkers();
}
