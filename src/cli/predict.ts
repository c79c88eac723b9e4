/**
 * @file `tensorgrad predict`: loads a model saved by `tensorgrad train` and classifies images from
 * an IDX file (MNIST layout, optionally .gz) or PNG/JPEG files (resampled to the model's size;
 * dark-on-light pictures are inverted to MNIST's light-on-dark).
 */
import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { parseIdx } from "../datasets/idx.ts";
import { loadFile } from "../io/files.ts";
import { importModel } from "../io/onnx-import/model.ts";
import { softmax } from "../ops/reduce.ts";
import { Tensor } from "../tensor/tensor.ts";
import { imageToGray } from "../viz/png.ts";
import { intOption, parse, stringOption, UsageError } from "./args.ts";
import { MODELS } from "./models.ts";

export const PREDICT_USAGE = `usage: tensorgrad predict --model PATH [options] IMAGES...

Classifies images with a model written by \`tensorgrad train\`, or with an ONNX classifier
(e.g. from torch.onnx.export) whose input is [N, 1, H, W], [N, H, W] or [N, H·W] and whose output
is [N, classes] (logits or probabilities).

arguments:
  IMAGES                 an IDX image file (e.g. t10k-images-idx3-ubyte[.gz]) or PNG / JPEG files
options:
  --model PATH           model.safetensors, the run directory that holds it, or model.onnx (required)
  --labels FILE          IDX labels for an IDX image file: prints the accuracy too
  --limit N              print at most N predictions (default 20; all are used for the accuracy)
  --json                 print one JSON object per image instead of text
  -h, --help             this help`;

async function readMaybeGzip(path: string): Promise<Uint8Array> {
  const bytes = new Uint8Array(await readFile(path));
  return bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
}

/** Normalised images [N, h·w] and a display name per image. */
async function loadImages(paths: readonly string[], [h, w]: [number, number]): Promise<{ x: Tensor; names: string[] }> {
  const rows: Float32Array[] = [];
  const names: string[] = [];
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isFile()) throw new UsageError(`no such file: ${p}`, PREDICT_USAGE);
    const bytes = await readMaybeGzip(p);
    if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0x08 && bytes[3] === 0x03) {
      const { dims, data } = parseIdx(bytes, 0x803, 3, p);
      if (dims[1] !== h || dims[2] !== w) throw new Error(`${p} holds ${dims[1]}×${dims[2]} images; the model takes ${h}×${w}`);
      for (let i = 0; i < dims[0]!; i++) {
        const row = new Float32Array(h * w);
        for (let j = 0; j < row.length; j++) row[j] = data[i * h * w + j]! / 255;
        rows.push(row);
        names.push(`${basename(p)}[${i}]`);
      }
    } else {
      let gray: Float32Array;
      try {
        gray = await imageToGray(bytes, w, h);
      } catch (e) {
        throw new Error(`${p} is neither an IDX image file nor a readable PNG/JPEG (${(e as Error).message})`);
      }
      // MNIST digits are light ink on black: invert pictures whose border is light (paper)
      let border = 0;
      let count = 0;
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          if (y === 0 || x === 0 || y === h - 1 || x === w - 1) {
            border += gray[y * w + x]!;
            count++;
          }
      const invert = border / count > 0.5;
      rows.push(invert ? gray.map((v) => 1 - v) : gray);
      names.push(basename(p));
    }
  }
  const x = new Float32Array(rows.length * h * w);
  rows.forEach((r, i) => {
    x.set(r, i * h * w);
  });
  return { x: new Tensor(x, "float32", [rows.length, h * w]), names };
}

export async function predict(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, { model: { type: "string" }, labels: { type: "string" }, limit: { type: "string" }, json: { type: "boolean" } }, PREDICT_USAGE, {
    positionals: true,
  });
  if (values.help) {
    console.log(PREDICT_USAGE);
    return 0;
  }
  let modelPath = stringOption(values.model);
  if (modelPath === undefined) throw new UsageError("--model PATH is required (a model.safetensors written by tensorgrad train)", PREDICT_USAGE);
  if (positionals.length === 0) throw new UsageError("give at least one image file (IDX, PNG or JPEG)", PREDICT_USAGE);
  const limit = intOption(values.limit, "limit", PREDICT_USAGE) ?? 20;
  if (existsSync(modelPath) && statSync(modelPath).isDirectory()) modelPath = join(modelPath, "model.safetensors");
  if (!existsSync(modelPath)) throw new UsageError(`no such model file: ${modelPath}`, PREDICT_USAGE);
  if (modelPath.endsWith(".onnx")) return predictOnnx(modelPath, positionals, values, limit);
  const { tensors, metadata } = await loadFile(modelPath);
  const arch = metadata["tensorgrad.model"];
  const preset = arch === undefined ? undefined : MODELS[arch];
  if (!preset) throw new Error(`${modelPath} was not written by tensorgrad train (its metadata names no known model: ${JSON.stringify(arch ?? null)})`);
  const [h, w] = (metadata["tensorgrad.image_size"] ?? "28x28").split("x").map(Number) as [number, number];
  const classes = Number(metadata["tensorgrad.classes"] ?? 10);
  const model = preset.build([h, w], classes);
  model.loadStateDict(tensors);

  const { x, names } = await loadImages(positionals, [h, w]);
  return report(model.predict(x, { batchSize: 256 }), names, classes, values, limit);
}

/** `predict` with an ONNX classifier: image size from its input shape, softmax unless it outputs probabilities. */
async function predictOnnx(path: string, images: readonly string[], values: Record<string, string | boolean | undefined>, limit: number): Promise<number> {
  const model = (await importModel(path)).eval();
  const spec = model._inputs[0];
  const dims = spec?.shape ?? null;
  if (model._inputs.length !== 1 || dims === null || dims.length < 2 || dims.length > 4 || dims.slice(1).some((d) => typeof d !== "number"))
    throw new Error(`${path}: expected one image input [N, 1, H, W], [N, H, W] or [N, H·W] with fixed sizes, got ${JSON.stringify(model._inputs)}`);
  const rest = dims.slice(1) as number[];
  const size: [number, number] = rest.length === 1 ? [Math.round(Math.sqrt(rest[0]!)), Math.round(Math.sqrt(rest[0]!))] : [rest.at(-2)!, rest.at(-1)!];
  if (rest.length === 3 && rest[0] !== 1) throw new Error(`${path}: the input has ${rest[0]} channels; predict feeds grayscale images (1 channel)`);
  if (size[0] * size[1] !== rest.reduce((p, d) => p * d, 1)) throw new Error(`${path}: input shape ${JSON.stringify(dims)} is not a square image`);
  const { x, names } = await loadImages(images, size);
  const out = model.call(x.reshape([x.shape[0]!, ...rest])) as Tensor;
  if (out.ndim !== 2) throw new Error(`${path}: expected an output [N, classes], got shape [${out.shape.join(", ")}]`);
  const v = out.dataSync();
  const isProbs = v.every((p) => p >= 0 && p <= 1) && out.sum(1).dataSync().every((s) => Math.abs(s - 1) < 1e-4);
  return report(isProbs ? out : softmax(out, 1), names, out.shape[1]!, values, limit);
}

/** Prints the predictions (and the accuracy against --labels). */
async function report(probs: Tensor, names: string[], classes: number, values: Record<string, string | boolean | undefined>, limit: number): Promise<number> {
  const predicted = probs.argmax(1).dataSync();
  const p = probs.dataSync();
  let labels: ArrayLike<number> | null = null;
  const labelsPath = stringOption(values.labels);
  if (labelsPath !== undefined) {
    if (!existsSync(labelsPath)) throw new UsageError(`no such labels file: ${labelsPath}`, PREDICT_USAGE);
    labels = parseIdx(await readMaybeGzip(labelsPath), 0x801, 1, labelsPath).data;
    if (labels.length !== names.length) throw new Error(`${labelsPath} has ${labels.length} labels for ${names.length} images`);
  }
  const shown = Math.min(limit, names.length);
  for (let i = 0; i < shown; i++) {
    const conf = p[i * classes + predicted[i]!]!;
    const truth = labels ? labels[i]! : null;
    if (values.json) console.log(JSON.stringify({ image: names[i], predicted: predicted[i], confidence: Number(conf.toFixed(6)), label: truth }));
    else console.log(`${names[i]}: ${predicted[i]} (${(100 * conf).toFixed(1)}%)${truth === null ? "" : truth === predicted[i] ? "  ✓" : `  ✗ true ${truth}`}`);
  }
  if (shown < names.length && !values.json) console.log(`… ${names.length - shown} more (--limit N shows more)`);
  if (labels) {
    let correct = 0;
    for (let i = 0; i < names.length; i++) if (labels[i] === predicted[i]) correct++;
    const acc = correct / names.length;
    if (values.json) console.log(JSON.stringify({ accuracy: acc, images: names.length }));
    else console.log(`accuracy: ${(100 * acc).toFixed(2)}% (${correct}/${names.length})`);
  }
  return 0;
}
