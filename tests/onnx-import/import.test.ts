/**
 * @file tg.onnx.importModel / inspect: models exported by tg.onnx.exportModel come back with the
 * same outputs (any batch size), their parameters under the same names, and they train; unsupported
 * ops and hostile files are clear Errors (a fast-check fuzz run over mutated and truncated files).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import * as tg from "../../src/index.ts";
import { AttributeType, DataType } from "../../src/io/onnx-fields.ts";
import { encodeModel, type Graph } from "../../src/io/onnx-proto.ts";
import { decodeModel, decodeTensorProto } from "../../src/io/onnx-import/proto.ts";
import { onnxTypeName, tensorFromProto } from "../../src/io/onnx-import/tensors.ts";

const { nn } = tg;

function maxDiff(a: tg.Tensor, b: tg.Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  const x = a.dataSync();
  const y = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(y[i]!)));
  return m;
}

function mlp(): tg.nn.Module {
  return new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 4), new nn.LogSoftmax(1));
}

function cnn(): tg.nn.Module {
  const m = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3, { stride: 2 }),
    new nn.Tanh(),
    new nn.Flatten(),
    new nn.Linear(6 * 1 * 1, 3),
  );
  tg.noGrad(() => {
    const bn = m.modules().find((x) => x instanceof nn.BatchNorm2d) as tg.nn.BatchNorm2d;
    bn.running_mean!.copy_(tg.randn([4]));
    bn.running_var!.copy_(tg.rand([4]).add(0.5));
  });
  return m.eval();
}

describe("onnx.importModel round trip (exportModel → importModel)", () => {
  for (const [name, make, inShape] of [
    ["MLP", mlp, [6]],
    ["CNN with BatchNorm", cnn, [1, 8, 8]],
  ] as const) {
    test(`${name}: same outputs for batch 1 and 5, same parameter names`, async () => {
      tg.manualSeed(1);
      const model = make();
      model.eval();
      const bytes = tg.onnx.exportModel(model, tg.randn([1, ...inShape]));
      const imported = await tg.onnx.importModel(bytes);
      for (const n of [1, 5]) {
        const x = tg.randn([n, ...inShape]);
        const d = maxDiff(imported.call(x) as tg.Tensor, tg.noGrad(() => model.call(x)));
        assert.ok(d < 1e-5, `batch ${n}: relative difference ${d}`);
      }
      const names = Object.keys(imported.stateDict());
      for (const [k] of model.namedParameters()) assert.ok(names.includes(k), `${k} in ${names.join(", ")}`);
    });
  }

  test("the imported MLP trains: Adam lowers the loss, gradients reach every weight", () => {
    tg.manualSeed(2);
    const model = tg.onnx.importModelSync(tg.onnx.exportModel(mlp(), tg.randn([1, 6])));
    const x = tg.randn([32, 6]);
    const y = tg.randint(0, 4, [32]);
    const opt = new tg.optim.Adam(model.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      opt.zeroGrad();
      const loss = tg.F.nllLoss(model.call(x) as tg.Tensor, y);
      loss.backward();
      losses.push(loss.item());
      opt.step();
    }
    for (const p of model.parameters()) assert.ok(p.grad !== null);
    assert.ok(losses.at(-1)! < losses[0]! * 0.8, `loss ${losses[0]} → ${losses.at(-1)}`);
  });

  test("stateDict round-trips through loadStateDict", () => {
    const a = tg.onnx.importModelSync(tg.onnx.exportModel(mlp(), tg.randn([1, 6])));
    const b = tg.onnx.importModelSync(tg.onnx.exportModel(mlp(), tg.randn([1, 6])));
    b.loadStateDict(a.stateDict());
    const x = tg.randn([3, 6]);
    assert.equal(maxDiff(a.call(x) as tg.Tensor, b.call(x) as tg.Tensor), 0);
  });
});

describe("onnx.inspect", () => {
  test("opset, inputs with a symbolic batch, op counts and parameter count", () => {
    const model = mlp();
    const info = tg.onnx.inspect(tg.onnx.exportModel(model, tg.randn([1, 6])));
    assert.equal(info.opset, 17);
    assert.deepEqual(info.inputs, [{ name: "input", type: "float", shape: ["N", 6] }]);
    assert.equal(info.ops.Gemm, 2);
    assert.equal(info.ops.Relu, 1);
    assert.deepEqual(info.unsupported, []);
    assert.equal(info.parameters, 6 * 16 + 16 + 16 * 4 + 4);
  });
});

describe("onnx protobuf: the writer and the reader share onnx-fields.ts", () => {
  test("decodeModel reads back every field encodeModel writes", () => {
    const raw = new Uint8Array(new Float32Array([1, -2, 3.5, 0.25, 8, 9]).buffer);
    const bytes = encodeModel({
      irVersion: 8,
      opsetVersion: 13,
      producerName: "writer",
      docString: "doc",
      graph: {
        name: "g",
        nodes: [
          {
            name: "n0",
            opType: "Fancy",
            inputs: ["x", "w"],
            outputs: ["y", "z"],
            attributes: [
              { name: "f", type: "float", value: 0.5 },
              { name: "i", type: "int", value: -3 },
              { name: "s", type: "string", value: "same" },
              { name: "fs", type: "floats", value: [1.5, -2] },
              { name: "is", type: "ints", value: [2 ** 40, -1, 0] },
            ],
          },
        ],
        initializers: [{ name: "w", dataType: DataType.FLOAT, dims: [2, 3], raw }],
        inputs: [{ name: "x", elemType: DataType.BOOL, dims: ["N", 3, null] }],
        outputs: [{ name: "y", elemType: DataType.INT64, dims: [] }],
      },
    });
    const m = decodeModel(bytes);
    assert.deepEqual([m.irVersion, m.producerName, m.docString, m.opsets], [8, "writer", "doc", [{ domain: "", version: 13 }]]);
    const [node] = m.graph.nodes;
    assert.deepEqual([m.graph.name, node!.name, node!.opType, node!.inputs, node!.outputs], ["g", "n0", "Fancy", ["x", "w"], ["y", "z"]]);
    assert.deepEqual(
      node!.attributes.map((a) => [a.name, a.type, a.value]),
      [
        ["f", AttributeType.FLOAT, 0.5],
        ["i", AttributeType.INT, -3],
        ["s", AttributeType.STRING, "same"],
        ["fs", AttributeType.FLOATS, [1.5, -2]],
        ["is", AttributeType.INTS, [2 ** 40, -1, 0]],
      ],
    );
    const [w] = m.graph.initializers;
    assert.deepEqual([w!.name, w!.dataType, w!.dims, [...tensorFromProto(w!).dataSync()]], ["w", DataType.FLOAT, [2, 3], [1, -2, 3.5, 0.25, 8, 9]]);
    assert.deepEqual(m.graph.inputs, [{ name: "x", elemType: DataType.BOOL, dims: ["N", 3, null] }]);
    assert.deepEqual(m.graph.outputs, [{ name: "y", elemType: DataType.INT64, dims: [] }]);
  });

  test("attributes from before AttributeProto.type: the first value given, in AttributeType order", () => {
    // hand-encoded with onnx.proto's numbers (every body under 128 bytes, so each length is one byte)
    const len = (field: number, body: number[]) => [(field << 3) | 2, body.length, ...body];
    const str = (field: number, text: string) => len(field, [...new TextEncoder().encode(text)]);
    const model = (...attributes: number[][]) => {
      const node = [...str(4, "Relu"), ...attributes.flatMap((a) => len(5, a))]; // NodeProto op_type, attribute
      return new Uint8Array([0x08, 8, ...len(7, len(1, node))]); // ModelProto ir_version 8, graph { node }
    };
    const packedInts = [...str(1, "k"), ...len(8, [3, 4])]; // name, ints (packed)
    const emptyFloatsAndInt = [...str(1, "e"), ...len(7, []), 0x18, 5]; // name, floats (packed, none), i = 5
    const attrs = decodeModel(model(packedInts, emptyFloatsAndInt)).graph.nodes[0]!.attributes;
    assert.deepEqual(
      attrs.map((a) => [a.name, a.type, a.value]),
      [
        ["k", AttributeType.INTS, [3, 4]],
        ["e", AttributeType.INT, 5],
      ],
    );
    assert.throws(() => decodeModel(model(str(1, "z"))), /attribute "z" of type 0 has no value/);
  });

  test("DataType names follow their codes", () => {
    for (const [name, code] of Object.entries(DataType)) assert.equal(onnxTypeName(code), name.toLowerCase());
  });
});

/** A one-node graph `y = op(x)` with x float [2, 3]. */
function oneNode(opType: string, extra: Partial<Graph> = {}): Uint8Array {
  return encodeModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: "test",
    docString: "",
    graph: {
      name: "g",
      nodes: [{ name: "n0", opType, inputs: ["x"], outputs: ["y"], attributes: [] }],
      initializers: [],
      inputs: [{ name: "x", elemType: DataType.FLOAT, dims: [2, 3] }],
      outputs: [{ name: "y", elemType: DataType.FLOAT, dims: [2, 3] }],
      ...extra,
    },
  });
}

describe("onnx.importModel errors", () => {
  test("an unsupported op names the op, the node and the supported ops", () => {
    assert.throws(() => tg.onnx.importModelSync(oneNode("FancyOp")), /op FancyOp \(node "n0"\) is not supported; supported ops: Abs, Add, .*Conv/);
    assert.deepEqual(tg.onnx.inspect(oneNode("FancyOp")).unsupported, ["FancyOp"]);
  });

  test("a node reading a missing value, a cycle, an output nobody computes", () => {
    const missing = oneNode("Relu", { nodes: [{ name: "n0", opType: "Relu", inputs: ["nope"], outputs: ["y"], attributes: [] }] });
    assert.throws(() => tg.onnx.importModelSync(missing), /node "n0" \(Relu\) reads "nope", which no node, input or initializer produces/);
    const cycle = oneNode("Relu", {
      nodes: [
        { name: "a", opType: "Add", inputs: ["x", "b_out"], outputs: ["a_out"], attributes: [] },
        { name: "b", opType: "Relu", inputs: ["a_out"], outputs: ["b_out"], attributes: [] },
        { name: "c", opType: "Relu", inputs: ["b_out"], outputs: ["y"], attributes: [] },
      ],
    });
    assert.throws(() => tg.onnx.importModelSync(cycle), /cycle/);
    const noOutput = oneNode("Relu", { outputs: [{ name: "zzz", elemType: DataType.FLOAT, dims: [2, 3] }] });
    assert.throws(() => tg.onnx.importModelSync(noOutput), /graph output "zzz" is not produced/);
  });

  test("a tensor claiming 2^60 elements, or more elements than bytes, is an Error before any allocation", () => {
    const huge = oneNode("Relu", { initializers: [{ name: "w", dataType: DataType.FLOAT, dims: [2 ** 30, 2 ** 30], raw: new Uint8Array(4) }] });
    assert.throws(() => tg.onnx.importModelSync(huge), /initializer "w" claims \[1073741824,1073741824\]/);
    const short = oneNode("Relu", { initializers: [{ name: "w", dataType: DataType.FLOAT, dims: [1000], raw: new Uint8Array(4) }] });
    assert.throws(() => tg.onnx.importModelSync(short), /needs 4000 bytes of raw_data, the file holds 4/);
  });

  test("shape inputs asking for huge tensors are Errors, not allocations", () => {
    const int64 = (values: number[]) => {
      const raw = new Uint8Array(values.length * 8);
      values.forEach((v, i) => {
        new DataView(raw.buffer).setBigInt64(i * 8, BigInt(v), true);
      });
      return raw;
    };
    const huge = oneNode("ConstantOfShape", {
      nodes: [{ name: "c", opType: "ConstantOfShape", inputs: ["s"], outputs: ["y"], attributes: [] }],
      initializers: [{ name: "s", dataType: DataType.INT64, dims: [2], raw: int64([2 ** 20, 2 ** 20]) }],
    });
    assert.throws(() => tg.onnx.importModelSync(huge).call(tg.zeros([2, 3])), /ConstantOfShape: shape \[1048576,1048576\] is not a valid tensor shape/);
    const pads = oneNode("Pad", {
      nodes: [{ name: "p", opType: "Pad", inputs: ["x", "pads"], outputs: ["y"], attributes: [] }],
      initializers: [{ name: "pads", dataType: DataType.INT64, dims: [4], raw: int64([0, 1e12, 0, 0]) }],
    });
    assert.throws(() => tg.onnx.importModelSync(pads).call(tg.zeros([2, 3])), /Pad: shape \[2,2147483650\] is not a valid tensor shape/);
  });

  test("external data is an Error naming the file", () => {
    const utf8 = (s: string) => [...new TextEncoder().encode(s)];
    const entry = [0x0a, 8, ...utf8("location"), 0x12, 5, ...utf8("w.bin")];
    const bytes = new Uint8Array([0x08, 0x02, 0x10, 0x01, 0x42, 1, 0x77, 0x6a, entry.length, ...entry, 0x70, 0x01]);
    assert.throws(() => tensorFromProto(decodeTensorProto(bytes)), /tensor "w" keeps its data in an external file \(w\.bin\)/);
  });

  test("truncated files are Errors naming the message and byte", () => {
    const bytes = tg.onnx.exportModel(mlp(), tg.randn([1, 6]));
    for (const cut of [1, 7, 100, bytes.length - 3]) assert.throws(() => tg.onnx.importModelSync(bytes.slice(0, cut)), /onnx: /);
  });

  test("fuzz: mutated, truncated and random files import or throw an Error, nothing else", () => {
    const valid = tg.onnx.exportModel(mlp(), tg.randn([1, 6]));
    let runs = 0;
    const tryImport = (b: Uint8Array) => {
      runs++;
      try {
        const m = tg.onnx.importModelSync(b);
        tg.onnx.inspect(b);
        m.call(tg.randn([2, 6]));
      } catch (e) {
        if (!(e instanceof Error)) throw new Error(`threw a non-Error: ${String(e)}`);
        if (e instanceof RangeError && /Invalid typed array length|Array buffer allocation failed/.test(e.message)) throw e;
      }
    };
    const mutation = fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(mutation, fc.nat(valid.length), (edits, cut) => {
        const b = valid.slice(0, Math.max(1, cut));
        for (const [i, v] of edits) if (i < b.length) b[i] = v;
        tryImport(b);
      }),
      { numRuns: 8000, seed: 19 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => tryImport(b)), { numRuns: 2000, seed: 19 });
    console.log(`# fuzz: ${runs} inputs`);
  });
});
