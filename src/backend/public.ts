/** @file `tg.backend`: list, select and inspect the kernel backends. */
export { type BackendInfo, current, info, list, type ReadyOptions, ready, register, setThreads, threads, use, wasmWorkers } from "./registry.ts";
