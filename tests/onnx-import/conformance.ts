/**
 * @file Runs ONNX's own backend node tests (Debian's libonnx-testdata: model.onnx plus
 * test_data_set_N/{input,output}_M.pb) through tg.onnx.importModel, with ONNX's tolerances.
 * `node --import tsx tests/onnx-import/conformance.ts` prints every result; the test
 * (conformance.test.ts) checks them against expected-failures.txt.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as tg from "../../src/index.ts";
import { decodeTensorProto } from "../../src/io/onnx-import/proto.ts";
import { tensorFromProto } from "../../src/io/onnx-import/tensors.ts";

export const NODE_TESTS = "/usr/share/libonnx-testdata/data/node";
/** ONNX's backend-test tolerances (onnx/backend/test/runner: rtol 1e-3, atol 1e-7). */
const RTOL = 1e-3;
const ATOL = 1e-7;

export type Outcome = { status: "passed" } | { status: "failed"; reason: string } | { status: "unsupported"; reason: string };

function readPb(path: string): tg.Tensor {
  return tensorFromProto(decodeTensorProto(new Uint8Array(readFileSync(path))), path);
}

function numbered(dir: string, prefix: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith(".pb"))
    .sort((a, b) => Number(a.slice(prefix.length, -3)) - Number(b.slice(prefix.length, -3)))
    .map((f) => join(dir, f));
}

/** The first element where `got` and `want` differ beyond the tolerance, or null. */
function mismatch(got: tg.Tensor, want: tg.Tensor): string | null {
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i]))
    return `shape [${got.shape}] instead of [${want.shape}]`;
  const g = got.contiguous().dataSync();
  const w = want.dataSync();
  for (let i = 0; i < w.length; i++) {
    const a = Number(g[i]);
    const e = Number(w[i]);
    if (Number.isNaN(e) ? Number.isNaN(a) : a === e || Math.abs(a - e) <= ATOL + RTOL * Math.abs(e)) continue;
    return `element ${i}: ${a} instead of ${e}`;
  }
  return null;
}

/** Runs one node test directory. */
export function runNodeTest(dir: string): Outcome {
  const bytes = new Uint8Array(readFileSync(join(dir, "model.onnx")));
  let model: tg.onnx.OnnxModel;
  try {
    const info = tg.onnx.inspect(bytes);
    if (info.unsupported.length > 0) return { status: "unsupported", reason: `ops ${info.unsupported.join(", ")}` };
    model = tg.onnx.importModelSync(bytes);
  } catch (e) {
    const msg = (e as Error).message;
    if (/not supported|does not support/.test(msg)) return { status: "unsupported", reason: msg.slice(0, 200) };
    return { status: "failed", reason: `import: ${msg}` };
  }
  const sets = readdirSync(dir).filter((d) => d.startsWith("test_data_set_")).sort();
  for (const set of sets) {
    let inputs: tg.Tensor[];
    let wants: tg.Tensor[];
    try {
      inputs = numbered(join(dir, set), "input_").map(readPb);
      wants = numbered(join(dir, set), "output_").map(readPb);
    } catch (e) {
      return { status: "unsupported", reason: `test data: ${(e as Error).message.slice(0, 200)}` };
    }
    let out: tg.Tensor[];
    try {
      const r = tg.noGrad(() => model.forward(...inputs.slice(0, model.inputNames.length)));
      out = Array.isArray(r) ? r : [r];
    } catch (e) {
      return { status: "failed", reason: `${set}: ${(e as Error).message.slice(0, 300)}` };
    }
    for (let i = 0; i < wants.length; i++) {
      const m = out[i] === undefined ? "missing" : mismatch(out[i]!, wants[i]!);
      if (m !== null) return { status: "failed", reason: `${set} output ${i} (${model.outputNames[i]}): ${m}` };
    }
  }
  return { status: "passed" };
}

/** Every node test's outcome, by test name. */
export function runAll(): Map<string, Outcome> {
  const out = new Map<string, Outcome>();
  for (const name of readdirSync(NODE_TESTS).sort()) {
    if (!existsSync(join(NODE_TESTS, name, "model.onnx"))) continue;
    out.set(name, runNodeTest(join(NODE_TESTS, name)));
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = runAll();
  const count = { passed: 0, failed: 0, unsupported: 0 };
  for (const [name, r] of results) {
    count[r.status]++;
    if (r.status !== "passed") console.log(`${r.status.padEnd(11)} ${name}: ${r.reason}`);
  }
  console.log(`${count.passed} passed, ${count.failed} failed, ${count.unsupported} not supported`);
}
