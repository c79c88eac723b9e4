/**
 * @file tg.onnx: exported models run in ONNX Runtime (onnxruntime-node) with the tensorgrad
 * model's eval-mode outputs for batch 1 and 5; the bytes decode back to the expected ModelProto;
 * unsupported modules fail clearly; save writes atomically; `onnx.checker` accepts the files
 * when /usr/bin/python3 has the onnx package (skipped otherwise).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import * as ort from "onnxruntime-node";
import * as tg from "../src/index.ts";

const { nn } = tg;
const ATOL = 1e-5;
const dir = mkdtempSync(join(tmpdir(), "tg-onnx-"));
let worst = 0;
after(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`# largest |ONNX Runtime − tensorgrad| over all comparisons: ${worst.toExponential(2)}`);
});

async function runOrt(model: Uint8Array | string, x: tg.Tensor): Promise<{ dims: number[]; data: Float32Array }> {
  const session = typeof model === "string" ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  const result = await session.run({ input: new ort.Tensor("float32", Float32Array.from(x.dataSync()), [...x.shape]) });
  const out = result.output!;
  return { dims: out.dims.map(Number), data: out.data as Float32Array };
}

/** Puts random statistics and affine parameters into every BatchNorm, so eval mode is not the identity. */
function randomizeBatchNorm(model: tg.nn.Module): void {
  tg.noGrad(() => {
    for (const m of model.modules()) {
      if (!(m instanceof nn.BatchNormBase)) continue;
      const c = [m.numFeatures];
      m.running_mean?.copy_(tg.randn(c));
      m.running_var?.copy_(tg.rand(c).add(0.5));
      m.weight?.copy_(tg.randn(c));
      m.bias?.copy_(tg.randn(c));
    }
  });
}

/** Exports on a batch-1 example, then compares ORT with the model in eval mode on fresh batches of 1 and 5; returns the max error. */
async function assertMatchesOrt(model: tg.nn.Module, sample: number[], opts: tg.onnx.ExportOptions = {}): Promise<number> {
  const bytes = tg.onnx.exportModel(model, tg.randn([1, ...sample]), opts);
  model.eval();
  let err = 0;
  for (const n of [1, 5]) {
    const x = tg.randn([n, ...sample]);
    const want = model.call(x) as tg.Tensor;
    const got = await runOrt(bytes, x);
    assert.deepEqual(got.dims, [...want.shape], `output shape for batch ${n}`);
    const w = want.dataSync();
    for (let i = 0; i < w.length; i++) err = Math.max(err, Math.abs(w[i]! - got.data[i]!));
  }
  worst = Math.max(worst, err);
  assert.ok(err <= ATOL, `max |ORT − tensorgrad| = ${err} > ${ATOL}`);
  return err;
}

// A tiny protobuf reader, enough to walk a ModelProto: field number → values (varints as numbers, the rest as bytes).
type Fields = Map<number, (number | Uint8Array)[]>;
function decode(bytes: Uint8Array): Fields {
  const out: Fields = new Map();
  let pos = 0;
  const varint = (): number => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = bytes[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return Number(BigInt.asIntN(64, v));
    }
  };
  while (pos < bytes.length) {
    const key = varint();
    const [field, wire] = [key >>> 3, key & 7];
    let value: number | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 5) {
      value = new DataView(bytes.buffer, bytes.byteOffset + pos, 4).getFloat32(0, true);
      pos += 4;
    } else if (wire === 2) {
      const n = varint();
      value = bytes.subarray(pos, pos + n);
      pos += n;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}
const all = (f: Fields, n: number) => f.get(n) ?? [];
const one = (f: Fields, n: number) => all(f, n)[0];
const text = (v: unknown) => new TextDecoder().decode(v as Uint8Array);
const msgs = (f: Fields, n: number) => all(f, n).map((v) => decode(v as Uint8Array));
/** ValueInfoProto → [name, dims] with dims as numbers, symbolic names, or null. */
function valueInfo(v: Fields): [string, (number | string | null)[]] {
  const tensorType = decode(one(decode(one(v, 2) as Uint8Array), 1) as Uint8Array);
  const dims = msgs(decode(one(tensorType, 2) as Uint8Array), 1).map((d) => (d.has(1) ? (one(d, 1) as number) : d.has(2) ? text(one(d, 2)) : null));
  return [text(one(v, 1)), dims];
}

const mlp = () => new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 4), new nn.Softmax(1));

function cnn(): tg.nn.Sequential {
  const model = new nn.Sequential(
    new nn.Conv2d(3, 8, 3, { padding: "same" }),
    new nn.BatchNorm2d(8),
    new nn.ReLU(),
    new nn.Conv2d(8, 8, 3, { stride: 2, groups: 4 }), // valid padding, stride 2, groups: 20 → 9
    new nn.MaxPool2d(2), // 9 → 4
    new nn.Conv2d(8, 16, [2, 4], { padding: "same", dilation: [1, 2] }), // asymmetric "same" pads
    new nn.AvgPool2d(2), // 4 → 2
    new nn.Conv2d(16, 16, 1, { padding: "valid", bias: false }),
    new nn.AdaptiveAvgPool2d(1),
    new nn.Flatten(),
    new nn.Dropout(0.5),
    new nn.Linear(16, 10),
  );
  randomizeBatchNorm(model);
  return model;
}

describe("exported models match tensorgrad in ONNX Runtime (batch 1 and 5)", () => {
  test("MLP: Linear → Gemm, ReLU, Softmax", async (t) => {
    t.diagnostic(`max error ${await assertMatchesOrt(mlp(), [8])}`);
  });

  test("CNN: Conv2d (same/valid, stride 2, groups, dilation), BatchNorm2d, MaxPool, AvgPool, GlobalAveragePool, Flatten, Dropout, Linear", async (t) => {
    t.diagnostic(`max error ${await assertMatchesOrt(cnn(), [3, 20, 20])}`);
  });

  test("Residual blocks (Add of input and block output), dense and convolutional", async () => {
    await assertMatchesOrt(
      new nn.Sequential(new nn.Linear(8, 8), new nn.Residual(new nn.Sequential(new nn.Linear(8, 8), new nn.Tanh(), new nn.Linear(8, 8))), new nn.ReLU(), new nn.Residual(new nn.Identity())),
      [8],
    );
    const conv = new nn.Sequential(
      new nn.Conv2d(2, 4, 3, { padding: 1 }),
      new nn.Residual(new nn.Sequential(new nn.Conv2d(4, 4, 3, { padding: "same" }), new nn.BatchNorm2d(4), new nn.ReLU())),
      new nn.AdaptiveAvgPool2d(1),
      new nn.Flatten(),
      new nn.Linear(4, 2),
    );
    randomizeBatchNorm(conv);
    await assertMatchesOrt(conv, [2, 6, 6]);
  });

  for (const opset of [13, 17, 20, 21]) {
    test(`activations at opset ${opset}: GELU (exact, tanh), LeakyReLU, Sigmoid, Tanh, LogSoftmax`, async () => {
      const model = new nn.Sequential(
        new nn.Linear(6, 12),
        new nn.GELU(),
        new nn.Linear(12, 12),
        new nn.GELU({ approximate: "tanh" }),
        new nn.LeakyReLU(0.2),
        new nn.Linear(12, 12),
        new nn.Sigmoid(),
        new nn.Linear(12, 12),
        new nn.Tanh(),
        new nn.Linear(12, 5),
        new nn.LogSoftmax(1),
      );
      await assertMatchesOrt(model, [6], { opset });
    });
  }

  test("Step → Greater + Cast; Softmax over the last dim", async () => {
    await assertMatchesOrt(new nn.Sequential(new nn.Linear(5, 7), new nn.Step()), [5]);
    await assertMatchesOrt(new nn.Sequential(new nn.Softmax(-1)), [3, 4]);
  });

  test("pooling options: padding, ceil mode, dilation, countIncludePad, divisorOverride", async () => {
    await assertMatchesOrt(new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true }), [2, 8, 8]);
    await assertMatchesOrt(new nn.MaxPool2d(2, { ceilMode: true }), [2, 7, 7]);
    await assertMatchesOrt(new nn.MaxPool2d(3, { stride: 1, padding: 1, dilation: 2 }), [2, 9, 9]);
    await assertMatchesOrt(new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true, countIncludePad: false }), [2, 8, 8]);
    await assertMatchesOrt(new nn.AvgPool2d(3, { stride: 2, padding: 1, ceilMode: true }), [2, 8, 8]);
    await assertMatchesOrt(new nn.AvgPool2d(3, { stride: 2, padding: 1 }), [2, 8, 8]);
    await assertMatchesOrt(new nn.AvgPool2d(2, { divisorOverride: 3 }), [2, 8, 8]);
  });

  test("AdaptiveAvgPool2d to other sizes: tiling windows (AveragePool), overlapping ones (MatMuls), a kept dim", async () => {
    await assertMatchesOrt(new nn.AdaptiveAvgPool2d(2), [3, 8, 6]);
    await assertMatchesOrt(new nn.AdaptiveAvgPool2d([3, 4]), [3, 7, 6]);
    await assertMatchesOrt(new nn.AdaptiveAvgPool2d([null, 1]), [3, 5, 6]);
  });

  test("shapes: Linear on [N, T, F] (MatMul), Flatten(2) and Flatten(0) (Reshape), BatchNorm1d on [N, C] and [N, C, L]", async () => {
    await assertMatchesOrt(new nn.Sequential(new nn.Linear(5, 3), new nn.Flatten(2)), [4, 5]);
    await assertMatchesOrt(new nn.Sequential(new nn.Linear(5, 3, { bias: false }), new nn.ReLU()), [4, 5]);
    await assertMatchesOrt(new nn.Flatten(2), [3, 4, 5]);
    await assertMatchesOrt(new nn.Flatten(0), [3, 4]);
    const bn = new nn.Sequential(new nn.BatchNorm1d(4), new nn.Linear(4, 4), new nn.BatchNorm1d(4, { affine: false }));
    randomizeBatchNorm(bn);
    await assertMatchesOrt(bn, [4]);
    const bn3 = new nn.BatchNorm1d(4);
    randomizeBatchNorm(bn3);
    await assertMatchesOrt(bn3, [4, 5]);
  });

  test("a parameter shared by two layers is stored once and used twice", async () => {
    const shared = new nn.Linear(6, 6);
    const model = new nn.Sequential(shared, new nn.Tanh(), shared);
    await assertMatchesOrt(model, [6]);
    const graph = decode(one(decode(tg.onnx.exportModel(model, tg.randn([1, 6]))), 7) as Uint8Array);
    assert.deepEqual(msgs(graph, 5).map((i) => text(one(i, 8))), ["0.weight", "0.bias"]);
  });

  test("an empty Sequential exports the identity", async () => {
    await assertMatchesOrt(new nn.Sequential(), [3]);
  });

  test("a Sequential subclass that keeps Sequential's forward exports like a Sequential", async () => {
    class Net extends nn.Sequential {}
    await assertMatchesOrt(new Net(new nn.Linear(3, 2), new nn.Sigmoid()), [3]);
  });
});

describe("tg.keras models", () => {
  const layers = () => [tg.keras.conv2d(4, 3, { activation: "relu" }), tg.keras.flatten(), tg.keras.dense(3, { activation: "softmax" })];

  test("channels-last input (NHWC batches, or flat rows) becomes Reshape/Transpose before the layers", async () => {
    await assertMatchesOrt(tg.keras.sequential([tg.keras.input([6, 6, 2], { dataFormat: "channelsLast" }), ...layers()]), [6, 6, 2]);
    await assertMatchesOrt(tg.keras.sequential([tg.keras.input([6, 6, 2], { dataFormat: "channelsLast" }), ...layers()]), [72]);
  });

  test("channels-first input, given as flat rows, and a model built by the export itself", async () => {
    await assertMatchesOrt(tg.keras.sequential([tg.keras.input([2, 6, 6]), ...layers()]), [72]);
    const unbuilt = tg.keras.sequential([tg.keras.dense(4, { activation: "tanh" }), tg.keras.dense(2)]);
    await assertMatchesOrt(unbuilt, [5]);
  });
});

describe("the exported bytes", () => {
  test("decode to the expected ModelProto: versions, producer, names, shapes, nodes, attributes, initializers", () => {
    const model = mlp();
    const bytes = tg.onnx.exportModel(model, tg.randn([2, 8]));
    const m = decode(bytes);
    assert.equal(one(m, 1), 8, "ir_version");
    assert.equal(text(one(m, 2)), "tensorgrad", "producer_name");
    assert.match(text(one(m, 6)), /tensorgrad/, "doc_string");
    const [opset] = msgs(m, 8);
    assert.equal(text(one(opset!, 1) ?? new Uint8Array()), "");
    assert.equal(one(opset!, 2), 17, "opset");
    const graph = decode(one(m, 7) as Uint8Array);
    assert.deepEqual(msgs(graph, 11).map(valueInfo), [["input", ["N", 8]]]);
    assert.deepEqual(msgs(graph, 12).map(valueInfo), [["output", ["N", 4]]]);
    const nodes = msgs(graph, 1);
    assert.deepEqual(nodes.map((n) => text(one(n, 4))), ["Gemm", "Relu", "Gemm", "Softmax"]);
    assert.deepEqual(nodes.map((n) => text(one(n, 3))), ["/0/Gemm", "/1/Relu", "/2/Gemm", "/3/Softmax"]);
    assert.deepEqual(all(nodes[0]!, 1).map(text), ["input", "0.weight", "0.bias"]);
    assert.deepEqual(all(nodes[3]!, 2).map(text), ["output"]);
    const attr = (n: Fields) => msgs(n, 5).map((a) => [text(one(a, 1)), one(a, 20), one(a, 3)]);
    assert.deepEqual(attr(nodes[0]!), [["transB", 2, 1]]);
    assert.deepEqual(attr(nodes[3]!), [["axis", 2, 1]]);
    const state = model.stateDict();
    const inits = msgs(graph, 5);
    assert.deepEqual(inits.map((i) => text(one(i, 8))), Object.keys(state));
    for (const init of inits) {
      const want = state[text(one(init, 8))]!;
      assert.deepEqual(all(init, 1), [...want.shape], "dims");
      assert.equal(one(init, 2), 1, "data_type FLOAT");
      const raw = one(init, 9) as Uint8Array;
      assert.deepEqual(new Float32Array(raw.slice().buffer), Float32Array.from(want.dataSync()), "raw_data");
    }
  });

  test("ONNX Runtime sees one input 'input' and one output 'output'", async () => {
    const session = await ort.InferenceSession.create(tg.onnx.exportModel(cnn(), tg.randn([1, 3, 20, 20])));
    assert.deepEqual([...session.inputNames], ["input"]);
    assert.deepEqual([...session.outputNames], ["output"]);
  });

  test("dynamicBatch: false fixes the batch size to the example's", async () => {
    const model = mlp();
    const bytes = tg.onnx.exportModel(model, tg.randn([2, 8]), { dynamicBatch: false });
    const graph = decode(one(decode(bytes), 7) as Uint8Array);
    assert.deepEqual(msgs(graph, 11).map(valueInfo), [["input", [2, 8]]]);
    const x = tg.randn([2, 8]);
    const got = await runOrt(bytes, x);
    assert.deepEqual(got.dims, [2, 4]);
    await assert.rejects(runOrt(bytes, tg.randn([5, 8])));
  });

  test("exporting leaves the model's training flags and BatchNorm statistics as they were", () => {
    const model = cnn().train();
    const before = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, Array.from(v.dataSync())]));
    tg.onnx.exportModel(model, tg.randn([2, 3, 20, 20]));
    assert.ok(model.modules().every((m) => m.training));
    for (const [k, v] of Object.entries(model.stateDict())) assert.deepEqual(Array.from(v.dataSync()), before[k], k);
    const evalModel = cnn().eval();
    tg.onnx.exportModel(evalModel, tg.randn([1, 3, 20, 20]));
    assert.ok(evalModel.modules().every((m) => !m.training));
  });
});

describe("errors", () => {
  /** `fn` throws a plain Error (not a crash's TypeError) matching every pattern. */
  function assertFails(fn: () => unknown, ...patterns: RegExp[]): void {
    assert.throws(fn, (e: unknown) => {
      assert.equal(Object.getPrototypeOf(e), Error.prototype, `expected a plain Error, got ${String(e)}`);
      for (const p of patterns) assert.match((e as Error).message, p);
      return true;
    });
  }

  class Custom extends nn.Module {
    fc = new nn.Linear(4, 4);
    override forward(x: tg.Tensor): tg.Tensor {
      return this.fc.call(x).mul(2);
    }
  }

  test("a module with its own forward is named, with the list of supported modules", () => {
    const x = tg.randn([1, 4]);
    assertFails(() => tg.onnx.exportModel(new Custom(), x), /cannot export the model \(Custom\)/, /custom/, /Supported modules: .*Sequential, Residual, Linear, Conv2d/);
    assertFails(() => tg.onnx.exportModel(new nn.Sequential(new nn.ReLU(), new Custom()), x), /cannot export "1" \(Custom\)/);
    assertFails(() => tg.onnx.exportModel(new nn.Sequential(new nn.Residual(new Custom())), x), /"0\.block" \(Custom\)/);
    class Doubled extends nn.Sequential {
      override forward(x: tg.Tensor): tg.Tensor {
        return super.forward(x).mul(2);
      }
    }
    assertFails(() => tg.onnx.exportModel(new Doubled(new nn.ReLU()), x), /cannot export the model \(Doubled\)/);
    assert.ok(tg.onnx.supportedModules.includes("Conv2d"));
  });

  test("what ONNX cannot express: BatchNorm without running statistics, divisorOverride with ceilMode, forward hooks", () => {
    assertFails(() => tg.onnx.exportModel(new nn.BatchNorm1d(3, { trackRunningStats: false }), tg.randn([2, 3])), /"?BatchNorm1d\)? has no running statistics/);
    assertFails(() => tg.onnx.exportModel(new nn.AvgPool2d(2, { ceilMode: true, divisorOverride: 3 }), tg.randn([1, 1, 5, 5])), /divisorOverride/);
    const relu = new nn.ReLU();
    relu.registerForwardHook(() => undefined);
    assertFails(() => tg.onnx.exportModel(new nn.Sequential(relu), tg.randn([1, 3])), /"0" \(ReLU\) has forward hooks/);
  });

  test("bad arguments: images without a batch dim, integer input, opset out of range, not a Tensor", () => {
    assertFails(() => tg.onnx.exportModel(new nn.Conv2d(1, 2, 3), tg.randn([1, 5, 5])), /batched images \[N, C, H, W\]/);
    assertFails(() => tg.onnx.exportModel(mlp(), tg.zeros([1, 8], { dtype: "int32" })), /floating-point/);
    assert.throws(() => tg.onnx.exportModel(mlp(), tg.randn([1, 8]), { opset: 12 }), RangeError);
    assert.throws(() => tg.onnx.exportModel(mlp(), [[1, 2]] as unknown as tg.Tensor), TypeError);
  });
});

describe("tg.onnx.save", () => {
  test("writes the exported bytes atomically (no temporary file left) and ONNX Runtime loads the file", async () => {
    const model = cnn();
    const x = tg.randn([1, 3, 20, 20]);
    const file = join(dir, "cnn.onnx");
    await tg.onnx.save(model, x, file);
    assert.deepEqual(readFileSync(file), Buffer.from(tg.onnx.exportModel(model, x)));
    model.eval();
    const got = await runOrt(file, x);
    const want = (model.call(x) as tg.Tensor).dataSync();
    assert.ok(got.data.every((v, i) => Math.abs(v - want[i]!) <= ATOL));
    tg.onnx.saveSync(mlp(), tg.randn([1, 8]), join(dir, "mlp.onnx"));
    assert.deepEqual(readdirSync(dir).sort(), ["cnn.onnx", "mlp.onnx"]);
  });

  test("an export error leaves an existing file untouched", async () => {
    const file = join(dir, "keep.onnx");
    tg.onnx.saveSync(mlp(), tg.randn([1, 8]), file);
    const before = readFileSync(file);
    await assert.rejects(tg.onnx.save(new nn.Sequential(new nn.Conv2d(1, 1, 1)), tg.randn([1, 8]), file), /batched images/);
    assert.deepEqual(readFileSync(file), before);
  });
});

const PYTHON = "/usr/bin/python3";
const hasOnnx = spawnSync(PYTHON, ["-c", "import onnx"], { encoding: "utf8" }).status === 0;

describe("the onnx package's checker", { skip: hasOnnx ? false : "needs /usr/bin/python3 with the onnx package (apt install python3-onnx)" }, () => {
  test("onnx.checker.check_model (full check, with shape inference) accepts the exported MLP, CNN and residual files", () => {
    const files = {
      mlp: [mlp(), [1, 8]],
      cnn: [cnn(), [1, 3, 20, 20]],
      residual: [new nn.Sequential(new nn.Linear(8, 8), new nn.Residual(new nn.Sequential(new nn.Linear(8, 8), new nn.GELU()))), [1, 8]],
    } as const;
    const paths = Object.entries(files).map(([name, [model, shape]]) => {
      const p = join(dir, `check-${name}.onnx`);
      tg.onnx.saveSync(model, tg.randn([...shape]), p);
      return p;
    });
    const script = "import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint('ok')";
    const r = spawnSync(PYTHON, ["-c", script, ...paths], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "ok");
  });
});
