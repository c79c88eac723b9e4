// Runs in headless Chromium for tests/browser.test.ts, on a page's main thread or in a module
// Worker (the same code): trains a small MLP with keras compile/fit on each backend, exercises
// the browser-relevant API, and returns a plain object of what it saw (the test asserts on it).
import * as tg from "./tensorgrad.js";

/** XOR-like quadrants: label 1 where x0·x1 > 0 (not linearly separable, so the MLP has to learn). */
function quadrants(n) {
  const x = tg.rand([n, 2]).mul(2).sub(1);
  const v = x.dataSync();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = v[2 * i] * v[2 * i + 1] > 0 ? 1 : 0;
  return { x, y: tg.tensor(labels, { dtype: "int32" }) };
}

async function trainOn(backend) {
  tg.backend.use(backend);
  tg.manualSeed(1);
  const { x, y } = quadrants(512);
  const model = tg.keras.sequential([
    tg.keras.input([2]),
    tg.keras.dense(32, { activation: "relu" }),
    tg.keras.dense(32, { activation: "relu" }),
    tg.keras.dense(2, { activation: "softmax" }),
  ]);
  model.compile({ optimizer: new tg.optim.Adam(model.parameters(), { lr: 0.01 }), loss: "sparseCategoricalCrossentropy", metrics: ["accuracy"] });
  const t0 = performance.now();
  const history = await model.fit(x, y, { batchSize: 32, epochs: 40, verbose: 0 });
  const ms = performance.now() - t0;
  const [loss, accuracy] = await model.evaluate(x, y, { verbose: 0 });
  const pred = model.predict(x.narrow(0, 0, 4));
  return {
    backend,
    ranOn: tg.backend.current(),
    threads: tg.backend.threads(),
    firstLoss: history.history.loss[0],
    lastLoss: history.history.loss.at(-1),
    loss,
    accuracy,
    predShape: pred.shape,
    ms: Math.round(ms),
  };
}

/** A matmul big enough to be split across the wasm workers, at 1 thread and at all of them. */
function threadedMatmul() {
  tg.manualSeed(2);
  const a = tg.randn([384, 256]);
  const b = tg.randn([256, 320]);
  const all = tg.backend.threads();
  // best of 5 (a diagnostic only: the test asserts results, not speed)
  const product = () => {
    let best = { c: null, ms: Number.POSITIVE_INFINITY };
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const c = tg.matmul(a, b).dataSync();
      const ms = performance.now() - t0;
      if (ms < best.ms) best = { c, ms };
    }
    return best;
  };
  product(); // warm-up
  const many = product();
  const workers = tg.backend.wasmWorkers();
  tg.backend.setThreads(1);
  const one = product();
  tg.backend.setThreads(all);
  tg.backend.use("js");
  const ref = tg.matmul(a, b).dataSync();
  tg.backend.use("wasm");
  let sameAcrossThreads = true;
  let maxDiffVsJs = 0;
  for (let i = 0; i < ref.length; i++) {
    if (many.c[i] !== one.c[i]) sameAcrossThreads = false;
    maxDiffVsJs = Math.max(maxDiffVsJs, Math.abs(many.c[i] - ref[i]));
  }
  return { threads: all, workers, sameAcrossThreads, maxDiffVsJs, msThreads: +many.ms.toFixed(2), msOneThread: +one.ms.toFixed(2) };
}

async function rejects(f) {
  try {
    await f();
    return "no error";
  } catch (e) {
    return String(e?.message ?? e);
  }
}

export async function run() {
  const out = {
    inWorker: typeof window === "undefined",
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    beforeReady: { current: tg.backend.current(), list: tg.backend.list() },
  };
  await tg.backend.ready();
  out.simd = typeof WebAssembly.validate === "function";
  out.afterReady = { current: tg.backend.current(), list: tg.backend.list(), info: tg.backend.info() };
  out.training = [];
  for (const b of ["js", "wasm"]) if (tg.backend.list().includes(b)) out.training.push(await trainOn(b));
  if (tg.backend.list().includes("wasm")) {
    tg.backend.use("wasm");
    out.matmul = threadedMatmul();
  }
  tg.backend.use("js");
  // the rest of the browser surface: autograd + viz SVG, in-memory data loaders, bundled iris
  const w = tg.tensor([1, 2, 3], { requiresGrad: true });
  const s = w.mul(w).sum();
  s.backward();
  out.grad = w.grad.toArray();
  out.graphSvg = tg.viz.graphToSvg(s).slice(0, 4);
  out.curveSvg = (await tg.viz.learningCurveSvg({ loss: [1, 0.5, 0.25] })).slice(0, 4);
  const loader = new tg.data.DataLoader(new tg.data.TensorDataset(tg.arange(10), tg.arange(10)), { batchSize: 4, shuffle: true, seed: 0 });
  out.batches = [...loader].map(([xb]) => xb.shape[0]);
  out.iris = tg.datasets.iris().x.shape;
  out.roundTrip = tg.io.deserialize(tg.io.serialize({ w: tg.tensor([1.5]) })).tensors.w.item();
  // Node-only features say so
  out.errors = {
    save: await rejects(() => tg.save({ w }, "w.safetensors")),
    mnist: await rejects(() => tg.datasets.mnist()),
    png: await rejects(() => tg.viz.svgToPng("<svg/>")),
  };
  return out;
}
