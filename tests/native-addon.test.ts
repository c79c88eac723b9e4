/**
 * @file What only the native backend has (its kernels' results are checked by
 * tests/conformance/): registration, its micro-kernels and their selection, its thread pool behind
 * tg.backend.setThreads; the addon refusing views outside their arrays and wrong array types; the
 * primitives it delegates to js; which conv cases it leaves to the composition; and install
 * safety: without the addon (TG_NATIVE=0, or no compiler at install) everything else works.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import type { Backend, StridedView, Window2d } from "../src/backend/backend.ts";
import { jsBackend } from "../src/backend/js/index.ts";
import { getThreads, nativeAddon, nativeBackend, nativeUnavailableReason, setThreads } from "../src/backend/native/index.ts";
import * as tg from "../src/index.ts";
import { randomView } from "./conformance/views.ts";
import { hooks } from "./fused-access.ts";
import { childEnv } from "./gemm-helpers.ts";

const addon = nativeAddon();
const skip = addon === null ? nativeUnavailableReason() : false;
const f32 = (seed: number, shape: number[]): StridedView => randomView(seed, shape, "float32", {}, false);

describe("native backend", { skip }, () => {
  test("is registered, reports its kernel and threads", () => {
    assert.ok(tg.backend.list().includes("native"));
    const entry = tg.backend.info().find((b) => b.name === "native")!;
    assert.deepEqual([entry.available, entry.reason], [true, null]);
    assert.ok(["avx512", "avx2+fma", "generic"].includes(addon!.kernelName()));
    assert.ok(getThreads() >= 1);
    assert.equal(addon!.hardwareThreads() >= 1, true);
  });

  test("kernel selection: every listed kernel can be selected, unknown ones cannot", () => {
    const kernels = addon!.kernels();
    assert.ok(kernels.includes("generic"));
    assert.equal(kernels[0], addon!.kernelName(), "the fastest kernel is the default");
    assert.equal(addon!.setKernel("no-such-kernel"), false);
    assert.equal(addon!.kernelName(), kernels[0]);
  });

  // every micro-kernel this CPU runs (avx512, avx2+fma, generic), each against js

  test("tg.backend.setThreads and threads() reach the native pool", () => {
    const before = getThreads();
    try {
      tg.backend.use("native");
      tg.backend.setThreads(3);
      assert.equal(tg.backend.threads(), 3);
      assert.equal(getThreads(), 3);
      assert.throws(() => setThreads(0), /positive integer/);
    } finally {
      tg.backend.setThreads(before);
      tg.backend.use("js");
    }
  });

  test("views outside their arrays and wrong array types are refused, not read", () => {
    const p = (...v: number[]) => new Float64Array(v);
    const a = new Float32Array(6);
    const c = new Float32Array(4);
    assert.throws(() => addon!.sgemm(a, a, c, p(1, 2, 2, 3, 1, 6, 3, 1, 0, 6, 2, 1)), /outside its array/); // a ends at 7
    assert.throws(() => addon!.sgemm(a, a, c, p(1, 2, 2, 3, 0, 6, 3, 1, 0, 6, 3, 1)), /outside its array/); // b reaches b[2·3 + 1]
    assert.throws(() => addon!.sgemm(a, a, new Float32Array(3), p(1, 2, 2, 1, 0, 2, 1, 1, 0, 2, 2, 1)), /outside its array/); // c too short
    addon!.sgemm(a, a, c, p(1, 2, 2, 3, 3, 6, -3, 1, 0, 6, 2, 1)); // rows walked backwards from a[3]: in bounds
    assert.throws(() => addon!.sgemm(a, a, c, p(1, 2, 2, 1, 0, 0, -1, 1, 0, 0, 2, 1)), /outside its array/); // walks to a[-1]
    assert.throws(() => addon!.sgemm(new Float64Array(6) as unknown as Float32Array, a, c, p(1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0)), /wrong element type/);
    assert.throws(() => addon!.sgemm(a, a, c, new Float64Array(3)), /12 numbers/);
  });

  test("the remaining primitives are the js reference kernels", () => {
    const native = new Set(["name", "matmul", "binary", "unary", "copy", "reduce", "im2col", "col2im", "maxPool2d", "maxPool2dBackward"]);
    for (const key of Object.keys(jsBackend) as (keyof Backend)[]) {
      if (native.has(key)) continue;
      assert.equal(nativeBackend[key], jsBackend[key], `${key} should delegate to js`);
    }
  });

  test("bad views are refused by the addon", () => {
    const p = (...v: number[]) => new Float64Array(v);
    const a = new Float32Array(10);
    assert.throws(() => addon!.binary(0, a, a, new Float32Array(10), p(1, 1, 0, 10, 1, 1)), /outside its array/);
    assert.throws(() => addon!.binary(6, a, a, new Float32Array(10), p(1, 0, 0, 10, 1, 1)), /wrong element type/); // eq writes bytes
    assert.throws(() => addon!.unary(2, a, new Float32Array(4), p(1, 0, 10, 1)), /outside its array/);
    assert.throws(() => addon!.copy(a, new Float32Array(10), p(2, 0, 5, 3, 2, 1)), /outside its array/);
    assert.throws(() => addon!.im2col(a, new Float32Array(100), p(0, 1, 1, 4, 4, 16, 16, 4, 1, 1, 1, 1, 1, 0, 0, 1, 1, 4, 4)), /outside its array/);
  });

  test("conv: float64 and one image too large for the input-gradient scratch are left to the composition; bad views are refused", () => {
    const win = (H: number, W: number): Window2d => ({ kernel: [3, 3], stride: [1, 1], padding: [1, 1], dilation: [1, 1], outSize: [H, W] });
    const h = hooks(nativeBackend);
    const f64 = randomView(1, [1, 1, 3, 3], "float64");
    assert.equal(h.conv2d!(f64, f64, null, { ...win(3, 3), padding: [0, 0], kernel: [2, 2], outSize: [2, 2] }), null);
    assert.equal(h.conv2dBackwardInput!(f32(2, [1, 4, 40, 100]), f32(3, [4, 16, 3, 3]), win(40, 100), [40, 100]), null);
    const [x, w] = [f32(4, [2, 2, 5, 5]), f32(5, [3, 2, 3, 3])];
    const valid = { ...win(5, 5), padding: [0, 0] as const, outSize: [3, 3] as const };
    assert.throws(() => h.conv2d!({ ...x, data: x.data.subarray(0, 40) }, w, null, valid), RangeError);
    assert.throws(() => h.conv2d!(x, w, { data: new Float32Array(2), dtype: "float32", shape: [2], strides: [1], offset: 0 }, valid), RangeError);
    assert.throws(() => h.conv2dBackwardWeight!(f32(7, [2, 3, 2, 3]), x, valid, false), RangeError);
  });
});

describe("install safety (runs with or without the addon)", () => {
  test("TG_NATIVE=0: native is unavailable, info() says why, everything else works", () => {
    const script = `
      import * as tg from "./src/index.ts";
      const native = tg.backend.info().find((b) => b.name === "native");
      const y = tg.tensor([[1, 2], [3, 4]]).matmul(tg.tensor([[5], [6]]));
      console.log(JSON.stringify({ list: tg.backend.list(), native, y: Array.from(y.dataSync()) }));`;
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", env: childEnv({ TG_NATIVE: "0", TG_BACKEND: "" }) });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as { list: string[]; native: tg.backend.BackendInfo; y: number[] };
    assert.ok(!out.list.includes("native"));
    assert.deepEqual(out.native, { name: "native", available: false, reason: "disabled by TG_NATIVE=0", active: false });
    assert.deepEqual(out.y, [17, 39]);
  });

  test("TG_BACKEND=native without the addon is a clear error naming the available backends", () => {
    const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `import "./src/index.ts";`], {
      encoding: "utf8",
      env: childEnv({ TG_NATIVE: "0", TG_BACKEND: "native" }),
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /TG_BACKEND=native: unknown backend \(available: js/);
  });

  test("the install script never fails: no C++ compiler on PATH → exit 0 and a recorded reason", () => {
    // run it in a scratch copy so the real build and its status file are left alone
    const script = `
      import { cpSync, mkdtempSync, readFileSync, mkdirSync } from "node:fs";
      import { tmpdir } from "node:os";
      import { join } from "node:path";
      import { spawnSync } from "node:child_process";
      const dir = mkdtempSync(join(tmpdir(), "tg-native-"));
      mkdirSync(join(dir, "scripts"));
      cpSync("scripts/build-native.mjs", join(dir, "scripts/build-native.mjs"));
      cpSync("native/binding.gyp", join(dir, "native/binding.gyp"));
      cpSync("native/src", join(dir, "native/src"), { recursive: true });
      const r = spawnSync(process.execPath, [join(dir, "scripts/build-native.mjs")], { encoding: "utf8", env: { ...process.env, PATH: "/nonexistent", CXX: "" } });
      console.log(JSON.stringify({ status: r.status, stderr: r.stderr, record: JSON.parse(readFileSync(join(dir, "native/build-status.json"), "utf8")) }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: childEnv({ TG_NATIVE: "" }) });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { status: number; stderr: string; record: { built: boolean; reason: string } };
    assert.equal(out.status, 0);
    assert.equal(out.record.built, false);
    assert.match(out.record.reason, /make|compiler|node-gyp/);
    assert.match(out.stderr, /native backend not built: .*; using the wasm\/js backends/);
  });
});
