/**
 * @file Recycled float32 output storage for the backends whose kernels overwrite every element of
 * a fresh output (wasm's copy-out, native's outputs).
 *
 * Why: a training step makes tens of MB of fresh outputs. Each one is a new ArrayBuffer: page
 * faults to map it, then V8 counts it as external memory, which starts a full GC every step or
 * two; the concurrent marking and sweeping threads then take the cores the kernels' worker
 * threads run on. Reusing the storage of gradients that backward is done with avoids most of it
 * (W3 on wasm at 2 threads: about 4 ms of a 24 ms step).
 *
 * Safety rests on `recycle`'s callers: only the autograd engine calls it, for storage that no
 * tensor it can still hand out refers to (see engine.ts `propagate`), and only storage issued
 * since its backward began (`outputSerial`) is taken back, so a forward activation or a
 * caller's array is never reused. An array is taken back at most once per issue.
 */
import type { TypedArray } from "../base/dtype.ts";

/** Below this many elements a fresh array is as cheap as a lookup. */
export const POOL_MIN_ELEMENTS = 1024;
/** The pool holds at most this many bytes of free arrays; beyond it a recycled array is left to the GC. */
export const POOL_CAP_BYTES = 64 * 1024 * 1024;

let serial = 0;
/** Arrays handed out and not yet taken back, with the serial they were issued at. */
const issued = new WeakMap<Float32Array, number>();
/** Free arrays by length. */
const free = new Map<number, Float32Array[]>();
let pooledBytes = 0;
let enabled = true;

/** A free array of exactly `n` floats (old contents: the caller overwrites all of it), or null. */
export function takeF32(n: number): Float32Array | null {
  if (n < POOL_MIN_ELEMENTS) return null;
  const list = free.get(n);
  const a = list?.pop();
  if (a === undefined) return null;
  pooledBytes -= a.byteLength;
  return a;
}

/** Records `a` (a fresh output owning its whole buffer) as issued now, so `recycle` may take it back later. */
export function issueF32(a: Float32Array): Float32Array {
  if (enabled && a.length >= POOL_MIN_ELEMENTS && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength) issued.set(a, ++serial);
  return a;
}

/** The serial of the latest issue: arrays issued after it are newer than this moment. */
export function outputSerial(): number {
  return serial;
}

/**
 * Takes `data` back into the pool when it is an array issued after `since` and not already taken
 * back. The caller guarantees no live tensor refers to it; everything else is ignored.
 */
export function recycle(data: TypedArray, since: number): void {
  if (!(data instanceof Float32Array)) return;
  const at = issued.get(data);
  if (at === undefined || at <= since) return;
  issued.delete(data);
  if (pooledBytes + data.byteLength > POOL_CAP_BYTES) return;
  let list = free.get(data.length);
  if (list === undefined) {
    list = [];
    free.set(data.length, list);
  }
  list.push(data);
  pooledBytes += data.byteLength;
}

/**
 * @internal Turns recycling off (every output fresh, nothing taken back) or on; tests compare
 * both. Off also empties the pool.
 */
export function setOutputPooling(on: boolean): void {
  enabled = on;
  if (!on) {
    free.clear();
    pooledBytes = 0;
  }
}

/** Whether recycling is on (the engine skips its bookkeeping when it is off). */
export function outputPoolingEnabled(): boolean {
  return enabled;
}
