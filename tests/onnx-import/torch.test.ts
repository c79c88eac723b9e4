/**
 * @file Models PyTorch users write (an MLP, the W3 CNN, a residual block with BatchNorm, LeNet),
 * exported by torch.onnx.export at opsets 11–17 (tests/golden/generate_onnx_import.py): imported
 * with tg.onnx.importModel they give PyTorch's outputs (≤ 1e-5 relative) for the recorded batch of 3
 * and for one sample (the batch dim is symbolic), keep PyTorch's parameter names, and train.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import * as tg from "../../src/index.ts";

interface Case {
  name: string;
  file: string;
  opset: number;
  stateDict: string[];
  input: { shape: number[]; data: number[] };
  output: { shape: number[]; data: number[] };
}

const golden = JSON.parse(readFileSync(new URL("../golden/onnx_import.json", import.meta.url), "utf8")) as { cases: Case[] };
const RTOL = 1e-5;
let worst = 0;
after(() => console.log(`# largest relative difference to PyTorch: ${worst.toExponential(2)}`));

function relDiff(got: tg.Tensor, want: ArrayLike<number>, offset = 0, record = true): number {
  const g = got.dataSync();
  let m = 0;
  for (let i = 0; i < g.length; i++) m = Math.max(m, Math.abs(g[i]! - want[offset + i]!) / Math.max(1, Math.abs(want[offset + i]!)));
  if (record) worst = Math.max(worst, m);
  return m;
}

describe("torch.onnx.export models through tg.onnx.importModel", () => {
  for (const c of golden.cases) {
    test(`${c.name} (opset ${c.opset}): PyTorch's outputs, its parameter names, trains`, async () => {
      const model = await tg.onnx.importModel(new URL(`../golden/${c.file}`, import.meta.url).pathname);
      const x = tg.tensor(Float32Array.from(c.input.data)).reshape(c.input.shape);
      const y = model.call(x) as tg.Tensor;
      assert.deepEqual(y.shape, c.output.shape);
      assert.ok(relDiff(y, c.output.data) <= RTOL, `batch 3: ${relDiff(y, c.output.data)}`);
      const one = model.call(x.narrow(0, 1, 1)) as tg.Tensor;
      const per = c.output.data.length / c.output.shape[0]!;
      assert.ok(relDiff(one, c.output.data, per) <= RTOL, "batch 1 (second sample)");

      const names = Object.keys(model.stateDict());
      const named = names.filter((n) => !n.startsWith("onnx::"));
      assert.ok(named.length > 0);
      for (const n of named) assert.ok(c.stateDict.includes(n), `${n} is one of PyTorch's state-dict names`);

      const trainable = model.parameters().filter((p) => p.requiresGrad);
      const opt = new tg.optim.Adam(trainable, { lr: 1e-3 });
      const target = tg.randn(y.shape);
      const loss0 = tg.F.mseLoss(model.call(x) as tg.Tensor, target).item();
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        tg.F.mseLoss(model.call(x) as tg.Tensor, target).backward();
        opt.step();
      }
      const loss1 = tg.F.mseLoss(model.call(x) as tg.Tensor, target).item();
      assert.ok(loss1 < loss0, `20 Adam steps: loss ${loss0} → ${loss1}`);
    });
  }

  test("BatchNorm statistics are frozen: not trainable, still in the state dict", async () => {
    const model = await tg.onnx.importModel(new URL("../golden/onnx/residual_bn.onnx", import.meta.url).pathname);
    const sd = model.stateDict();
    assert.ok("bn2.running_mean" in sd && "bn2.running_var" in sd);
    const frozen = model.namedParameters().filter(([, p]) => !p.requiresGrad).map(([n]) => n);
    assert.deepEqual(frozen.sort(), ["bn2.running_mean", "bn2.running_var"]);
  });
});

test("tensorgrad onnx inspect prints the summary of a PyTorch export", async () => {
  const { spawnSync } = await import("node:child_process");
  const file = new URL("../golden/onnx/lenet.onnx", import.meta.url).pathname;
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "onnx", "inspect", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /opset 17, from pytorch/);
  assert.match(r.stdout, /input {3}float \[N, 1, 28, 28\]/);
  assert.match(r.stdout, /Conv ×2, Relu ×4, MaxPool ×2/);
  assert.match(r.stdout, /parameters: 61,706 in 10 initializers/);
  assert.match(r.stdout, /supports every op/);
  const bad = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "onnx", "inspect"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
});

test("tensorgrad predict --model model.onnx classifies IDX images as the model does", async () => {
  const { spawnSync } = await import("node:child_process");
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "tg-onnx-predict-"));
  try {
    tg.manualSeed(3);
    const n = 6;
    const pixels = Uint8Array.from({ length: n * 784 }, () => Math.floor(Math.random() * 256));
    const header = new Uint8Array(16);
    new DataView(header.buffer).setUint32(0, 0x803);
    for (const [i, d] of [n, 28, 28].entries()) new DataView(header.buffer).setUint32(4 + 4 * i, d);
    writeFileSync(join(dir, "images-idx3-ubyte"), Buffer.concat([header, pixels]));
    const model = new tg.nn.Sequential(new tg.nn.Flatten(), new tg.nn.Linear(784, 10)).eval();
    writeFileSync(join(dir, "model.onnx"), tg.onnx.exportModel(model, tg.randn([1, 1, 28, 28])));
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "predict", "--model", join(dir, "model.onnx"), "--json", join(dir, "images-idx3-ubyte")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const got = r.stdout.trim().split("\n").map((l) => JSON.parse(l).predicted);
    const x = tg.tensor(Float32Array.from(pixels, (p) => p / 255)).reshape([n, 1, 28, 28]);
    assert.deepEqual(got, Array.from((model.call(x) as tg.Tensor).argmax(1).dataSync()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const hasTorch = (await import("node:child_process")).spawnSync("/usr/bin/python3", ["-c", "import torch"]).status === 0;

test("fine-tuned in tensorgrad, saved with tg.save: PyTorch's own model loads the weights and gives tensorgrad's outputs", { skip: hasTorch ? false : "/usr/bin/python3 has no torch" }, async () => {
  const { spawnSync } = await import("node:child_process");
  const { mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = mkdtempSync(join(tmpdir(), "tg-onnx-finetune-"));
  try {
    for (const c of golden.cases.filter((g) => g.name !== "residual_bn")) {
      // residual_bn's first conv and BatchNorm are folded into one conv by the exporter: its weights have no PyTorch module to go back to
      const model = await tg.onnx.importModel(new URL(`../golden/${c.file}`, import.meta.url).pathname);
      const x = tg.tensor(Float32Array.from(c.input.data)).reshape(c.input.shape);
      tg.manualSeed(5);
      const target = tg.randn(c.output.shape);
      const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-2 });
      for (let i = 0; i < 20; i++) {
        opt.zeroGrad();
        tg.F.mseLoss(model.call(x) as tg.Tensor, target).backward();
        opt.step();
      }
      const weights = join(dir, `${c.name}.safetensors`);
      await tg.save(model.stateDict(), weights);
      writeFileSync(join(dir, "input.json"), JSON.stringify(c.input));
      const r = spawnSync("/usr/bin/python3", [new URL("torch_outputs.py", import.meta.url).pathname, c.name, weights, join(dir, "input.json")], { encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
      const torchOut = JSON.parse(r.stdout) as { shape: number[]; data: number[] };
      const ours = tg.noGrad(() => model.call(x) as tg.Tensor);
      assert.deepEqual(ours.shape, torchOut.shape);
      const d = relDiff(ours, torchOut.data);
      assert.ok(d <= RTOL, `${c.name}: relative difference ${d} after fine-tuning`);
      assert.ok(relDiff(ours, c.output.data, 0, false) > 1e-3, `${c.name}: fine-tuning changed the outputs`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
