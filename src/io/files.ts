/** @file Saving and loading safetensors files on disk (Node.js only): atomic `save`, validating `load`. */
import type * as NodeFs from "node:fs";
import type * as NodePath from "node:path";
import {
  decodeTensor,
  failFor,
  type Layout,
  parseHeader,
  planLayout,
  readHeaderLength,
  type SafetensorsMetadata,
  type TensorDict,
  tensorBytes,
} from "./safetensors.ts";

export interface SaveOptions {
  /** Free-form strings stored as the file's `__metadata__` (PyTorch writes `{ format: "pt" }`). */
  metadata?: SafetensorsMetadata;
}

/** node:fs and node:path, looked up when a file function runs so that importing tensorgrad works in browsers too. */
function node(op: string): { fs: typeof NodeFs; path: typeof NodePath } {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.("node:fs") as typeof NodeFs | undefined;
  const path = proc?.getBuiltinModule?.("node:path") as typeof NodePath | undefined;
  if (fs === undefined || path === undefined)
    throw new Error(
      `${op}: ${proc === undefined ? "not available in a browser (files need Node.js)" : "files need Node.js 20.16 or newer"}; elsewhere use tg.io.serialize / tg.io.deserialize on bytes`,
    );
  return { fs, path };
}

/** A fresh name beside `file`, so that the final rename stays on one file system. */
function tempPathFor(path: typeof NodePath, file: string): string {
  const suffix = `${process.pid}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
  return path.join(path.dirname(file), `.${path.basename(file)}.${suffix}`);
}

/**
 * Writes `dict` to `file` in the safetensors format (see `tg.io.serialize`), atomically: the
 * bytes go to a temporary file in the same directory, which is flushed to disk and then renamed
 * over `file`. On any error the temporary file is removed and an existing `file` is untouched.
 *
 * @example
 * await tg.save(model.stateDict(), "model.safetensors", { metadata: { epoch: "3" } });
 */
export async function save(dict: TensorDict, file: string, opts: SaveOptions = {}): Promise<void> {
  const layout = planLayout(dict, opts.metadata, "save");
  await writeFileAtomic(file, chunks(layout), "save");
}

/** `save` without `await` (same atomic write, blocking). */
export function saveSync(dict: TensorDict, file: string, opts: SaveOptions = {}): void {
  const layout = planLayout(dict, opts.metadata, "saveSync");
  writeFileAtomicSync(file, chunks(layout), "saveSync");
}

/**
 * Writes `parts` one after another to `file`, atomically: they go to a temporary file in the
 * same directory, which is flushed to disk and then renamed over `file`. On any error the
 * temporary file is removed and an existing `file` is untouched. `op` names the caller in errors.
 */
export async function writeFileAtomic(file: string, parts: Iterable<Uint8Array>, op: string): Promise<void> {
  const { fs, path } = node(op);
  const tmp = tempPathFor(path, file);
  let handle: NodeFs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(tmp, "wx");
    for (const chunk of parts) {
      for (let done = 0; done < chunk.length; ) done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await handle?.close().catch(() => {});
    await fs.promises.rm(tmp, { force: true }).catch(() => {});
    throw e;
  }
  syncDirectory(fs, path.dirname(file));
}

/** `writeFileAtomic` without `await` (blocking). */
export function writeFileAtomicSync(file: string, parts: Iterable<Uint8Array>, op: string): void {
  const { fs, path } = node(op);
  const tmp = tempPathFor(path, file);
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, "wx");
    for (const chunk of parts) {
      for (let done = 0; done < chunk.length; ) done += fs.writeSync(fd, chunk, done, chunk.length - done);
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
    } catch {
      // keep the original error
    }
    throw e;
  }
  syncDirectory(fs, path.dirname(file));
}

/** The header, then each tensor's bytes in data order, produced one at a time to bound memory. */
function* chunks(layout: Layout): Generator<Uint8Array> {
  yield layout.head;
  for (const e of layout.entries) yield tensorBytes(e.tensor);
}

/** Makes the rename itself durable where the platform allows it (not on Windows; best effort). */
function syncDirectory(fs: typeof NodeFs, dir: string): void {
  try {
    const fd = fs.openSync(dir, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // the data is already safely in place; only the directory entry's durability is unconfirmed
  }
}

/**
 * Reads a safetensors file (written by tensorgrad, PyTorch, Hugging Face, …) into `{ name: Tensor }`.
 * A malformed file throws an `Error` naming the file and what is wrong; dtype conversions are
 * those of `tg.io.deserialize` (F16/BF16 → float32, I64 and the small integer types → int32).
 * The header is read and validated first, then each tensor's bytes straight into its storage,
 * so memory use is the tensors themselves. `tg.io.loadFile` also returns the `__metadata__`.
 *
 * @example
 * model.loadStateDict(await tg.load("model.safetensors"));
 */
export async function load(file: string): Promise<TensorDict> {
  return (await loadFile(file)).tensors;
}

/** What `loadFile` returns. */
export interface LoadedFile {
  tensors: TensorDict;
  metadata: SafetensorsMetadata;
}

/** Like `load`, but returns the file's `__metadata__` too: `{ tensors, metadata }`. */
export async function loadFile(file: string): Promise<LoadedFile> {
  const { fs } = node("load");
  // non-blocking: opening a FIFO with no writer would otherwise wait forever before fstat can reject it
  const handle = await fs.promises.open(file, readFlags(fs));
  try {
    const steps = loadSteps(file, regularFileSize(file, await handle.stat()));
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      const [position, buf] = step.value;
      for (let done = 0; done < buf.length; ) {
        const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
        if (bytesRead === 0) failFor(file)(`the file ended at byte ${position + done} while being read (was it changed?)`);
        done += bytesRead;
      }
      step = steps.next();
    }
  } finally {
    await handle.close();
  }
}

/** `loadFile` without `await`. */
export function loadFileSync(file: string): LoadedFile {
  const { fs } = node("loadSync");
  const fd = fs.openSync(file, readFlags(fs));
  try {
    const steps = loadSteps(file, regularFileSize(file, fs.fstatSync(fd)));
    for (let step = steps.next(); ; ) {
      if (step.done) return step.value;
      const [position, buf] = step.value;
      for (let done = 0; done < buf.length; ) {
        const bytesRead = fs.readSync(fd, buf, done, buf.length - done, position + done);
        if (bytesRead === 0) failFor(file)(`the file ended at byte ${position + done} while being read (was it changed?)`);
        done += bytesRead;
      }
      step = steps.next();
    }
  } finally {
    fs.closeSync(fd);
  }
}

function readFlags(fs: typeof NodeFs): number {
  return fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);
}

function regularFileSize(file: string, stats: NodeFs.Stats): number {
  if (!stats.isFile()) failFor(file)("not a regular file");
  return stats.size;
}

/** `load` without `await`. */
export function loadSync(file: string): TensorDict {
  return loadFileSync(file).tensors;
}

/**
 * The reading of a file of `size` bytes, written once for the sync and async loaders: it yields
 * [position, buffer] for the caller to fill (the length prefix, the header, then each tensor's
 * bytes), and validates each piece before asking for the next, so nothing is allocated for sizes
 * the header has not justified against the file size.
 */
function* loadSteps(file: string, size: number): Generator<[number, Uint8Array], LoadedFile, void> {
  const fail = failFor(file);
  const read = function* (position: number, length: number): Generator<[number, Uint8Array], Uint8Array, void> {
    const buf = new Uint8Array(length);
    yield [position, buf];
    return buf;
  };
  const headerLength = readHeaderLength(yield* read(0, Math.min(8, size)), size, fail);
  const dataStart = 8 + headerLength;
  const { entries, metadata } = parseHeader(yield* read(8, headerLength), size - dataStart, fail);
  const tensors: TensorDict = {};
  for (const e of entries) {
    const raw = yield* read(dataStart + e.begin, e.end - e.begin);
    Object.defineProperty(tensors, e.name, { value: decodeTensor(e, raw, true, fail), enumerable: true, writable: true, configurable: true });
  }
  return { tensors, metadata };
}
