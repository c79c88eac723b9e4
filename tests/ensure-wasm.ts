/**
 * @file Imported first by the wasm tests: (re)builds the wasm kernels when they are missing or
 * older than their sources (e.g. after `npm ci --ignore-scripts`), before tensorgrad is imported.
 */
import { buildWasm } from "../scripts/build-wasm.ts";

await buildWasm();
