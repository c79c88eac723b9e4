/**
 * @file PLAYGROUND (issue 16): W2's training throughput — the MLP 784→512→256→10, Adam lr 1e-3,
 * batch 128, the same data and epoch order, epoch 0 warm-up and epoch 1 timed — in headless
 * Chromium on wasm, against the same workload in Node on wasm, in the same job.
 *
 * - Node: a fresh child process (../lib/child.ts) runs `runW2Throughput` (../lib/mnist-train.ts).
 * - Chromium: the same function, model and adapter, bundled by esbuild with the browser build's
 *   plugin (../browser/worker.ts), run in a module Worker — as the playground trains — of a tiny page
 *   that `tensorgrad playground`'s own server (COOP/COEP: cross-origin isolated, so wasm threads
 *   work) serves from a temporary folder, with the training split as raw bytes beside it.
 *
 * Figures: `train_samples_per_s` for backend `wasm` (Node) and `wasm-browser` (Chromium), and
 * `browser_node_ratio` (Chromium / Node, same job; the issue's target is ≥ 0.7). Needs Chromium
 * (/usr/bin/chromium, `apt-get install -y chromium`, or TG_CHROMIUM) and playwright-core; skipped
 * with a note otherwise.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tg from "../../src/index.ts";
import type { WorkerRequest, WorkerResult } from "../browser/worker.ts";
import { runInChild } from "../lib/child.ts";
import type { Figure, RunOptions } from "../lib/figure.ts";
import { loadMnist, reducedNote, runW2Throughput, w2Plan } from "../lib/mnist-train.ts";
import { mlp, trainAdapter, useThreads } from "./mnist-models.ts";
import type { Workload } from "./types.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WASM_BUILD = join(ROOT, "src/backend/wasm/build");
/** The Chromium to drive: TG_CHROMIUM when set (even if it does not exist), else Debian's. */
const FROM_ENV = process.env.TG_CHROMIUM !== undefined && process.env.TG_CHROMIUM !== "" ? process.env.TG_CHROMIUM : undefined;
export const CHROMIUM = FROM_ENV !== undefined ? (existsSync(FROM_ENV) ? FROM_ENV : undefined) : ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
/** How long one browser run may take before the job fails. */
const BROWSER_TIMEOUT_MS = 300_000;

const note = (msg: string) => process.stderr.write(`bench: tensorgrad PLAYGROUND: ${msg}\n`);

/** Why PLAYGROUND cannot run here, or null. */
function unavailable(): string | null {
  if (CHROMIUM === undefined)
    return FROM_ENV !== undefined
      ? `no Chromium at TG_CHROMIUM=${FROM_ENV}`
      : "no Chromium found: install it with `apt-get install -y chromium` (or set TG_CHROMIUM=/path/to/chrome)";
  const require = createRequire(import.meta.url);
  for (const pkg of ["playwright-core", "esbuild"]) {
    try {
      require.resolve(pkg);
    } catch {
      return `the dev dependency ${pkg} is not installed (npm ci)`;
    }
  }
  if (!existsSync(WASM_BUILD) || !readdirSync(WASM_BUILD).some((f) => f.endsWith(".wasm"))) return "the wasm kernels are not built (npm run build:wasm)";
  return null;
}

/** Node's side, in the child process: the figure, with the last loss riding along (taken off by the parent). */
export async function measure(backend: string, opts: RunOptions): Promise<Figure[]> {
  const threads = useThreads(backend, opts.threads);
  const { train } = await loadMnist();
  tg.manualSeed(0);
  const r = await runW2Throughput(trainAdapter(mlp(), false), train, opts.scale);
  return [{ framework: "tensorgrad", backend, threads, workload: "PLAYGROUND", metric: "train_samples_per_s", value: r.samplesPerS, unit: "samples/s", lastLoss: r.lastLoss } as Figure];
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>tensorgrad bench: PLAYGROUND</title>
<script type="module">
globalThis.runBench = (request) => new Promise((resolve) => {
  const w = new Worker("./worker.js", { type: "module" });
  w.onmessage = (e) => { w.terminate(); resolve(e.data); };
  w.onerror = (e) => resolve({ error: "worker: " + (e.message || "failed to load") });
  w.postMessage(request);
});
</script>
`;

let site: Promise<string> | null = null;

/** The static folder served to Chromium (built once per process, removed at exit): page, bundled Worker, kernels, data. */
function prepareSite(): Promise<string> {
  site ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-bench-playground-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    // bundled as scripts/build-playground.ts bundles the playground's Worker
    const { bundleForBrowser } = await import("../../scripts/build-browser.ts");
    await bundleForBrowser("PLAYGROUND", { worker: "bench/browser/worker.ts" }, dir, "worker", { minify: true, external: ["vega", "vega-lite"] });
    writeFileSync(join(dir, "index.html"), PAGE);
    const { train } = await loadMnist();
    // little-endian, as both sides of this machine read them
    writeFileSync(join(dir, "train-x.bin"), new Uint8Array(train.x.buffer, train.x.byteOffset, train.x.byteLength));
    writeFileSync(join(dir, "train-y.bin"), new Uint8Array(train.y.buffer, train.y.byteOffset, train.y.byteLength));
    return dir;
  })();
  return site;
}

/** Chromium's side: serve the folder, open the page, run the Worker, close everything. */
async function runInChromium(request: WorkerRequest): Promise<WorkerResult & { version: string }> {
  const dir = await prepareSite();
  const { servePlayground } = await import("../../src/cli/playground.ts");
  const { server, url } = await servePlayground(dir, 0);
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction("typeof globalThis.runBench === 'function'", undefined, { timeout: 30_000 });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<{ error: string }>((resolve) => {
      timer = setTimeout(() => resolve({ error: `no result after ${BROWSER_TIMEOUT_MS / 1000} s` }), BROWSER_TIMEOUT_MS);
    });
    const r = (await Promise.race([page.evaluate(`runBench(${JSON.stringify(request)})`), timeout])) as WorkerResult | { error: string };
    clearTimeout(timer);
    if ("error" in r) throw new Error(`in Chromium: ${r.error}${errors.length > 0 ? ` (page errors: ${errors.join("; ")})` : ""}`);
    return { ...r, version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

async function run(backend: string, opts: RunOptions): Promise<Figure[]> {
  const plan = w2Plan(opts.scale);
  const reduced = reducedNote("PLAYGROUND", opts.scale, `${plan.nTrain} training samples per epoch`);
  if (reduced !== null) note(reduced);
  const [nodeFig] = runInChild(import.meta.url, "PLAYGROUND", backend, opts).filter((f) => f.metric === "train_samples_per_s") as (Figure & { lastLoss: number })[];
  if (nodeFig === undefined) throw new Error("PLAYGROUND: the Node child printed no figure");
  const { lastLoss: nodeLoss, ...node } = nodeFig;
  const b = await runInChromium({ threads: opts.threads, scale: opts.scale });
  if (b.backend !== "wasm") throw new Error(`in Chromium the backend is ${b.backend}, not wasm`);
  if (b.threads !== opts.threads)
    throw new Error(`in Chromium wasm runs ${b.threads} thread(s), not ${opts.threads}${b.isolated ? "" : " (the page is not cross-origin isolated)"}`);
  if (b.poolWorkers < opts.threads - 1) note(`${opts.threads}t: only ${b.poolWorkers} of ${opts.threads - 1} pool workers were up when training started (the rest joined during the warm-up epoch)`);
  const same = Object.is(nodeLoss, b.lastLoss);
  note(
    `${opts.threads}t: Chromium ${b.version}, isolated ${b.isolated}; last training loss ${same ? `identical in Node and Chromium (${nodeLoss})` : `Node ${nodeLoss}, Chromium ${b.lastLoss}`}`,
  );
  const browserFig: Figure = { ...node, backend: "wasm-browser", value: b.samplesPerS };
  return [node, browserFig, { ...browserFig, metric: "browser_node_ratio", value: b.samplesPerS / node.value, unit: "ratio" }];
}

export const playground: Workload = {
  id: "PLAYGROUND",
  title: "W2's MLP training (samples/s, epoch 1 after a warm-up epoch) in headless Chromium (a Worker, wasm threads) vs Node on wasm, same run",
  elsewhere: true,
  backends: ["wasm"],
  unavailable,
  run,
};
