/**
 * @file The wasm backend's browser side (scripts/build-browser.ts swaps it in for platform.ts):
 * the kernel module is fetched and compiled asynchronously by `await tg.backend.ready()` (from
 * the bundle's folder, or `ready({ wasmUrl })`), and the thread pool is Web Workers on the shared
 * WebAssembly.Memory, which browsers allow only on cross-origin-isolated pages (COOP/COEP).
 *
 * Browsers forbid `Atomics.wait` on a page's main thread, and start a new Worker only once the
 * creating thread yields to its event loop. So workers start during `ready()` (later ones when the
 * page next yields) and join gemms once they are up; a gemm on the main thread takes tasks like
 * every worker and then spin-waits (Atomics.load) for the last of them, which costs at most one
 * task's time; inside a Worker it blocks in `Atomics.wait` as in Node.
 */
import type { PoolWorker, WorkerData } from "./platform.ts";

export type { PoolWorker, WorkerData } from "./platform.ts";

export const SYNC_LOAD = false;
export const BLOCKING_START = false;
/** True inside a (dedicated) Worker, false on a page's main thread. */
export const CAN_WAIT = typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";

/** What this file needs of the DOM's globals (the project compiles without the DOM typings). */
interface BrowserGlobals {
  navigator?: { hardwareConcurrency?: number };
  Blob: new (parts: string[], opts: { type: string }) => object;
  URL: { createObjectURL(blob: object): string };
  Worker: new (url: string) => { postMessage(data: unknown): void; terminate(): void; onerror: (() => void) | null };
}
const web = globalThis as unknown as BrowserGlobals;

export function envVar(_name: string): string | undefined {
  return undefined;
}

export function hardwareThreads(): number {
  return Math.max(1, web.navigator?.hardwareConcurrency ?? 1);
}

/** Nothing loads synchronously in a browser. */
export function readKernel(_file: string): Uint8Array | string {
  return "not loaded yet: in a browser call `await tg.backend.ready()` first";
}

/** Fetches a kernel module from `base` (default: the bundle's folder), or says why it could not. */
export async function fetchKernel(file: string, base: string | URL = new URL("./", import.meta.url)): Promise<Uint8Array | string> {
  const url = new URL(file, new URL(base, import.meta.url));
  try {
    const res = await fetch(url);
    if (!res.ok) return `${url} → HTTP ${res.status}`;
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    return `${url} cannot be fetched (${e instanceof Error ? e.message : String(e)})`;
  }
}

/** Browsers that validate relaxed SIMD have it on; nothing to switch. */
export function enableRelaxedSimd(): boolean {
  return false;
}

let scriptUrl: string | null = null;

/** Starts a Web Worker from a Blob URL (no file to serve); its data arrives by postMessage. May throw. */
export function startWorker(body: string, data: WorkerData, onError: () => void): PoolWorker {
  scriptUrl ??= web.URL.createObjectURL(
    new web.Blob([`onmessage = (e) => {\nonmessage = null;\nconst { module, memory, slot } = e.data;\n${body}\n};`], { type: "text/javascript" }),
  );
  const w = new web.Worker(scriptUrl);
  w.onerror = onError;
  w.postMessage(data);
  return { terminate: () => w.terminate() };
}
