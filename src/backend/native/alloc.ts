/**
 * @file Uninitialised output storage for the native kernels, which overwrite every element of
 * their outputs. `new Float32Array(n)` zero-fills on the calling thread (a W3 training step
 * allocates tens of MB of outputs: ~0.1 ms per MB, serial, before any kernel can start);
 * Node's `Buffer.allocUnsafeSlow` skips the fill and owns its ArrayBuffer (offset 0, exact length,
 * freed by the GC like any other). Small arrays and non-Node hosts take the ordinary constructor.
 * Float32 outputs reuse storage that backward has finished with when there is some (../output-pool.ts).
 */

import { issueF32, takeF32 } from "../output-pool.ts";

/** Below this many bytes the zero fill is cheaper than the Buffer call. */
const MIN_UNSAFE_BYTES = 16384;

const unsafe: ((bytes: number) => { buffer: ArrayBufferLike; byteOffset: number }) | undefined = (
  globalThis as { Buffer?: { allocUnsafeSlow?: (bytes: number) => { buffer: ArrayBufferLike; byteOffset: number } } }
).Buffer?.allocUnsafeSlow;

let poison = false;

/** Tests: every output, whatever its size, comes uninitialised and filled with NaN bits, so an element a kernel forgets to write shows. */
export function poisonNativeOutputs(on: boolean): void {
  poison = on;
}

function raw(bytes: number): ArrayBuffer | null {
  if (unsafe === undefined || (bytes < MIN_UNSAFE_BYTES && !poison) || bytes === 0) return null;
  const b = unsafe(bytes);
  if (b.byteOffset !== 0 || b.buffer.byteLength !== bytes) return null;
  if (poison) new Uint32Array(b.buffer).fill(0x7fc00001);
  return b.buffer as ArrayBuffer;
}

/** n float32s with unspecified contents: only for outputs a kernel writes completely. */
export function outputF32(n: number): Float32Array {
  const reused = takeF32(n);
  if (reused !== null) {
    if (poison) new Uint32Array(reused.buffer).fill(0x7fc00001);
    return issueF32(reused);
  }
  const b = raw(4 * n);
  return issueF32(b === null ? new Float32Array(n) : new Float32Array(b));
}

/** n int32s with unspecified contents: only for outputs a kernel writes completely. */
export function outputI32(n: number): Int32Array {
  const b = raw(4 * n);
  return b === null ? new Int32Array(n) : new Int32Array(b);
}
