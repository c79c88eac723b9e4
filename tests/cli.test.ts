import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import * as tg from "../src/index.ts";
import { assertWellFormedXml, maxStateDiff, smallMnist, writeIdx } from "./mnist-small.ts";
import { runHere } from "./cli-here.ts";

const CLI = ["--import", "tsx", "src/cli/main.ts"];
let dir: string;
let idx: string;

function run(args: string[], opts: { timeout?: number } = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: "utf8", timeout: opts.timeout ?? 120_000, env: { ...process.env, TENSORGRAD_DEBUG: "" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "tg-cli-"));
  idx = join(dir, "idx");
  const { mkdirSync } = await import("node:fs");
  mkdirSync(idx);
  const s = await smallMnist(30, 100); // 300 training digits, 100 test digits
  writeIdx(idx, "train", s.x, s.y, true);
  writeIdx(idx, "t10k", s.xTest, s.yTest, false);
});

describe("bad calls exit non-zero with a clear message and no stack trace", () => {
  const cases: [string[], RegExp][] = [
    [["train", "--epochs", "zero"], /--epochs must be an integer ≥ 1, got "zero"/],
    [["train", "--epochs=-3"], /--epochs must be an integer ≥ 1, got "-3"/],
    [["train", "--batch-size", "2.5"], /--batch-size must be an integer ≥ 1/],
    [["train", "--lr", "fast"], /--lr must be a positive number, got "fast"/],
    [["train", "--model", "resnet"], /--model must be one of mlp, cnn, got "resnet"/],
    [["train", "--optimizer", "adamax"], /--optimizer must be one of adam, sgd, rmsprop, adagrad, adadelta, adamw/],
    [["train", "--bogus"], /Unknown option '--bogus'/],
    [["train", "--epochs"], /--epochs.*argument missing/i],
    [["train", "extra"], /unexpected argument 'extra'/i],
    [["train", "--validation-split", "1.5"], /--validation-split must be in \[0, 1\)/],
    [["train", "--dataset", "/no/such/dir"], /--dataset must be "mnist" or a directory/],
    [["train", "--resume", "/no/such/run"], /--resume \/no\/such\/run: no checkpoint there/],
    [["predict", "x.idx"], /--model PATH is required/],
    [["predict", "--model", "/no/model.safetensors", "x.idx"], /no such model file/],
    [["graph", "--model", "vgg"], /--model must be one of mlp, cnn/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of cases) {
    test(args.join(" "), async () => {
      const r = await runHere(args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    });
  }
  test("a missing IDX file in the --dataset directory", async () => {
    const empty = mkdtempSync(join(tmpdir(), "tg-empty-"));
    const r = await runHere(["train", "--dataset", empty]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no train-images-idx3-ubyte\[\.gz\] in that directory/);
  });
  test("--help prints the options", async () => {
    const r = await runHere(["train", "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--batch-size N/);
    assert.match((await runHere(["--help"])).stdout, /commands:\n {2}train/);
  });
  test("the real executable: exit code 2 and the message on stderr", () => {
    const r = run(["train", "--epochs", "0"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tensorgrad train: --epochs must be an integer ≥ 1, got "0"\nRun "tensorgrad train --help" for the options\.\n$/);
    assert.equal(r.stdout, "");
  });
});

test("train on IDX files writes history.json, learning curves (SVG + PNG), model.safetensors, a checkpoint and report.html", () => {
  const out = join(dir, "run");
  const r = run(["train", "--model", "mlp", "--dataset", idx, "--epochs", "3", "--batch-size", "50", "--seed", "1", "--out", out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Epoch 1\/3: 6\/6 - .* samples\/s - loss: .* - accuracy: .* - val_loss: .* - val_accuracy: /);
  assert.match(r.stdout, /Test accuracy: \d+\.\d\d% \(loss \d\.\d{4}\) on 100 test samples after 3 epochs/);
  assert.match(r.stdout, /dense \(Dense\)\s+\(None, 128\)\s+100480/);
  for (const f of ["history.json", "learning-curve.svg", "learning-curve.png", "model.safetensors", "report.html", "checkpoint/state.json"])
    assert.ok(existsSync(join(out, f)), f);

  const hist = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  for (const k of ["loss", "accuracy", "val_loss", "val_accuracy"]) assert.equal(hist.history[k].length, 3, k);
  assert.equal(hist.config.epochs, 3);
  assert.ok(hist.test.accuracy > 0.3 && hist.test.accuracy <= 1);

  const svg = readFileSync(join(out, "learning-curve.svg"), "utf8");
  assertWellFormedXml(svg);
  const rows = JSON.parse(/<metadata id="tensorgrad-history">([^<]*)</.exec(svg)![1]!) as { epoch: number; quantity: string; split: string; value: number }[];
  assert.deepEqual(
    rows.filter((x) => x.quantity === "loss" && x.split === "validation").map((x) => x.value),
    hist.history.val_loss,
  );
  const png = readFileSync(join(out, "learning-curve.png"));
  assert.equal(png.subarray(1, 4).toString(), "PNG");

  const html = readFileSync(join(out, "report.html"), "utf8");
  assertWellFormedXml(html.replace("<!DOCTYPE html>", ""), { html: true });
  const report = JSON.parse(/<script type="application\/json" id="tensorgrad-report">([^<]*)<\/script>/.exec(html)![1]!);
  assert.deepEqual(report.history.loss, hist.history.loss);
  const matrix = report.confusionMatrix as number[][];
  assert.equal(matrix.length, 10);
  assert.equal(matrix.flat().reduce((a, b) => a + b, 0), 100, "every test sample is in the confusion matrix");
  assert.ok((html.match(/<figure class="(ok|wrong)">/g) ?? []).length >= 16, "sample predictions");
  assert.match(html, /<h2>Learning curves<\/h2>\n<div class="curves"><svg/);
});

test("train --resume after an interruption (Ctrl-C) continues to the same final weights as an uninterrupted run", async () => {
  const common = ["train", "--model", "mlp", "--dataset", idx, "--batch-size", "30", "--seed", "4", "--quiet"];
  const epochs = "8";
  const reference = join(dir, "reference");
  assert.equal(run([...common, "--epochs", epochs, "--out", reference]).code, 0);

  // a real interrupt: SIGINT once the first epoch's checkpoint exists
  const interrupted = join(dir, "interrupted");
  const child: ChildProcess = spawn(process.execPath, [...CLI, ...common, "--epochs", epochs, "--out", interrupted], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!existsSync(join(interrupted, "checkpoint", "state.json")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  child.kill("SIGINT");
  const code = await exited;
  const state = JSON.parse(readFileSync(join(interrupted, "checkpoint", "state.json"), "utf8"));
  if (code === 130) {
    assert.match(stderr, /Interrupted\. The checkpoint after the last finished epoch is in .*; continue with:\n {2}tensorgrad train --resume /);
    assert.ok(state.extra.epoch < Number(epochs), `stopped after epoch ${state.extra.epoch}`);
  } else assert.equal(code, 0, "the run finished before the signal arrived"); // still a valid comparison below
  const resumed = run(["train", "--resume", interrupted]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const a = await tg.load(join(reference, "model.safetensors"));
  const b = await tg.load(join(interrupted, "model.safetensors"));
  assert.equal(maxStateDiff(a, b), 0, `interrupted (exit ${code}) after epoch ${state.extra.epoch}, then resumed`);
  const ha = JSON.parse(readFileSync(join(reference, "history.json"), "utf8")).history;
  const hb = JSON.parse(readFileSync(join(interrupted, "history.json"), "utf8")).history;
  assert.deepEqual(hb, ha, "the history continues too");

  // stopping by --epochs and resuming with a larger --epochs is the same as one longer run
  const split = join(dir, "split");
  assert.equal(run([...common, "--epochs", "2", "--out", split]).code, 0);
  const r2 = run(["train", "--resume", split, "--epochs", epochs, "--quiet"]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(maxStateDiff(a, await tg.load(join(split, "model.safetensors"))), 0, "--epochs 2, then --resume --epochs 8");
  assert.match(run(["train", "--resume", split, "--lr", "0.1"]).stderr, /--lr cannot be changed/);
});

test("predict classifies IDX images (with accuracy against labels) and PNG files; graph writes the autograd graph", async () => {
  const out = join(dir, "run");
  if (!existsSync(join(out, "model.safetensors"))) assert.equal(run(["train", "--model", "mlp", "--dataset", idx, "--epochs", "3", "--batch-size", "50", "--seed", "1", "--out", out, "--quiet"]).code, 0);
  const images = join(idx, "t10k-images-idx3-ubyte");
  const r = run(["predict", "--model", out, "--labels", join(idx, "t10k-labels-idx1-ubyte"), "--limit", "3", images]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0]!, /^t10k-images-idx3-ubyte\[0\]: \d \(\d+\.\d%\) {2}[✓✗]/);
  assert.match(r.stdout, /… 97 more/);
  const acc = Number(/accuracy: ([\d.]+)% \((\d+)\/100\)/.exec(r.stdout)![1]);
  const hist = JSON.parse(readFileSync(join(out, "history.json"), "utf8"));
  assert.ok(Math.abs(acc - 100 * hist.test.accuracy) < 0.01, "predict agrees with train's test evaluation");

  // a PNG digit drawn dark on white (inverted to MNIST's light-on-dark by predict)
  const s = await smallMnist(1, 10);
  const digit = s.x.index(7).dataSync(); // a 7
  const png = await tg.viz.svgToPng(tg.viz.pixelsToSvg(digit, 28, 28, 112), { scale: 1 });
  writeFileSync(join(dir, "seven.png"), png);
  const p = run(["predict", "--model", join(out, "model.safetensors"), "--json", join(dir, "seven.png")]);
  assert.equal(p.code, 0, p.stderr);
  const res = JSON.parse(p.stdout.trim());
  assert.equal(res.image, "seven.png");
  assert.ok(res.predicted >= 0 && res.predicted <= 9 && res.confidence > 0 && res.confidence <= 1);

  const bad = run(["predict", "--model", out, join(dir, "nope.png")]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no such file: .*nope\.png/);
  writeFileSync(join(dir, "junk.png"), "not an image");
  const junk = run(["predict", "--model", out, join(dir, "junk.png")]);
  assert.equal(junk.code, 1);
  assert.match(junk.stderr, /neither an IDX image file nor a readable PNG\/JPEG/);

  const graphFile = join(dir, "graph.svg");
  const g = run(["graph", "--model", "mlp", "--out", graphFile]);
  assert.equal(g.code, 0, g.stderr);
  const gsvg = readFileSync(graphFile, "utf8");
  assertWellFormedXml(gsvg);
  for (const name of ["0.weight", "0.bias", "2.weight", "loss", "image"]) assert.ok(gsvg.includes(name), name);
});

test("bench runs the benchmark driver (its --help here)", () => {
  const r = run(["bench", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /usage: npm run bench/);
});
