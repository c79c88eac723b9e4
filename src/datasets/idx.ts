/** @file Reading the IDX files of MNIST / Fashion-MNIST (optionally gzip-compressed), with validation. */
import { requireNode } from "../base/env.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { ImageDataset } from "./mnist.ts";

const IMAGES_MAGIC = 0x00000803; // unsigned byte, 3 dims
const LABELS_MAGIC = 0x00000801; // unsigned byte, 1 dim
const MAX_ITEMS = 10_000_000;

const MAX_DATA_BYTES = 1 << 30;
const CHUNK = 1 << 16;

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

/**
 * The bytes of an IDX file, inflated when it is gzip-compressed. The header says how many bytes
 * follow, so reading stops at that count plus one: a gzip bomb is rejected after inflating
 * little more than its header claims, whatever it would inflate to.
 */
async function readIdx(path: string, magic: number, ndim: number): Promise<{ dims: number[]; data: Uint8Array }> {
  const { handle, size } = await openRegular(path);
  try {
    const head = new Uint8Array(Math.min(size, 2));
    await handle.read(head, 0, head.length, 0);
    if (!(head.length === 2 && head[0] === 0x1f && head[1] === 0x8b)) {
      const bytes = new Uint8Array(size);
      for (let done = 0; done < size; ) {
        const { bytesRead } = await handle.read(bytes, done, Math.min(CHUNK * 16, size - done), done);
        if (bytesRead === 0) throw new Error(`loadIdx: ${path} ended at byte ${done} while being read (was it changed?)`);
        done += bytesRead;
      }
      return parseIdx(bytes, magic, ndim, path);
    }
    return await inflateIdx(handle, path, magic, ndim);
  } finally {
    await handle.close();
  }
}

async function inflateIdx(handle: import("node:fs/promises").FileHandle, path: string, magic: number, ndim: number): Promise<{ dims: number[]; data: Uint8Array }> {
  const zlib = await import("node:zlib");
  const headerLen = 4 + 4 * ndim;
  const parts: Uint8Array[] = [];
  let got = 0;
  let limit = Number.POSITIVE_INFINITY;
  let ours: Error | undefined;
  const gunzip = zlib.createGunzip({ chunkSize: CHUNK });
  const done = new Promise<void>((resolve, reject) => {
    gunzip.on("data", (chunk: Buffer) => {
      parts.push(chunk);
      got += chunk.length;
      try {
        if (limit === Number.POSITIVE_INFINITY && got >= Math.min(4, headerLen)) {
          const sofar = concat(parts, got);
          if (got >= headerLen) limit = headerLen + parseIdxHeader(sofar, magic, ndim, path).expected;
          else parseIdxHeader(sofar, magic, ndim, path, true);
        }
        if (got > limit) {
          const { dims, expected } = parseIdxHeader(concat(parts, headerLen), magic, ndim, path);
          throw new Error(`loadIdx: ${path} should hold ${expected} data bytes for dims [${dims.join(", ")}], but inflates to more (corrupt, or a gzip bomb)`);
        }
      } catch (e) {
        ours = e as Error;
        gunzip.destroy();
        reject(ours);
      }
    });
    gunzip.on("end", () => resolve());
    gunzip.on("error", (e) => reject(ours ?? new Error(`loadIdx: ${path} is not a valid gzip file: ${e.message}`)));
  });
  done.catch(() => {}); // awaited below; until then a rejection must not count as unhandled
  const buf = new Uint8Array(CHUNK * 4);
  let position = 0;
  try {
    for (;;) {
      if (ours) break;
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      const copy = buf.slice(0, bytesRead);
      if (!gunzip.write(copy)) await new Promise<void>((r) => {
        const again = () => {
          gunzip.off("drain", again);
          gunzip.off("close", again);
          r();
        };
        gunzip.on("drain", again);
        gunzip.on("close", again);
      });
    }
    if (!ours) gunzip.end();
  } catch (e) {
    gunzip.destroy();
    throw e;
  }
  await done;
  return parseIdx(concat(parts, got), magic, ndim, path);
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1 && parts[0]!.length === total) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    const n = Math.min(p.length, total - at);
    out.set(p.subarray(0, n), at);
    at += n;
    if (at === total) break;
  }
  return out;
}

/** Checks the magic number and dims of an IDX header; `magicOnly` when only the first 4 bytes are there. */
function parseIdxHeader(bytes: Uint8Array, magic: number, ndim: number, path: string, magicOnly = false): { dims: number[]; expected: number } {
  const headerLen = 4 + 4 * ndim;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0);
  if (got !== magic)
    throw new Error(`loadIdx: ${path} has magic number 0x${got.toString(16).padStart(8, "0")}, expected 0x${magic.toString(16).padStart(8, "0")} (${ndim === 3 ? "images" : "labels"} file)`);
  if (magicOnly) return { dims: [], expected: 0 };
  if (bytes.length < headerLen) throw new Error(`loadIdx: ${path} is truncated (${bytes.length} bytes, the header alone needs ${headerLen})`);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  if (dims[0]! > MAX_ITEMS || dims.slice(1).some((d) => d === 0 || d > 4096))
    throw new Error(`loadIdx: ${path} announces implausible dims [${dims.join(", ")}]`);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected > MAX_DATA_BYTES) throw new Error(`loadIdx: ${path} announces dims [${dims.join(", ")}]: ${expected} data bytes, more than the ${MAX_DATA_BYTES} loadIdx reads`);
  return { dims, expected };
}

/** Parses an IDX header: checks magic and that the file holds exactly the bytes its dims announce. */
export function parseIdx(bytes: Uint8Array, magic: number, ndim: number, path: string): { dims: number[]; data: Uint8Array } {
  const headerLen = 4 + 4 * ndim;
  if (bytes.length < 4) throw new Error(`loadIdx: ${path} is truncated (${bytes.length} bytes, the header alone needs ${headerLen})`);
  const { dims, expected } = parseIdxHeader(bytes, magic, ndim, path);
  if (bytes.length - headerLen !== expected)
    throw new Error(`loadIdx: ${path} should hold ${expected} data bytes for dims [${dims.join(", ")}], but has ${bytes.length - headerLen} (truncated or corrupt)`);
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
