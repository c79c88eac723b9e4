/** @file Reading the IDX files of MNIST / Fashion-MNIST (optionally gzip-compressed), with validation. */
import { requireNode } from "../base/env.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { ImageDataset } from "./mnist.ts";

const IMAGES_MAGIC = 0x00000803; // unsigned byte, 3 dims
const LABELS_MAGIC = 0x00000801; // unsigned byte, 1 dim
const MAX_ITEMS = 10_000_000;

const MAX_DATA_BYTES = 1 << 30;
/** Bytes read first: the header, or (compressed) enough of the stream to inflate the header from. */
const PREFIX = 1024;

/**
 * Opens `path` without blocking (a FIFO with no writer would block a plain open forever) and
 * rejects anything but a regular file: /dev/zero, FIFOs and directories never end.
 */
async function openRegular(path: string): Promise<{ handle: import("node:fs/promises").FileHandle; size: number }> {
  const fs = await import("node:fs");
  let handle: import("node:fs/promises").FileHandle;
  try {
    handle = await fs.promises.open(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  } catch (e) {
    throw new Error(`loadIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  const stats = await handle.stat();
  if (!stats.isFile()) {
    await handle.close();
    throw new Error(`loadIdx: ${path} is not a regular file`);
  }
  return { handle, size: stats.size };
}

/** The first `n` bytes of an open file. */
async function readBytes(handle: import("node:fs/promises").FileHandle, n: number, path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(n);
  for (let done = 0; done < n; ) {
    const { bytesRead } = await handle.read(bytes, done, n - done, done);
    if (bytesRead === 0) throw new Error(`loadIdx: ${path} ended at byte ${done} while being read (was it changed?)`);
    done += bytesRead;
  }
  return bytes;
}

/** Gunzips `bytes` (`partial`: a prefix of the stream) into at most `max` bytes, else throws `tooLarge()`. */
function gunzip(zlib: typeof import("node:zlib"), bytes: Uint8Array, max: number, path: string, tooLarge: () => Error, partial = false): Uint8Array {
  try {
    return zlib.gunzipSync(bytes, { maxOutputLength: max, finishFlush: partial ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.Z_FINISH });
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge();
    throw new Error(`loadIdx: ${path} is not a valid gzip file: ${(e as Error).message}`);
  }
}

/**
 * The bytes of an IDX file, inflated when it is gzip-compressed. The header is read (or inflated
 * from the stream's first bytes) before anything else, and no more is read or inflated than it
 * announces: a gzip bomb is rejected after inflating one byte more than its header claims.
 */
async function readIdx(path: string, magic: number, ndim: number): Promise<{ dims: number[]; data: Uint8Array }> {
  const { handle, size } = await openRegular(path);
  try {
    const headerLen = 4 + 4 * ndim;
    const start = await readBytes(handle, Math.min(size, PREFIX), path);
    if (!(start[0] === 0x1f && start[1] === 0x8b)) {
      if (size < 4) return parseIdx(start, magic, ndim, path);
      const { dims, expected } = parseIdxHeader(start, magic, ndim, path);
      if (size > headerLen + expected) throw wrongSize(path, dims, expected, size - headerLen);
      return parseIdx(size === start.length ? start : await readBytes(handle, size, path), magic, ndim, path);
    }
    const zlib = await import("node:zlib");
    // deflate turns each byte into at most 1032: the prefix cannot inflate to more than this
    const head = gunzip(zlib, start, PREFIX * 1032, path, () => new Error(`loadIdx: ${path} is not a valid gzip file`), true);
    if (head.length < headerLen && start.length < size) throw new Error(`loadIdx: ${path} has no IDX header in its first ${PREFIX} bytes`);
    const { dims, expected } = parseIdxHeader(head, magic, ndim, path);
    const bomb = () => new Error(`loadIdx: ${path} should hold ${expected} data bytes for dims [${dims.join(", ")}], but inflates to more (corrupt, or a gzip bomb)`);
    // deflate's stored blocks add 5 bytes per 64 KiB: a file far larger than its data is not one gzip of it
    if (size > 2 * (headerLen + expected) + (1 << 16)) throw bomb();
    return parseIdx(gunzip(zlib, await readBytes(handle, size, path), headerLen + expected + 1, path, bomb), magic, ndim, path);
  } finally {
    await handle.close();
  }
}

/** Checks the magic number and dims of an IDX header (`bytes` holds at least its first 4 bytes). */
function parseIdxHeader(bytes: Uint8Array, magic: number, ndim: number, path: string): { dims: number[]; expected: number } {
  const headerLen = 4 + 4 * ndim;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0);
  if (got !== magic)
    throw new Error(`loadIdx: ${path} has magic number 0x${got.toString(16).padStart(8, "0")}, expected 0x${magic.toString(16).padStart(8, "0")} (${ndim === 3 ? "images" : "labels"} file)`);
  if (bytes.length < headerLen) throw new Error(`loadIdx: ${path} is truncated (${bytes.length} bytes, the header alone needs ${headerLen})`);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  if (dims[0]! > MAX_ITEMS || dims.slice(1).some((d) => d === 0 || d > 4096))
    throw new Error(`loadIdx: ${path} announces implausible dims [${dims.join(", ")}]`);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected > MAX_DATA_BYTES) throw new Error(`loadIdx: ${path} announces dims [${dims.join(", ")}]: ${expected} data bytes, more than the ${MAX_DATA_BYTES} loadIdx reads`);
  return { dims, expected };
}

function wrongSize(path: string, dims: readonly number[], expected: number, got: number): Error {
  return new Error(`loadIdx: ${path} should hold ${expected} data bytes for dims [${dims.join(", ")}], but has ${got} (truncated or corrupt)`);
}

/** Parses an IDX header: checks magic and that the file holds exactly the bytes its dims announce. */
export function parseIdx(bytes: Uint8Array, magic: number, ndim: number, path: string): { dims: number[]; data: Uint8Array } {
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < 4) throw new Error(`loadIdx: ${path} is truncated (${bytes.length} bytes, the header alone needs ${headerLen})`);
  const { dims, expected } = parseIdxHeader(bytes, magic, ndim, path);
  if (bytes.length - headerLen !== expected) throw wrongSize(path, dims, expected, bytes.length - headerLen);
  return { dims, data: bytes.subarray(headerLen) };
}

/**
 * Loads a standard IDX image/label file pair (e.g. `train-images-idx3-ubyte[.gz]` and
 * `train-labels-idx1-ubyte[.gz]`): x float32 [N, rows·cols] in [0, 1], y int32 [N].
 */
export async function loadIdx(imagesPath: string, labelsPath: string): Promise<ImageDataset> {
  requireNode("datasets.loadIdx", "it reads files");
  // both read at once; the images file's error, if any, is the one reported
  const [img, lbl] = await Promise.allSettled([readIdx(imagesPath, IMAGES_MAGIC, 3), readIdx(labelsPath, LABELS_MAGIC, 1)]);
  if (img.status === "rejected") throw img.reason;
  if (lbl.status === "rejected") throw lbl.reason;
  const [images, labels] = [img.value, lbl.value];
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n)
    throw new Error(`loadIdx: ${imagesPath} has ${n} images but ${labelsPath} has ${labels.dims[0]} labels`);
  const x = new Float32Array(n * rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  return { x: new Tensor(x, "float32", [n, rows * cols]), y: new Tensor(Int32Array.from(labels.data), "int32", [n]) };
}
