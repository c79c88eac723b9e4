/**
 * @file The benchmark harness for W2–W4 in a tiny quick mode (a few batches, --scale 0.01): the
 * driver runs, prints well-formed figures for tensorgrad (js backend) and, when installed, the
 * onnxruntime peer; and the shared epoch order is the same in TypeScript and in the Python peers.
 * PLAYGROUND (W2's training in headless Chromium vs Node, on wasm at 1 and 2 threads) runs at
 * --scale 0.05 (~5 s) where a Chromium is installed, and is skipped with a note where none is.
 * The real figures come from `npm run bench -- --only W2,W3,W4` (minutes; not part of the tests).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { epochOrder, w2Plan, w3Plan, w4Plan } from "../bench/lib/mnist-train.ts";
import { CHROMIUM } from "../bench/workloads/playground.ts";

// the order check needs only Python's standard library: any python3 (a fresh machine has one, node-gyp needs it)
const PYTHON = process.env.BENCH_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");

test("the epoch order is a permutation, different per epoch, and the same in bench/peers/mnist_split.py", () => {
  const o0 = epochOrder(0, 8000);
  assert.equal(new Set(o0).size, 8000);
  assert.notDeepEqual(Array.from(o0.slice(0, 16)), Array.from(epochOrder(1, 8000).slice(0, 16)));
  for (const epoch of [0, 2]) {
    const r = spawnSync(PYTHON, ["bench/peers/mnist_split.py", "--print-order", String(epoch), "8000", "32"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.error?.message ?? r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), Array.from(epochOrder(epoch, 8000).slice(0, 32)));
  }
});

test("the full plans are BENCHMARKS.md's counts", () => {
  assert.deepEqual(w2Plan(1), { batch: 128, nTrain: 8000, epochs: 3 });
  const w3 = w3Plan(1);
  assert.equal(w3.batch, 64);
  assert.equal(w3.nTrain, 8000);
  assert.ok(w3.timedBatches * w3.batch >= 1024);
  assert.equal(w4Plan(1).batch, 256);
});

test("npm run bench -- --only W2,W3,W4 in quick mode prints tensorgrad's figures (and onnxruntime's W4)", () => {
  const args = ["--import", "tsx", "bench/run.ts", "--only", "W2,W3,W4", "--frameworks", "tensorgrad,onnxruntime", "--backends", "js"];
  const r = spawnSync(process.execPath, [...args, "--threads", "1", "--scale", "0.01", "--repeats", "1"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const figures = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { framework: string; backend: string; threads: number; workload: string; metric: string; value: number; unit: string });
  const has = (framework: string, workload: string, metric: string) =>
    figures.some((f) => f.framework === framework && f.workload === workload && f.metric === metric && Number.isFinite(f.value) && f.value > 0);
  for (const [w, m] of [
    ["W2", "train_samples_per_s"],
    ["W2", "test_accuracy"],
    ["W2", "peak_rss_mb"],
    ["W3", "train_samples_per_s"],
    ["W3", "test_accuracy"],
    ["W4", "latency_ms_batch1"],
    ["W4", "samples_per_s_batch256"],
  ] as const)
    assert.ok(has("tensorgrad", w, m), `no tensorgrad ${w} ${m} in:\n${r.stdout}`);
  for (const f of figures) {
    assert.equal(f.threads, 1);
    if (f.metric === "test_accuracy") assert.ok(f.value >= 0 && f.value <= 1);
  }
  // onnxruntime-node is a devDependency; where it is missing the driver says so on stderr
  if (!/onnxruntime: skipped/.test(r.stderr)) assert.ok(has("onnxruntime", "W4", "latency_ms_batch1"), r.stderr);
  assert.match(r.stdout, /ratios tensorgrad \/ peer/);
});

// PLAYGROUND drives headless Chromium (as tests/playground.test.ts does); without one it is skipped with a note
const noChromium = CHROMIUM === undefined ? "no Chromium found: install it with `apt-get install -y chromium` (or set TG_CHROMIUM=/path/to/chrome)" : false;

test("npm run bench -- --only PLAYGROUND in quick mode: Node and Chromium figures at 1 and 2 threads, and their ratio", { skip: noChromium }, () => {
  const args = ["--import", "tsx", "bench/run.ts", "--only", "PLAYGROUND", "--frameworks", "tensorgrad", "--threads", "1,2", "--scale", "0.05"];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  const figures = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { framework: string; backend: string; threads: number; workload: string; metric: string; value: number; unit: string });
  for (const threads of [1, 2]) {
    const get = (backend: string, metric: string) => figures.find((f) => f.workload === "PLAYGROUND" && f.backend === backend && f.metric === metric && f.threads === threads);
    const node = get("wasm", "train_samples_per_s");
    const browser = get("wasm-browser", "train_samples_per_s");
    const ratio = get("wasm-browser", "browser_node_ratio");
    assert.ok(node !== undefined && browser !== undefined && ratio !== undefined, r.stdout);
    assert.ok(node.value > 0 && browser.value > 0);
    assert.equal(node.unit, "samples/s");
    assert.ok(Math.abs(ratio.value - browser.value / node.value) <= 1e-3 * ratio.value);
  }
  // the same data, order, initialisation and kernels on both sides: the same training loss
  assert.match(r.stderr, /2t: Chromium [\d.]+, isolated true; last training loss identical in Node and Chromium/);
  assert.match(r.stdout, /PLAYGROUND: W2's MLP training on wasm, headless Chromium \/ Node/);
});

test("PLAYGROUND is skipped with a note where there is no Chromium", () => {
  const args = ["--import", "tsx", "bench/run.ts", "--only", "PLAYGROUND", "--frameworks", "tensorgrad", "--threads", "1"];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 60_000, env: { ...process.env, TG_CHROMIUM: "/nonexistent/chromium" } });
  assert.match(r.stderr, /tensorgrad: PLAYGROUND skipped \(no Chromium at TG_CHROMIUM=\/nonexistent\/chromium\)/);
  assert.equal(r.stdout.includes('"workload":"PLAYGROUND"'), false);
});
