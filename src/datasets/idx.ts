/** @file Reading the IDX files of MNIST / Fashion-MNIST (optionally gzip-compressed), with validation. */
import { requireNode } from "../base/env.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { ImageDataset } from "./mnist.ts";

const IMAGES_MAGIC = 0x00000803; // unsigned byte, 3 dims
const LABELS_MAGIC = 0x00000801; // unsigned byte, 1 dim
const MAX_ITEMS = 10_000_000;

async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const { readFile } = await import("node:fs/promises");
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new Error(`loadIdx: cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const { gunzipSync } = await import("node:zlib");
    try {
      return gunzipSync(bytes, { maxOutputLength: 1 << 30 });
    } catch (e) {
      throw new Error(`loadIdx: ${path} is not a valid gzip file: ${(e as Error).message}`);
    }
  }
  return bytes;
}

/** Parses an IDX header: checks magic and that the file holds exactly the bytes its dims announce. */
export function parseIdx(bytes: Uint8Array, magic: number, ndim: number, path: string): { dims: number[]; data: Uint8Array } {
  const headerLen = 4 + 4 * ndim;
  const truncated = () => new Error(`loadIdx: ${path} is truncated (${bytes.length} bytes, the header alone needs ${headerLen})`);
  if (bytes.length < 4) throw truncated();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0);
  if (got !== magic)
    throw new Error(`loadIdx: ${path} has magic number 0x${got.toString(16).padStart(8, "0")}, expected 0x${magic.toString(16).padStart(8, "0")} (${ndim === 3 ? "images" : "labels"} file)`);
  if (bytes.length < headerLen) throw truncated();
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  if (dims[0]! > MAX_ITEMS || dims.slice(1).some((d) => d === 0 || d > 4096))
    throw new Error(`loadIdx: ${path} announces implausible dims [${dims.join(", ")}]`);
  const expected = dims.reduce((a, b) => a * b, 1);
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
  const [imgBytes, lblBytes] = await Promise.all([readMaybeGzip(imagesPath), readMaybeGzip(labelsPath)]);
  const images = parseIdx(imgBytes, IMAGES_MAGIC, 3, imagesPath);
  const labels = parseIdx(lblBytes, LABELS_MAGIC, 1, labelsPath);
  const [n, rows, cols] = images.dims as [number, number, number];
  if (labels.dims[0] !== n)
    throw new Error(`loadIdx: ${imagesPath} has ${n} images but ${labelsPath} has ${labels.dims[0]} labels`);
  const x = new Float32Array(n * rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = images.data[i]! / 255;
  return { x: new Tensor(x, "float32", [n, rows * cols]), y: new Tensor(Int32Array.from(labels.data), "int32", [n]) };
}
