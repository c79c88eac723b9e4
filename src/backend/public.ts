/** @file `tg.backend`: list, select and inspect the kernel backends. */
export { current, list, register, use } from "./registry.ts";
