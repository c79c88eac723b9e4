/** @file The backend registry: which backends exist and which one new tensors use. */
import type { Backend } from "./backend.ts";
import { jsBackend } from "./js/index.ts";

const backends = new Map<string, Backend>([["js", jsBackend]]);
let active: Backend = jsBackend;

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
}

/** The name of the backend ops run on now. */
export function current(): string {
  return active.name;
}

/** The active backend's kernels (internal). */
export function kernels(): Backend {
  return active;
}
