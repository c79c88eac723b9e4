/** @file `tensorgrad onnx inspect FILE`: what an ONNX model holds (tg.onnx.inspect), and whether tensorgrad can import it. */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { inspect, type ValueSummary } from "../io/onnx-import/model.ts";
import { parse, UsageError } from "./args.ts";

export const ONNX_USAGE = `usage: tensorgrad onnx inspect [--json] FILE

Prints an ONNX model's opset, inputs and outputs with their shapes, its ops with counts and its
parameter count, and which ops tg.onnx.importModel does not support.

options:
  --json                 print the summary as JSON
  -h, --help             this help`;

const shape = (v: ValueSummary) => `${v.type} [${(v.shape ?? ["?"]).map((d) => d ?? "?").join(", ")}]`;

export async function onnx(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" } }, ONNX_USAGE, { positionals: true });
  if (values.help) {
    console.log(ONNX_USAGE);
    return 0;
  }
  const [sub, file, ...extra] = positionals;
  if (sub !== "inspect") throw new UsageError(sub === undefined ? "give a subcommand: inspect" : `unknown subcommand ${JSON.stringify(sub)} (known: inspect)`, ONNX_USAGE);
  if (file === undefined || extra.length > 0) throw new UsageError("give exactly one .onnx file", ONNX_USAGE);
  if (!existsSync(file)) throw new UsageError(`no such file: ${file}`, ONNX_USAGE);
  const info = inspect(new Uint8Array(await readFile(file)));
  if (values.json) {
    console.log(JSON.stringify(info, null, 2));
    return 0;
  }
  const width = Math.max(...[...info.inputs, ...info.outputs].map((v) => v.name.length));
  const nodes = Object.values(info.ops).reduce((a, b) => a + b, 0);
  console.log(`${file}: ONNX IR ${info.irVersion}, opset ${info.opset}${info.producer ? `, from ${info.producer}` : ""}`);
  console.log("inputs:");
  for (const v of info.inputs) console.log(`  ${v.name.padEnd(width)}  ${shape(v)}`);
  console.log("outputs:");
  for (const v of info.outputs) console.log(`  ${v.name.padEnd(width)}  ${shape(v)}`);
  console.log(`ops (${nodes} nodes): ${Object.entries(info.ops).map(([op, n]) => (n > 1 ? `${op} ×${n}` : op)).join(", ")}`);
  console.log(`parameters: ${info.parameters.toLocaleString("en-US")} in ${info.initializers} initializers`);
  console.log(info.unsupported.length === 0 ? "tg.onnx.importModel supports every op" : `not supported by tg.onnx.importModel: ${info.unsupported.join(", ")}`);
  return 0;
}
