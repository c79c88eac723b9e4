/** @file `tg.backend`: list, select and inspect the kernel backends. */
export { type BackendInfo, current, info, list, ready, register, setThreads, threads, use } from "./registry.ts";
