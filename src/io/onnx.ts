/**
 * @file `tg.onnx`: exporting Sequential-style models to ONNX (a `.onnx` ModelProto that ONNX
 * Runtime and other ONNX tools run). The model is traced by walking its module tree on an
 * example input in eval mode; see onnx-layers.ts for what each module becomes. Importing
 * (`importModel`, `inspect`) lives in onnx-import/.
 */
import { noGrad } from "../autograd/mode.ts";
import { Module } from "../nn/module.ts";
import { isFloating } from "../base/dtype.ts";
import { formatShape } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { writeFileAtomic, writeFileAtomicSync } from "./files.ts";
import { GraphBuilder } from "./onnx-graph.ts";
import { type Context, RULES, ruleFor, type Value } from "./onnx-layers.ts";
import { DataType } from "./onnx-fields.ts";
import { encodeModel } from "./onnx-proto.ts";

export { importModel, importModelSync, inspect, type ModelSummary, OnnxModel, supportedOps, type ValueSummary } from "./onnx-import/model.ts";

export interface ExportOptions {
  /** ONNX opset version, 13 to 21 (default 17). From 20, GELU is one `Gelu` node instead of its formula. */
  opset?: number;
  /** Name the input's first dim "N" so that any batch size runs (default true); false fixes it to the example's. */
  dynamicBatch?: boolean;
  /** The model's doc_string (default "Exported by tensorgrad from <class name>."). */
  docString?: string;
}

export const DEFAULT_OPSET = 17;
const MIN_OPSET = 13;
const MAX_OPSET = 21;

/** The IR version that came with each opset's ONNX release (opset 13: IR 7, 15: 8, 19: 9, 21: 10). */
function irVersionFor(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** Names of the module types the exporter understands. */
export const supportedModules: readonly string[] = RULES.map((r) => r.name);

/**
 * The model as an ONNX file (a serialized ModelProto), traced on `exampleInput` in eval mode
 * (Dropout is the identity, BatchNorm uses its running statistics); the model's own training
 * flags are restored afterwards. The graph has one float32 input "input" whose first dim is the
 * symbolic batch "N" and one output "output"; parameters are initializers under their
 * state-dict names. Sequential, Residual, Linear, Conv2d, pooling, BatchNorm, Flatten, Dropout,
 * the activation layers and `tg.keras` models are supported; other modules throw an Error that
 * names them.
 *
 * @example
 * const model = new tg.nn.Sequential(new tg.nn.Linear(784, 128), new tg.nn.ReLU(), new tg.nn.Linear(128, 10));
 * const bytes = tg.onnx.exportModel(model, tg.randn([1, 784]));
 * // onnxruntime-node: const session = await ort.InferenceSession.create(bytes);
 */
export function exportModel(model: Module, exampleInput: Tensor, opts: ExportOptions = {}): Uint8Array {
  if (!(model instanceof Module)) throw new TypeError("onnx.exportModel: model must be a tg.nn.Module");
  if (!(exampleInput instanceof Tensor)) throw new TypeError("onnx.exportModel: exampleInput must be a Tensor, e.g. tg.randn([1, 784])");
  if (exampleInput.ndim === 0 || !isFloating(exampleInput.dtype))
    throw new Error(`onnx.exportModel: exampleInput must be a floating-point batch [N, ...], got ${exampleInput.dtype} of shape ${formatShape(exampleInput.shape)}`);
  const opset = opts.opset ?? DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET)
    throw new RangeError(`onnx.exportModel: opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET}, got ${opset}`);
  const dynamicBatch = opts.dynamicBatch ?? true;
  ruleFor(model, "").prepare?.(model, exampleInput.shape.slice(1));

  const g = new GraphBuilder();
  const ctx: Context = { g, opset, dynamicBatch, convert: (m, path, x) => ruleFor(m, path).convert(ctx, m, path, x) };
  const modes = model.modules().map((m) => [m, m.training] as const);
  let out: Value;
  try {
    model.eval();
    out = noGrad(() => ctx.convert(model, "", { name: "input", tensor: exampleInput, batched: true }));
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
  if (out.name === "input") g.rename(g.node("", "Identity", ["input"]), "output");
  else g.rename(out.name, "output");

  const batch = (size: number, batched: boolean) => (!dynamicBatch ? size : batched ? "N" : null);
  return encodeModel({
    irVersion: irVersionFor(opset),
    opsetVersion: opset,
    producerName: "tensorgrad",
    docString: opts.docString ?? `Exported by tensorgrad from ${model.constructor.name}.`,
    graph: {
      name: model.constructor.name,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: "input", elemType: DataType.FLOAT, dims: [batch(exampleInput.shape[0]!, true), ...exampleInput.shape.slice(1)] }],
      outputs: [{ name: "output", elemType: DataType.FLOAT, dims: out.tensor.shape.map((d, i) => (i === 0 ? batch(d, out.batched) : d)) }],
    },
  });
}

/**
 * Exports the model (see `exportModel`) to the file `path`, atomically: a temporary file in the
 * same directory is written, flushed and renamed over `path` (Node.js only).
 *
 * @example await tg.onnx.save(model, tg.randn([1, 1, 28, 28]), "model.onnx");
 */
export async function save(model: Module, exampleInput: Tensor, path: string, opts: ExportOptions = {}): Promise<void> {
  await writeFileAtomic(path, [exportModel(model, exampleInput, opts)], "onnx.save");
}

/** `save` without `await` (same atomic write, blocking). */
export function saveSync(model: Module, exampleInput: Tensor, path: string, opts: ExportOptions = {}): void {
  writeFileAtomicSync(path, [exportModel(model, exampleInput, opts)], "onnx.saveSync");
}
