import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as tg from "../src/index.ts";

const { serialize, deserialize } = tg.io;
const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
const PYTHON = "/usr/bin/python3";
const dir = mkdtempSync(join(tmpdir(), "tg-safetensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The raw bytes of a tensor's elements (row-major), to compare values bit for bit (NaN payloads, -0). */
function rawBytes(t: tg.Tensor): Uint8Array {
  const a = t.dataSync();
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function assertSameTensor(got: tg.Tensor | undefined, want: tg.Tensor, name: string): void {
  assert.ok(got, `missing tensor ${name}`);
  assert.equal(got.dtype, want.dtype, `${name} dtype`);
  assert.deepEqual([...got.shape], [...want.shape], `${name} shape`);
  assert.deepEqual(rawBytes(got), rawBytes(want), `${name} values`);
}

/** A safetensors file from a header (object or raw JSON text) and data bytes; `length` overrides the u64 prefix. */
function fileOf(header: string | object, data: ArrayLike<number> = [], opts: { length?: bigint } = {}): Uint8Array {
  const json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function headerText(bytes: Uint8Array): string {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return new TextDecoder().decode(bytes.subarray(8, 8 + n));
}

/** Throws unless `fn` throws a plain Error (not TypeError / RangeError from a crash) whose message matches. */
function assertRejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal(Object.getPrototypeOf(e), Error.prototype, `expected a plain Error, got ${String(e)}`);
    assert.match((e as Error).message, message);
    return true;
  });
}

describe("serialize / deserialize", () => {
  test("every dtype round-trips bit for bit, with NaN, ±0, ±Infinity and extreme values", () => {
    const f32 = new Float32Array([1.5, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e-45, 3.4e38, -7]);
    const dict = {
      f32: tg.tensor(f32).reshape([2, 4]),
      f64: tg.tensor(new Float64Array([Math.PI, -0, Number.NaN, 5e-324, Number.MAX_VALUE, -1 / 3])),
      i32: tg.tensor([[-2147483648, 2147483647], [0, -1]], { dtype: "int32" }),
      bool: tg.tensor([[true, false, true], [false, false, true]]),
    };
    const back = deserialize(serialize(dict)).tensors;
    assert.deepEqual(Object.keys(back), Object.keys(dict));
    for (const [k, v] of Object.entries(dict)) assertSameTensor(back[k], v, k);
  });

  test("0-d and empty tensors", () => {
    const dict = {
      scalar: tg.tensor(2.5),
      intScalar: tg.tensor(-3, { dtype: "int32" }),
      boolScalar: tg.tensor(true),
      empty: tg.zeros([0], { dtype: "float64" }),
      empty2d: tg.zeros([3, 0, 2]),
      emptyBool: tg.zeros([0, 5], { dtype: "bool" }),
    };
    const bytes = serialize(dict);
    const back = deserialize(bytes).tensors;
    for (const [k, v] of Object.entries(dict)) assertSameTensor(back[k], v, k);
    assert.equal(back.scalar!.item(), 2.5);
    assert.deepEqual(deserialize(serialize({})), { tensors: {}, metadata: {} });
  });

  test("non-contiguous views are written contiguous", () => {
    const base = tg.arange(0, 24).reshape([2, 3, 4]);
    const dict = {
      transposed: base.transpose(0, 2),
      permuted: base.permute(1, 2, 0),
      narrowed: base.narrow(2, 1, 2),
      expanded: tg.tensor([1, 2, 3]).expand([2, 3]),
      offset: tg.tensor([[1, 2], [3, 4]], { dtype: "int32" }).narrow(0, 1, 1),
    };
    for (const t of Object.values(dict).slice(0, 4)) assert.equal(t.isContiguous(), false);
    const back = deserialize(serialize(dict)).tensors;
    for (const [k, v] of Object.entries(dict)) {
      assertSameTensor(back[k], v, k);
      assert.deepEqual(back[k]!.toArray(), v.toArray());
      assert.ok(back[k]!.isContiguous());
    }
  });

  test("metadata round-trips; absent metadata reads as {}", () => {
    const metadata = { format: "pt", epoch: "3", "ünïcode ✓": "line\nbreak \"quoted\"", empty: "" };
    const bytes = serialize({ w: tg.ones([2]) }, metadata);
    assert.deepEqual(deserialize(bytes).metadata, metadata);
    assert.deepEqual(deserialize(serialize({ w: tg.ones([2]) })).metadata, {});
    assert.ok(!headerText(serialize({ w: tg.ones([2]) })).includes("__metadata__"));
  });

  test("the header is padded to 8 bytes, keeps insertion order, and each tensor is aligned to its element size", () => {
    const dict = {
      flag: tg.tensor([true, false, true]),
      w: tg.ones([3]),
      d: tg.ones([1], { dtype: "float64" }),
      i: tg.ones([2], { dtype: "int32" }),
      flag2: tg.tensor([true]),
    };
    const bytes = serialize(dict, { a: "b" });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal(n % 8, 0);
    const text = headerText(bytes);
    assert.match(text, /^\{"__metadata__":\{"a":"b"\},"flag":/);
    assert.match(text, /^[^ ]*} *$/);
    const header = JSON.parse(text);
    assert.deepEqual(Object.keys(header), ["__metadata__", "flag", "w", "d", "i", "flag2"]);
    // widest first, insertion order within a width
    assert.deepEqual(header.d.data_offsets, [0, 8]);
    assert.deepEqual(header.w.data_offsets, [8, 20]);
    assert.deepEqual(header.i.data_offsets, [20, 28]);
    assert.deepEqual(header.flag.data_offsets, [28, 31]);
    assert.deepEqual(header.flag2.data_offsets, [31, 32]);
    assert.equal(bytes.length, 8 + n + 32);
  });

  test("reads the reference implementation's documented example (unpadded header)", () => {
    const header = '{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}';
    assert.equal(header.length, 0x3c);
    const { tensors } = deserialize(fileOf(header, new Uint8Array(16)));
    assert.deepEqual(tensors.test!.toArray(), [[0, 0], [0, 0]]);
    assert.equal(tensors.test!.dtype, "int32");
  });

  test("accepts Buffer and ArrayBuffer input, and a Buffer slice of a larger pool", () => {
    const bytes = serialize({ x: tg.tensor([1, 2, 3]) });
    const padded = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    for (const input of [Buffer.from(bytes), padded, bytes.slice().buffer])
      assert.deepEqual(deserialize(input).tensors.x!.toArray(), [1, 2, 3]);
  });

  test("names such as __proto__, constructor and unicode stay plain keys", () => {
    // Object.fromEntries defines own properties, so "__proto__" is a plain key here
    const dict = Object.fromEntries([["__proto__", tg.ones([1])], ["constructor", tg.zeros([1])], ["ünï.cödé 🙂", tg.ones([2])]]);
    const back = deserialize(serialize(dict)).tensors;
    assert.deepEqual(Object.keys(back), ["__proto__", "constructor", "ünï.cödé 🙂"]);
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
    assert.ok(Object.getOwnPropertyDescriptor(back, "__proto__")?.value instanceof tg.Tensor);
  });

  test("serialize rejects what is not a dict of tensors", () => {
    assert.throws(() => serialize({ a: [1, 2] as unknown as tg.Tensor }), /value of "a" is an array, not a Tensor/);
    assert.throws(() => serialize(null as unknown as Record<string, tg.Tensor>), TypeError);
    assert.throws(() => serialize({ __metadata__: tg.ones([1]) }), /reserved/);
    assert.throws(() => serialize({}, { a: 1 as unknown as string }), /metadata values must be strings/);
  });
});

describe("files: tg.save / tg.load", () => {
  class Net extends tg.nn.Module {
    weight = new tg.nn.Parameter(tg.randn([3, 4]));
    bias = new tg.nn.Parameter(tg.zeros([3]));
    constructor() {
      super();
      this.registerBuffer("steps", tg.tensor(5, { dtype: "int32" }));
    }
  }

  test("a module's stateDict round-trips through a file into another module", async () => {
    const file = join(dir, "model.safetensors");
    const a = new Net();
    await tg.save(a.stateDict(), file);
    const dict = await tg.load(file);
    assert.deepEqual(Object.keys(dict), ["weight", "bias", "steps"]);
    const b = new Net();
    b.loadStateDict(dict);
    for (const [k, v] of Object.entries(a.stateDict())) assertSameTensor(b.stateDict()[k], v, k);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(".")), [], "no temp file left");
  });

  test("saveSync / loadSync / loadFile with metadata; save overwrites", async () => {
    const file = join(dir, "sync.safetensors");
    tg.saveSync({ x: tg.ones([2]) }, file);
    tg.saveSync({ y: tg.tensor([1, 2], { dtype: "int32" }) }, file, { metadata: { note: "second" } });
    assert.deepEqual(Object.keys(tg.loadSync(file)), ["y"]);
    const { tensors, metadata } = await tg.io.loadFile(file);
    assert.deepEqual(tensors.y!.toArray(), [1, 2]);
    assert.deepEqual(metadata, { note: "second" });
    assert.deepEqual(readFileSync(file), Buffer.from(serialize({ y: tg.tensor([1, 2], { dtype: "int32" }) }, { note: "second" })));
  });

  /** A tensor whose data cannot be produced: fails in the middle of writing a file. */
  class Broken extends tg.Tensor {
    override dataSync(): never {
      throw new Error("disk gremlin");
    }
  }

  for (const mode of ["save", "saveSync"] as const) {
    const write = (d: Record<string, tg.Tensor>, f: string) => (mode === "save" ? tg.save(d, f) : Promise.resolve().then(() => tg.saveSync(d, f)));

    test(`${mode} is atomic: a failure midway leaves the old file intact and no temp file`, async () => {
      const sub = join(dir, `atomic-${mode}`);
      mkdirSync(sub);
      const file = join(sub, "m.safetensors");
      await write({ old: tg.ones([4]) }, file);
      const before = readFileSync(file);
      const broken = new Broken(new Float32Array(4), "float32", [4]);
      await assert.rejects(write({ a: tg.ones([1000]), b: broken }, file), /disk gremlin/);
      assert.deepEqual(readFileSync(file), before);
      assert.deepEqual(readdirSync(sub), ["m.safetensors"]);
      // the rename fails (the target is a directory): the temp file, fully written by then, is removed
      mkdirSync(join(sub, "taken.safetensors"));
      writeFileSync(join(sub, "taken.safetensors", "inside"), "x");
      await assert.rejects(write({ a: tg.ones([2]) }, join(sub, "taken.safetensors")));
      assert.deepEqual(readdirSync(sub).sort(), ["m.safetensors", "taken.safetensors"]);
      // invalid input fails before touching the disk
      await assert.rejects(write({ a: "no" as unknown as tg.Tensor }, file), TypeError);
      assert.deepEqual(readFileSync(file), before);
      await assert.rejects(write({ a: tg.ones([1]) }, join(sub, "missing-dir", "x.safetensors")), /ENOENT/);
    });
  }

  test("load errors name the file and the problem", async () => {
    const file = join(dir, "bad.safetensors");
    writeFileSync(file, fileOf('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', [0, 0, 0]));
    const pattern = /safetensors file ".*bad\.safetensors": tensor "a" has data_offsets \[0, 8\] past the end of the 3-byte data section/;
    await assert.rejects(tg.load(file), pattern);
    assert.throws(() => tg.loadSync(file), pattern);
    await assert.rejects(tg.load(join(dir, "nope.safetensors")), /ENOENT.*nope\.safetensors/);
    await assert.rejects(tg.load(dir), /safetensors file ".*": not a regular file/);
    assert.throws(() => tg.loadSync(dir), /not a regular file/);
    writeFileSync(file, new Uint8Array(3));
    await assert.rejects(tg.load(file), /bad\.safetensors": 3 bytes is too short/);
  });
});

describe("files written by PyTorch", () => {
  type Expected = {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; loads_as: tg.DType; shape: number[]; values: (number | boolean | string)[] }>;
  };
  const decodeValue = (v: number | boolean | string) =>
    v === "nan" ? Number.NaN : v === "inf" ? Number.POSITIVE_INFINITY : v === "-inf" ? Number.NEGATIVE_INFINITY : v === true ? 1 : v === false ? 0 : v;

  test("tests/fixtures/torch_written.safetensors loads with the values PyTorch wrote (F16/BF16/I64/I8/I16/U8 converted)", async () => {
    const expected = JSON.parse(readFileSync(join(FIXTURES, "torch_written.json"), "utf8")) as Expected;
    const { tensors, metadata } = await tg.io.loadFile(join(FIXTURES, "torch_written.safetensors"));
    assert.deepEqual(metadata, expected.metadata);
    assert.deepEqual(Object.keys(tensors).sort(), Object.keys(expected.tensors).sort());
    const dtypes = new Set(Object.values(expected.tensors).map((e) => e.dtype));
    for (const d of ["F32", "F64", "I32", "BOOL", "I64", "F16", "BF16", "U8", "I8", "I16"]) assert.ok(dtypes.has(d), d);
    for (const [name, want] of Object.entries(expected.tensors)) {
      const t = tensors[name]!;
      assert.equal(t.dtype, want.loads_as, name);
      assert.deepEqual([...t.shape], want.shape, name);
      const got = [...t.dataSync()];
      assert.equal(got.length, want.values.length, name);
      for (const [i, v] of want.values.entries()) assert.ok(Object.is(got[i], decodeValue(v)), `${name}[${i}]: ${got[i]} vs ${v}`);
    }
    assert.equal(tensors.scalar!.ndim, 0);
    assert.equal(tensors["bn.num_batches_tracked"]!.item(), 7);
  });

  const torchAvailable = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
  test(
    "PyTorch reads what tensorgrad writes (tests/fixtures/make_safetensors.py verify)",
    { skip: torchAvailable ? false : "python3-torch not installed" },
    async () => {
      const sub = join(dir, "to-torch");
      mkdirSync(sub);
      const dict: Record<string, tg.Tensor> = {
        "layer.0.weight": tg.randn([3, 4]),
        "layer.0.bias": tg.tensor(new Float32Array([Number.NaN, -0, Number.POSITIVE_INFINITY])),
        double: tg.tensor(new Float64Array([1 / 3, -2.5e-300, Number.NEGATIVE_INFINITY])),
        count: tg.tensor([[-2147483648, 2147483647], [7, -1]], { dtype: "int32" }),
        mask: tg.tensor([[true, false], [false, true]]),
        scalar: tg.tensor(3.25, { dtype: "float64" }),
        steps: tg.tensor(12, { dtype: "int32" }),
        empty: tg.zeros([0, 4]),
        transposed: tg.arange(0, 6).reshape([2, 3]).t(),
        "ünï.cödé": tg.tensor([true]),
      };
      const encode = (x: number, isBool: boolean) =>
        isBool ? x === 1 : Number.isNaN(x) ? "nan" : x === Number.POSITIVE_INFINITY ? "inf" : x === Number.NEGATIVE_INFINITY ? "-inf" : x;
      const names = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" } as const;
      const expected: Expected = { metadata: { format: "pt", by: "tensorgrad" }, tensors: {} };
      for (const [k, t] of Object.entries(dict))
        expected.tensors[k] = { dtype: names[t.dtype], loads_as: t.dtype, shape: [...t.shape], values: [...t.dataSync()].map((x) => encode(x, t.dtype === "bool")) };
      // JSON writes -0 as 0: keep the sign check for the F32 -0 by comparing against the float literal -0.0
      const json = JSON.stringify(expected).replace('"nan",0,"inf"', '"nan",-0.0,"inf"');
      writeFileSync(join(sub, "expected.json"), json);
      await tg.save(dict, join(sub, "tg.safetensors"), { metadata: expected.metadata });
      const r = spawnSync(PYTHON, [join(FIXTURES, "make_safetensors.py"), "verify", join(sub, "tg.safetensors"), join(sub, "expected.json")], {
        encoding: "utf8",
      });
      assert.equal(r.status, 0, `python verify failed:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^OK: PyTorch .* read 10 tensors/);
    },
  );
});

describe("deserialize rejects malformed input with a plain Error", () => {
  const ok = { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
  const eight = new Uint8Array(8);
  const cases: [string, Uint8Array, RegExp][] = [
    ["empty input", new Uint8Array(0), /0 bytes is too short/],
    ["7 bytes", new Uint8Array(7), /7 bytes is too short/],
    ["header length past the end", fileOf("{}", [], { length: 3n }), /header length 3 runs past the end of the data \(2 bytes/],
    ["header length 2^64 - 1", fileOf("{}", [], { length: 2n ** 64n - 1n }), /header length 18446744073709551615 exceeds the 100000000-byte limit/],
    ["header length 2^32", fileOf("{}", [], { length: 2n ** 32n }), /header length 4294967296 exceeds/],
    ["header length just over 100 MB", fileOf("{}", [], { length: 100_000_001n }), /exceeds the 100000000-byte limit/],
    ["header length 0", fileOf("", []), /must be a JSON object starting with '\{'/],
    ["invalid UTF-8", fileOf('{"\u00e9":1}').fill(0xff, 10, 11), /not valid UTF-8/],
    ["leading space", fileOf(' {"a":1}'), /starting with '\{'/],
    ["not JSON", fileOf("{nope}"), /not valid: invalid JSON at character 1: expected a string key/],
    ["truncated JSON", fileOf('{"a":{"dtype":"F32"'), /invalid JSON at character \d+: expected ',' or '}'/],
    ["JSON array", fileOf("[1,2]"), /starting with '\{'/],
    ["trailing garbage", fileOf("{}x"), /unexpected text after the value/],
    ["NUL padding", fileOf("{}\0\0"), /unexpected text after the value/],
    ["deep nesting", fileOf(`{"a":${"[".repeat(100_000)}`), /nested deeper than 8 levels/],
    ["duplicate tensor name", fileOf('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', eight), /duplicate key "a"/],
    ["duplicate field", fileOf('{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}', eight), /duplicate key "dtype"/],
    ["entry not an object", fileOf({ a: [1, 2] }), /tensor "a" must be an object with dtype, shape and data_offsets, got an array/],
    ["missing dtype", fileOf({ a: { shape: [2], data_offsets: [0, 8] } }, eight), /tensor "a" needs a string "dtype", got nothing/],
    ["missing shape", fileOf({ a: { dtype: "F32", data_offsets: [0, 8] } }, eight), /needs a "shape" array of non-negative integers, got nothing/],
    ["missing data_offsets", fileOf({ a: { dtype: "F32", shape: [2] } }, eight), /needs "data_offsets" \[begin, end\]/],
    ["dtype not a string", fileOf({ a: { ...ok.a, dtype: 4 } }, eight), /needs a string "dtype", got number 4/],
    ["unknown dtype", fileOf({ a: { ...ok.a, dtype: "Q4" } }, eight), /dtype "Q4", which tensorgrad cannot read \(supported: F64, F32, F16, BF16/],
    ["dtype lowercase", fileOf({ a: { ...ok.a, dtype: "f32" } }, eight), /dtype "f32"/],
    ["dtype from the prototype", fileOf({ a: { ...ok.a, dtype: "toString" } }, eight), /dtype "toString"/],
    ["negative dim", fileOf({ a: { ...ok.a, shape: [-2] } }, eight), /"shape" array of non-negative integers, got \[-2\]/],
    ["fractional dim", fileOf({ a: { ...ok.a, shape: [1.5] } }, eight), /got \[1.5\]/],
    ["string dim", fileOf({ a: { ...ok.a, shape: ["2"] } }, eight), /got \["2"\]/],
    ["dim 1e400 (Infinity)", fileOf('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,8]}}', eight), /"shape" array of non-negative integers, got \[null\]/],
    ["dim above 2^53", fileOf({ a: { ...ok.a, shape: [2 ** 53] } }, eight), /"shape" array of non-negative integers/],
    ["shape not an array", fileOf({ a: { ...ok.a, shape: { 0: 2 } } }, eight), /got \{…\}/],
    ["huge shape, small offsets", fileOf({ a: { ...ok.a, shape: [2 ** 53 - 1, 2 ** 53 - 1, 2 ** 53 - 1] } }, eight), /needs more than the whole data section, but data_offsets \[0, 8\] hold 8/],
    ["huge dims then zero", fileOf({ a: { ...ok.a, shape: [2 ** 53 - 1, 2 ** 53 - 1, 0] } }, eight), /needs 0 bytes, but data_offsets \[0, 8\] hold 8/],
    ["byte count ≠ numel × size", fileOf({ a: { ...ok.a, shape: [3] } }, eight), /dtype F32 and shape \[3\] needs 12 bytes, but data_offsets \[0, 8\] hold 8/],
    ["offsets past the data", fileOf({ a: { ...ok.a, data_offsets: [0, 2 ** 53 - 1] } }, eight), /data_offsets \[0, 9007199254740991\] past the end of the 8-byte data section/],
    ["offsets reversed", fileOf({ a: { ...ok.a, data_offsets: [8, 0] } }, eight), /begin after end/],
    ["offsets with three numbers", fileOf({ a: { ...ok.a, data_offsets: [0, 4, 8] } }, eight), /"data_offsets" \[begin, end\] of non-negative integers, got \[0,4,8\]/],
    ["negative offset", fileOf({ a: { ...ok.a, data_offsets: [-8, 0] } }, eight), /got \[-8,0\]/],
    [
      "overlapping tensors",
      fileOf({ a: ok.a, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, eight),
      /tensor "a" data_offsets \[0, 8\] overlap the previous tensor \(ending at 4\)|tensor "b" data_offsets \[4, 8\] overlap the previous tensor \(ending at 8\)/,
    ],
    ["gap between tensors", fileOf({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, eight), /the bytes \[0, 4\) of the data section belong to no tensor \(before "a"\)/],
    ["trailing bytes", fileOf(ok, new Uint8Array(12)), /cover 8 bytes but the data section after the header has 12 \(truncated or trailing bytes\)/],
    ["truncated data", fileOf(ok, new Uint8Array(4)), /past the end of the 4-byte data section/],
    ["metadata not an object", fileOf({ __metadata__: "x" }), /"__metadata__" must be an object of strings, got string "x"/],
    ["metadata value not a string", fileOf({ __metadata__: { epoch: 3 } }), /"__metadata__" value of "epoch" must be a string, got number 3/],
    ["metadata value nested", fileOf({ __metadata__: { a: { b: "c" } } }), /value of "a" must be a string, got an object/],
    ["I64 above int32", fileOf({ a: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0x80, 0, 0, 0, 0]), /tensor "a" \(I64\) element 0 is 2147483648, which does not fit in int32/],
    ["I64 below int32", fileOf({ a: { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, [0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff]), /element 0 is -2147483649/],
    ["U64 huge", fileOf({ a: { dtype: "U64", shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8).fill(0xff)), /element 0 is 18446744073709551615/],
    ["U32 above int32", fileOf({ a: { dtype: "U32", shape: [2], data_offsets: [0, 8] } }, [1, 0, 0, 0, 0, 0, 0, 0x80]), /\(U32\) element 1 is 2147483648/],
    ["long names are cut in messages", fileOf({ ["n".repeat(10_000)]: { ...ok.a, dtype: "X" } }, eight), /tensor "n{80}…" has dtype "X"/],
  ];
  for (const [name, bytes, message] of cases) test(name, () => assertRejects(() => deserialize(bytes), message));

  test("huge declared sizes fail fast, before allocating", () => {
    const huge = [
      fileOf({ a: { dtype: "F64", shape: [2 ** 26, 2 ** 26], data_offsets: [0, 2 ** 55] } }, eight),
      fileOf({ a: { dtype: "F32", shape: Array(100_000).fill(2 ** 30), data_offsets: [0, 8] } }, eight),
      fileOf({ a: { dtype: "F32", shape: [1e15], data_offsets: [0, 4e15] } }),
      fileOf("{}", [], { length: 2n ** 63n }),
    ];
    const start = performance.now();
    for (const bytes of huge) assertRejects(() => deserialize(bytes), /exceeds|past the end|more than the whole data section|non-negative integers/);
    assert.ok(performance.now() - start < 1000, "took too long");
  });

  test("sizes within bounds convert: I64/U8/I8/I16/U16/U32/U64 → int32, F16/BF16 → float32, BOOL bytes ≠ 0 → true", () => {
    const le = (...xs: number[]) => xs;
    const file = fileOf(
      {
        i64: { dtype: "I64", shape: [2], data_offsets: [0, 16] },
        u64: { dtype: "U64", shape: [1], data_offsets: [16, 24] },
        u32: { dtype: "U32", shape: [1], data_offsets: [24, 28] },
        f16: { dtype: "F16", shape: [4], data_offsets: [28, 36] },
        bf16: { dtype: "BF16", shape: [2], data_offsets: [36, 40] },
        u16: { dtype: "U16", shape: [1], data_offsets: [40, 42] },
        i16: { dtype: "I16", shape: [1], data_offsets: [42, 44] },
        i8: { dtype: "I8", shape: [2], data_offsets: [44, 46] },
        u8: { dtype: "U8", shape: [2], data_offsets: [46, 48] },
        b: { dtype: "BOOL", shape: [3], data_offsets: [48, 51] },
      },
      [
        ...le(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x80, 0xff, 0xff, 0xff, 0xff), // -1, -2^31
        ...le(0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0), // 2^31 - 1
        ...le(5, 0, 0, 0),
        ...le(0x00, 0x3c, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7e), // 1, smallest subnormal, -0, NaN
        ...le(0x80, 0x3f, 0x80, 0xff), // 1, -Infinity
        ...le(0xff, 0xff),
        ...le(0x00, 0x80),
        ...le(0x80, 0x7f),
        ...le(0xff, 0x01),
        ...le(0, 1, 7),
      ],
    );
    const t = deserialize(file).tensors;
    assert.deepEqual([...t.i64!.dataSync()], [-1, -(2 ** 31)]);
    assert.equal(t.i64!.dtype, "int32");
    assert.deepEqual([...t.u64!.dataSync()], [2 ** 31 - 1]);
    assert.deepEqual([...t.u32!.dataSync()], [5]);
    const f16 = [...t.f16!.dataSync()];
    assert.equal(t.f16!.dtype, "float32");
    assert.ok(f16[0] === 1 && f16[1] === 2 ** -24 && Object.is(f16[2], -0) && Number.isNaN(f16[3]));
    assert.deepEqual([...t.bf16!.dataSync()], [1, Number.NEGATIVE_INFINITY]);
    assert.deepEqual([...t.u16!.dataSync()], [65535]);
    assert.deepEqual([...t.i16!.dataSync()], [-32768]);
    assert.deepEqual([...t.i8!.dataSync()], [-128, 127]);
    assert.deepEqual([...t.u8!.dataSync()], [255, 1]);
    assert.deepEqual(t.b!.toArray(), [false, true, true]);
  });

  test("JSON escapes in names and metadata are decoded; whitespace around tokens is allowed", () => {
    const header = '{ "__metadata__" : { "k\\u00e9" : "tab\\there \\"q\\" \\/ \\\\ \\ud83d\\ude42" } ,\n\t"w\\u0041" : {"dtype":"BOOL","shape":[ ],"data_offsets":[0,1]} }   ';
    const { tensors, metadata } = deserialize(fileOf(header, [1]));
    assert.deepEqual(metadata, { "k\u00e9": 'tab\there "q" / \\ 🙂' });
    assert.deepEqual(Object.keys(tensors), ["wA"]);
    assert.equal(tensors.wA!.toArray(), true);
  });

  test("unknown entry fields are ignored and tensors may be listed in any order", () => {
    const header = {
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8], extra: [1, { x: null }] },
      a: { dtype: "F32", shape: [], data_offsets: [0, 4] },
      z: { dtype: "F64", shape: [0, 7], data_offsets: [8, 8] },
    };
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const t = deserialize(fileOf(header, data)).tensors;
    assert.deepEqual(Object.keys(t), ["b", "a", "z"]);
    assert.equal(t.a!.item(), 1);
    assert.deepEqual(t.b!.toArray(), [2]);
  });
});

// ---------------------------------------------------------------------------------------------
// Fuzzing: every mutated file either loads consistently or throws a plain Error, quickly.

/** mulberry32: a small seeded PRNG so that a failing case can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` files: seeds (valid files) put through one or two random mutations each, reproducibly from `seed`. */
function* fuzzFiles(seed: number, count: number): Generator<Uint8Array> {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const seeds = [
    new Uint8Array(readFileSync(join(FIXTURES, "torch_written.safetensors"))),
    serialize(
      { w: tg.randn([3, 4]), b: tg.tensor([1, 2, 3], { dtype: "int32" }), m: tg.tensor([true, false]), d: tg.tensor(2, { dtype: "float64" }), e: tg.zeros([0, 2]) },
      { format: "pt", k: "v" },
    ),
    serialize({ x: tg.ones([1]) }),
    serialize({}),
  ];
  const evil: unknown[] = [-1, 0, 1, 1.5, 2 ** 31, 2 ** 53, 2 ** 64, 1e308, -0, "x", "", null, true, [], {}, [0], [0, 0], [1, 2, 3], [-1, 4], [2 ** 53 - 1, 2 ** 53 - 1], ["F32"], { a: 1 }, "F16", "I64", "BOOL", "U8", "F64", "BF16", "Q8"];
  const withHeader = (text: string, data: Uint8Array, length?: bigint) => fileOf(text, data, length === undefined ? {} : { length });
  const split = (bytes: Uint8Array) => {
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    return { text: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
  };
  const randomJson = (depth: number): unknown => {
    const r = int(depth > 3 ? 6 : 9);
    if (r < 6) return pick(evil);
    if (r === 6) return Array.from({ length: int(4) }, () => randomJson(depth + 1));
    return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(["dtype", "shape", "data_offsets", "__metadata__", "a", "b"]), randomJson(depth + 1)]));
  };
  const mutators: ((b: Uint8Array) => Uint8Array)[] = [
    (b) => {
      // bit flips, mostly in the length prefix and header
      const out = b.slice();
      const headerEnd = Math.min(out.length, 8 + split(b).text.length + 8);
      for (let k = 1 + int(4); k > 0; k--) {
        const at = random() < 0.8 ? int(headerEnd) : int(out.length);
        out[at]! ^= 1 << int(8);
      }
      return out;
    },
    (b) => b.slice(0, int(b.length)), // truncation
    (b) => {
      // rewrite the header length
      const n = BigInt(split(b).text.length);
      const lengths = [0n, 1n, n - 1n, n + 1n, n + 8n, BigInt(b.length - 8), BigInt(b.length), 2n ** 32n + n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n, BigInt(int(2 ** 32))];
      const out = b.slice();
      new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, pick(lengths)), true);
      return out;
    },
    (b) => {
      // a structured edit of the header JSON
      const { text, data } = split(b);
      const header = JSON.parse(text) as Record<string, Record<string, unknown>>;
      const names = Object.keys(header);
      const name = names.length > 0 ? pick(names) : "a";
      const r = int(7);
      if (r === 0 || names.length === 0) header[pick(["new", "__metadata__", name])] = randomJson(1) as Record<string, unknown>;
      else if (r === 1) delete header[name]![pick(["dtype", "shape", "data_offsets"])];
      else if (r === 2 && header[name] && typeof header[name] === "object") header[name]![pick(["dtype", "shape", "data_offsets"])] = pick(evil);
      else if (r === 3 && Array.isArray(header[name]?.data_offsets)) {
        const offs = header[name]!.data_offsets as number[];
        offs[int(2)]! += pick([-8, -4, -1, 1, 2, 4, 8, 2 ** 40]);
      } else if (r === 4 && Array.isArray(header[name]?.shape)) {
        const shape = header[name]!.shape as number[];
        if (shape.length > 0 && random() < 0.5) shape[int(shape.length)] = pick([0, 1, 2, 3, 2 ** 30, 2 ** 53 - 1, -1]);
        else shape.push(pick([0, 1, 2, 2 ** 40]));
      } else if (r === 5) {
        // duplicate a key at the text level (JSON.stringify cannot)
        const t = JSON.stringify(header);
        const m = t.match(/"([^"\\]*)":\{/g);
        const other = m ? pick(m) : '"a":{';
        return withHeader(t.replace(/"[^"\\]*":\{/, other), data);
      } else header.__metadata__ = pick([{ a: "b" }, { a: 1 }, "s", [], { a: { b: "c" } }, null]) as Record<string, unknown>;
      let t = JSON.stringify(header);
      if (random() < 0.5) t += " ".repeat(int(8));
      return withHeader(t, random() < 0.8 ? data : data.subarray(0, int(data.length + 1)));
    },
    (b) => {
      // character-level edits of the header text
      let { text, data } = split(b);
      for (let k = 1 + int(3); k > 0; k--) {
        const at = int(text.length + 1);
        const ch = pick(['"', "{", "}", "[", "]", ",", ":", "\\", "-", "0", "9", "e", " ", "\u0000", "é", "\ud800", "n", "1e999"]);
        const r = int(3);
        text = r === 0 ? text.slice(0, at) + ch + text.slice(at) : r === 1 ? text.slice(0, at) + text.slice(at + 1) : text.slice(0, at) + ch + text.slice(at + 1);
      }
      return withHeader(text, data);
    },
    () => {
      // random bytes, sometimes behind a plausible length prefix
      const out = new Uint8Array(int(64));
      for (let i = 0; i < out.length; i++) out[i] = int(256);
      if (out.length >= 8 && random() < 0.5) new DataView(out.buffer).setBigUint64(0, BigInt(int(out.length - 7)), true);
      return out;
    },
    () => withHeader(JSON.stringify(randomJson(0)), new Uint8Array(int(16))), // random JSON as the header
    (b) => {
      // data-section noise and length changes (I64/F16 values change, sizes stop matching)
      const { text, data } = split(b);
      const out = data.slice();
      for (let k = int(4); k > 0 && out.length > 0; k--) out[int(out.length)] = int(256);
      const extra = new Uint8Array(int(3) === 0 ? int(9) : 0);
      return withHeader(text, random() < 0.3 ? out.subarray(0, int(out.length + 1)) : new Uint8Array([...out, ...extra]));
    },
  ];

  for (let i = 0; i < count; i++) {
    let bytes = pick(seeds);
    for (let k = 1 + (random() < 0.2 ? 1 : 0); k > 0; k--) {
      const m = pick(mutators);
      try {
        bytes = m(bytes);
      } catch {
        bytes = m(pick(seeds)); // a mutation of an already broken file may not parse; mutate a seed instead
      }
    }
    yield bytes;
  }
}

test("fuzz: 30 000 mutated, truncated and random files load or throw a plain Error, never crash or hang", () => {
  const N = 30_000;
  let loaded = 0;
  let rejected = 0;
  let slowest = 0;
  let i = 0;
  const start = performance.now();
  for (const bytes of fuzzFiles(0x5afe7e45, N)) {
    const t0 = performance.now();
    try {
      const { tensors, metadata } = deserialize(bytes);
      let outBytes = 0;
      for (const t of Object.values(tensors)) {
        assert.ok(t instanceof tg.Tensor);
        assert.equal(t.data.length, t.numel(), `case ${i}: storage matches the shape`);
        outBytes += t.data.byteLength;
      }
      assert.ok(outBytes <= 4 * bytes.length, `case ${i}: allocated ${outBytes} bytes for a ${bytes.length}-byte input`);
      for (const v of Object.values(metadata)) assert.equal(typeof v, "string");
      loaded++;
    } catch (e) {
      if (Object.getPrototypeOf(e) !== Error.prototype || !(e as Error).message.startsWith("safetensors data: "))
        assert.fail(`case ${i}: expected a plain safetensors Error, got ${(e as Error)?.stack ?? String(e)}`);
      rejected++;
    }
    slowest = Math.max(slowest, performance.now() - t0);
    i++;
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(`# fuzz: ${N} files, ${loaded} loaded, ${rejected} rejected, ${seconds.toFixed(2)} s, slowest ${slowest.toFixed(1)} ms`);
  assert.equal(loaded + rejected, N);
  assert.ok(loaded > N / 50 && rejected > N / 2, `both outcomes exercised (${loaded} loaded, ${rejected} rejected)`);
  assert.ok(slowest < 1000, `one file took ${slowest} ms`);
  assert.ok(seconds < 10, `fuzzing took ${seconds} s`);
});

test("fuzz through files: tg.io.loadFileSync and loadFile agree with deserialize on 600 mutated files", async () => {
  const file = join(dir, "fuzz.safetensors");
  const outcome = (f: () => { tensors: Record<string, tg.Tensor>; metadata: Record<string, string> }) => {
    try {
      const { tensors, metadata } = f();
      return { metadata, tensors: Object.entries(tensors).map(([k, t]) => [k, t.dtype, [...t.shape], [...rawBytes(t)]]) };
    } catch (e) {
      assert.equal(Object.getPrototypeOf(e), Error.prototype, String(e));
      return { error: (e as Error).message.replace(/^safetensors (data|file ".*?"): /, "") };
    }
  };
  let i = 0;
  for (const bytes of fuzzFiles(0xf11e5, 600)) {
    writeFileSync(file, bytes);
    const want = outcome(() => deserialize(bytes));
    const sync = outcome(() => tg.io.loadFileSync(file));
    assert.deepEqual(sync, want, `case ${i}`);
    if (i++ % 6 === 0) {
      let loadedAsync: Awaited<ReturnType<typeof tg.io.loadFile>> | undefined;
      let error: unknown;
      await tg.io.loadFile(file).then((r) => (loadedAsync = r), (e) => (error = e));
      assert.deepEqual(outcome(() => {
        if (loadedAsync === undefined) throw error;
        return loadedAsync;
      }), want, `case ${i} (async)`);
    }
  }
});

test("without Node's file system the file functions say to use serialize / deserialize", () => {
  const proc = process as { getBuiltinModule?: unknown };
  const original = proc.getBuiltinModule;
  proc.getBuiltinModule = undefined;
  try {
    assert.throws(() => tg.saveSync({}, join(dir, "x.safetensors")), /saveSync: files need Node.js 20.16 or newer; elsewhere use tg.io.serialize/);
    assert.throws(() => tg.loadSync(join(dir, "x.safetensors")), /loadSync: files need Node.js/);
  } finally {
    proc.getBuiltinModule = original;
  }
  assert.deepEqual(deserialize(serialize({ a: tg.ones([1]) })).tensors.a!.toArray(), [1]);
});

test("the save/load exports exist at the top level as API.md shows", () => {
  for (const f of [tg.save, tg.load, tg.saveSync, tg.loadSync, tg.io.serialize, tg.io.deserialize, tg.io.loadFile]) assert.equal(typeof f, "function");
  assert.ok(existsSync(join(FIXTURES, "make_safetensors.py")));
});
