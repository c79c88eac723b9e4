/**
 * @file The wasm backend's Node.js side: kernel files read synchronously from ./build/, relaxed
 * SIMD switched on through V8 flags, worker_threads for the thread pool. In the browser bundle
 * platform.browser.ts replaces this file (scripts/build-browser.ts), so runtime.ts and threads.ts
 * never import `node:*` themselves.
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import * as v8 from "node:v8";
import { Worker } from "node:worker_threads";

/** Node loads the kernels synchronously at import; `tg.backend.ready()` has nothing left to do. */
export const SYNC_LOAD = true;
/** Whether a new worker may be waited for synchronously (Node: yes; a browser starts it only after this thread yields). */
export const BLOCKING_START = true;
/** Whether this thread may block in `Atomics.wait`. */
export const CAN_WAIT = true;

const BUILD = new URL("./build/", import.meta.url);

export function envVar(name: string): string | undefined {
  return process.env[name];
}

export function hardwareThreads(): number {
  return Math.max(1, availableParallelism());
}

/** The bytes of a kernel module from ./build/, or a reason why there are none. */
export function readKernel(file: string): Uint8Array | string {
  const url = new URL(file, BUILD);
  return existsSync(url) ? readFileSync(url) : `${file} missing`;
}

/** As `readKernel` (Node reads the build directory; `base` is for browsers). */
export async function fetchKernel(file: string, _base?: string | URL): Promise<Uint8Array | string> {
  return readKernel(file);
}

/** Turns on relaxed SIMD (Node 20 validates it only behind a V8 flag); false when that fails. */
export function enableRelaxedSimd(): boolean {
  try {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    return true;
  } catch {
    return false;
  }
}

/** What the pool keeps of a worker. */
export interface PoolWorker {
  terminate(): void;
}

/** What a pool worker receives: the kernel module, the shared memory, and its control slot. */
export interface WorkerData {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  slot: number;
}

/**
 * Starts a worker that runs `body` (a script with `module`, `memory` and `slot` in scope);
 * `onError` runs if it fails. Unref'd: workers never keep the process alive. May throw.
 */
export function startWorker(body: string, data: WorkerData, onError: () => void): PoolWorker {
  const w = new Worker(`const { module, memory, slot } = require("node:worker_threads").workerData;\n${body}`, {
    eval: true,
    execArgv: [],
    workerData: data,
  });
  w.unref();
  w.on("error", onError);
  return { terminate: () => void w.terminate() };
}
