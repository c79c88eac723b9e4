/**
 * @file What only the wasm backend has (its kernels' results are checked by tests/conformance/):
 * the runtime's variant and the plain-SIMD build's products; the scratch arena reused by every
 * call (memory flat over training); parameters resident in wasm memory (in-place staging, the
 * semantics users see, the heap and its release on garbage collection); which cases its conv
 * kernels leave to the composition; and wasm as the default where native is not built.
 */
import "./ensure-wasm.ts";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { StridedView, Window2d } from "../src/backend/backend.ts";
import { Arena, ARENA_BASE, getArena, getRuntime, RESIDENT_CAP_BYTES, stage } from "../src/backend/wasm/runtime.ts";
import { getThreads, setThreads, wasmBackend, wasmUnavailableReason } from "../src/backend/wasm/index.ts";
import * as tg from "../src/index.ts";
import { randomView } from "./conformance/views.ts";
import { hooks } from "./fused-access.ts";
import { childEnv } from "./gemm-helpers.ts";

test("the wasm backend is registered and reports its variant", () => {
  assert.ok(tg.backend.list().includes("wasm"), `wasm backend unavailable: ${wasmUnavailableReason()}`);
  const rt = getRuntime();
  assert.ok(rt.simd === "relaxed-simd" || rt.simd === "simd");
  assert.ok(getThreads() >= 1);
});


test("the plain-SIMD build (no relaxed FMA) gives the same products", () => {
  const script = `
    import * as tg from "./src/index.ts";
    import { getRuntime } from "./src/backend/wasm/runtime.ts";
    tg.manualSeed(1);
    const a = tg.randn([67, 300]), b = tg.randn([300, 45]).t().contiguous().t();
    tg.backend.use("wasm");
    const w = a.matmul(b);
    tg.backend.use("js");
    const j = a.matmul(b);
    console.log(JSON.stringify({ simd: getRuntime().simd, err: w.sub(j).abs().max().item() }));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: childEnv({ TG_WASM_VARIANT: "simd" }),
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").pop()!) as {
    simd: string;
    err: number;
  };
  assert.equal(out.simd, "simd");
  assert.ok(out.err < 1e-4, `max |wasm − js| = ${out.err}`);
});


test("wasm memory stays flat over a training run (the scratch arena is reused by every call)", () => {
  const before = tg.backend.current();
  tg.backend.use("wasm");
  try {
    tg.manualSeed(7);
    const x = tg.randn([96, 40]);
    const target = tg.randint(0, 3, [96]);
    const model = new tg.nn.Sequential(new tg.nn.Linear(40, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 3));
    const opt = new tg.optim.SGD(model.parameters(), { lr: 0.05 });
    const step = () => {
      const loss = tg.F.crossEntropy(model.call(x) as tg.Tensor, target);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    };
    for (let i = 0; i < 5; i++) step();
    const warm = getRuntime().memory.buffer.byteLength;
    for (let i = 0; i < 100; i++) step();
    assert.equal(getRuntime().memory.buffer.byteLength, warm);
  } finally {
    tg.backend.use(before);
  }
});

describe("parameters resident in wasm memory (shared memory only)", () => {
  const shared = getRuntime().shared;
  const onWasm = <T>(f: () => T): T => {
    const before = tg.backend.current();
    tg.backend.use("wasm");
    try {
      return f();
    } finally {
      tg.backend.use(before);
    }
  };

  test("float32 parameters created on wasm live in wasm memory and kernels read them in place", { skip: !shared }, () => {
    const lin = onWasm(() => new tg.nn.Linear(7, 5));
    const ar = getArena();
    for (const p of lin.parameters()) assert.ok(ar.isResident(p.data), "resident");
    const w = lin.weight;
    assert.equal(stage(ar, w.data, w.shape, w.strides, w.offset).ptr, w.data.byteOffset, "staged in place, not copied");
    // other dtypes, and parameters made on js, keep ordinary arrays
    assert.ok(!ar.isResident(onWasm(() => new tg.nn.Parameter(tg.zeros([3], { dtype: "float64" }))).data));
    const b = tg.backend.current();
    tg.backend.use("js");
    try {
      assert.ok(!ar.isResident(new tg.nn.Linear(3, 2).weight.data));
    } finally {
      tg.backend.use(b);
    }
  });

  test("a resident parameter behaves like any other: init, optimizer steps, loadStateDict, safetensors, js afterwards, copies", { skip: !shared }, () => {
    tg.manualSeed(5);
    const x = tg.randn([6, 7]);
    const target = tg.randint(0, 5, [6]);
    const make = () => {
      tg.manualSeed(11);
      return new tg.nn.Sequential(new tg.nn.Linear(7, 9), new tg.nn.ReLU(), new tg.nn.Linear(9, 5));
    };
    const onJs = make();
    const model = onWasm(make);
    assert.ok(getArena().isResident((model.parameters()[0] as tg.Tensor).data));
    const before = onJs.parameters().map((p) => Array.from(p.dataSync()));
    assert.deepEqual(
      model.parameters().map((p) => Array.from(p.dataSync())),
      before,
      "the same initial values as on js",
    );
    const train = (m: tg.nn.Module) => {
      const opt = new tg.optim.Adam(m.parameters(), { lr: 0.01 });
      for (let i = 0; i < 3; i++) {
        const loss = tg.F.crossEntropy(m.call(x) as tg.Tensor, target);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
    };
    onWasm(() => train(model));
    train(onJs);
    for (const [i, p] of model.parameters().entries()) {
      const want = onJs.parameters()[i]!.dataSync();
      const got = p.dataSync();
      assert.notDeepEqual(Array.from(got), before[i], "the optimizer wrote in place");
      for (let k = 0; k < got.length; k++) assert.ok(Math.abs(got[k]! - want[k]!) <= 1e-5, `param ${i}[${k}]: ${got[k]} vs ${want[k]}`);
    }
    // loadStateDict copies into the resident storage; serialize / deserialize round-trips it
    const other = onWasm(make);
    const data = (other.parameters()[0] as tg.Tensor).data;
    other.loadStateDict(tg.io.deserialize(tg.io.serialize(model.stateDict())).tensors);
    assert.equal((other.parameters()[0] as tg.Tensor).data, data, "loaded in place");
    for (const [i, p] of other.parameters().entries()) assert.deepEqual(p.dataSync(), model.parameters()[i]!.dataSync());
    // the same model on js gives the same forward (matmul to float tolerance)
    const yWasm = onWasm(() => tg.noGrad(() => (model.call(x) as tg.Tensor).dataSync()));
    const yJs = tg.noGrad(() => {
      const b = tg.backend.current();
      tg.backend.use("js");
      try {
        return (model.call(x) as tg.Tensor).dataSync();
      } finally {
        tg.backend.use(b);
      }
    });
    for (let k = 0; k < yJs.length; k++) assert.ok(Math.abs(yWasm[k]! - yJs[k]!) <= 1e-5);
    // slice() of the data is an independent ordinary copy
    const w = model.parameters()[0]!.data as Float32Array;
    const copy = w.slice();
    assert.ok(copy.buffer instanceof ArrayBuffer && !getArena().isResident(copy));
    copy[0] = 123;
    assert.notEqual(w[0], 123);
    // a Parameter wrapping resident storage shares it (no second copy)
    const again = new tg.nn.Parameter(model.parameters()[0]!.detach());
    assert.equal(again.data, w);
  });

  test("the resident heap: first fit, coalescing, the last block returned to the arena, the cap", { skip: !shared }, () => {
    const mem = new WebAssembly.Memory({ initial: 2, maximum: 1000, shared: true });
    const ar = new Arena(mem);
    const top = () => {
      ar.reset();
      return ar.alloc(4);
    };
    assert.equal(top(), ARENA_BASE);
    const a = ar.allocResident(100)!; // 400 → 448 bytes
    const b = ar.allocResident(100)!;
    const c = ar.allocResident(100)!;
    assert.deepEqual([a.byteOffset, b.byteOffset, c.byteOffset], [ARENA_BASE, ARENA_BASE + 448, ARENA_BASE + 896]);
    assert.equal(top(), ARENA_BASE + 1344, "the arena starts after the resident blocks");
    a.fill(1);
    b.fill(2);
    c.fill(3);
    ar.releaseResident(b);
    const small = ar.allocResident(40)!; // 192 bytes: first fit in b's hole
    assert.equal(small.byteOffset, ARENA_BASE + 448);
    assert.deepEqual(Array.from(small.subarray(0, 3)), [0, 0, 0], "zeroed");
    const big = ar.allocResident(100)!; // does not fit the rest of the hole: after c
    assert.equal(big.byteOffset, ARENA_BASE + 1344);
    ar.releaseResident(big);
    assert.equal(top(), ARENA_BASE + 1344, "the last block goes back to the arena");
    ar.releaseResident(a);
    ar.releaseResident(small);
    ar.releaseResident(c); // coalesces with the holes before it, all back to the arena
    assert.equal(top(), ARENA_BASE);
    assert.equal(ar.residentBytes, 0);
    // growing the memory never detaches a resident array (a new buffer object each time: still recognised)
    const d = ar.allocResident(10)!;
    d[3] = 7;
    ar.reset();
    ar.alloc(5 * 65536);
    assert.notEqual(mem.buffer, d.buffer);
    assert.equal(d[3], 7);
    assert.ok(ar.isResident(d) && ar.isResident(new Float32Array(mem.buffer, d.byteOffset, 1)));
    assert.equal(ar.allocResident(RESIDENT_CAP_BYTES / 4 + 1), null, "beyond the cap: an ordinary array");
  });

  test("a resident block is freed when its array is garbage-collected", { skip: !shared }, async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const ar = getArena();
    const before = ar.residentBytes;
    (() => {
      for (let i = 0; i < 20; i++) onWasm(() => new tg.nn.Linear(64, 64));
    })();
    assert.ok(ar.residentBytes > before);
    for (let i = 0; i < 10 && ar.residentBytes > before; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(ar.residentBytes <= before, `${ar.residentBytes} resident bytes, ${before} before`);
  });
});

/** The backend a plain run uses: native or wasm when available, else js. */
const DEFAULT_BACKEND = tg.backend.current();
const FORCED = (process.env.TG_BACKEND ?? "") !== "";

test(
  "wasm is the default backend when it is available (native, the optional addon, goes first where it is built)",
  { skip: FORCED },
  () => {
    assert.equal(DEFAULT_BACKEND, tg.backend.list().includes("native") ? "native" : "wasm");
  },
);

describe("cases the wasm conv kernels leave to the composition", () => {
  const f32 = (seed: number, shape: number[]): StridedView => randomView(seed, shape, "float32", {}, false);
  const win = (H: number, W: number, pad: number): Window2d => ({ kernel: [3, 3], stride: [1, 1], padding: [pad, pad], dilation: [1, 1], outSize: [H + 2 * pad - 2, W + 2 * pad - 2] });

  test("a large product over fewer samples than threads: the composition splits its gemm (dW has no such fallback)", () => {
    const before = getThreads();
    try {
      setThreads(2);
      const [x, w, g] = [f32(1, [1, 16, 32, 32]), f32(2, [64, 16, 3, 3]), f32(3, [1, 64, 32, 32])];
      const h = hooks(wasmBackend);
      assert.equal(h.conv2d!(x, w, f32(4, [64]), win(32, 32, 1)), null);
      assert.equal(h.conv2dBackwardInput!(g, w, win(32, 32, 1), [32, 32]), null);
      assert.notEqual(h.conv2dBackwardWeight!(g, x, win(32, 32, 1), true), null);
      setThreads(1);
      assert.notEqual(h.conv2d!(x, w, f32(4, [64]), win(32, 32, 1)), null, "one thread: the kernel runs");
    } finally {
      setThreads(before);
    }
  });

  test("float64 operands, and a relu mask y that is not float32 or not g's shape", () => {
    const h = hooks(wasmBackend);
    const [g, x, w] = [f32(1, [2, 3, 4, 4]), f32(2, [2, 2, 4, 4]), f32(3, [3, 2, 3, 3])];
    const x64 = randomView(4, [2, 2, 4, 4], "float64");
    assert.equal(h.conv2d!(x64, w, null, win(4, 4, 1)), null);
    const y64: StridedView = { ...g, data: Float64Array.from(g.data as Float32Array), dtype: "float64" };
    const yShort: StridedView = { ...g, shape: [2, 3, 4, 3] };
    for (const y of [y64, yShort]) {
      assert.equal(h.conv2dBackwardInput!(g, w, win(4, 4, 1), [4, 4], y), null);
      assert.equal(h.conv2dBackwardWeight!(g, x, win(4, 4, 1), true, y), null);
    }
  });
});
