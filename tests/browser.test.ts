/**
 * @file tensorgrad in a browser: builds the bundle (scripts/build-browser.ts) into a temporary
 * directory, serves it with a local HTTP server (with and without the COOP/COEP headers that make
 * a page cross-origin isolated), and runs tests/browser/page.js in headless Chromium through
 * playwright-core — on the page's main thread and in a module Worker. The page trains a small MLP
 * with keras compile/fit on every backend it has and reports back; no network is needed.
 *
 * Needs a Chromium: /usr/bin/chromium (`apt-get install -y chromium`) or TG_CHROMIUM=<path>;
 * skipped with that message when there is none.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildBrowser } from "../scripts/build-browser.ts";

const CHROMIUM = [process.env.TG_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p !== undefined && p !== "" && existsSync(p));
const skip = CHROMIUM === undefined ? "no Chromium found: install it with `apt-get install -y chromium` (or set TG_CHROMIUM=/path/to/chrome)" : false;
const PAGE_DIR = join(import.meta.dirname, "browser");
/** The wasm kernels are built (`npm run build:wasm`, part of `npm ci`): then the bundle must run wasm too. */
const KERNELS_BUILT = existsSync(join(import.meta.dirname, "../src/backend/wasm/build/kernels-simd.wasm"));
const TYPES: Record<string, string> = { ".js": "text/javascript", ".html": "text/html", ".wasm": "application/wasm", ".map": "application/json" };

/** What page.js reports (the parts asserted here). */
interface Report {
  error?: string;
  inWorker: boolean;
  crossOriginIsolated: boolean;
  beforeReady: { current: string; list: string[] };
  afterReady: { current: string; list: string[]; info: { name: string; available: boolean; reason: string | null }[] };
  training: { backend: string; ranOn: string; threads: number; firstLoss: number; lastLoss: number; loss: number; accuracy: number; predShape: number[]; ms: number }[];
  matmul?: { threads: number; workers: number; sameAcrossThreads: boolean; maxDiffVsJs: number; msThreads: number; msOneThread: number };
  grad: number[];
  graphSvg: string;
  curveSvg: string;
  batches: number[];
  iris: number[];
  roundTrip: number;
  errors: Record<string, string>;
}

describe("browser bundle in headless Chromium", { skip }, () => {
  let dir = "";
  let server: Server;
  let base = "";
  let browser: import("playwright-core").Browser;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tg-browser-"));
    await buildBrowser(dir, { quiet: true });
    // /iso/… is served cross-origin isolated (COOP + COEP: SharedArrayBuffer, wasm threads), /plain/… is not
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const [, mode, ...rest] = url.pathname.split("/");
      const name = normalize(rest.join("/") || "index.html");
      const file = [join(PAGE_DIR, name), join(dir, name)].find((f) => !name.startsWith("..") && existsSync(f));
      if ((mode !== "iso" && mode !== "plain") || file === undefined) {
        res.writeHead(404).end();
        return;
      }
      const headers: Record<string, string> = { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" };
      if (mode === "iso") Object.assign(headers, { "cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp" });
      res.writeHead(200, headers).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox"] });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  async function runPage(path: string): Promise<Report> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`${m.text()} (${m.location().url})`);
    });
    try {
      await page.goto(`${base}${path}`);
      const handle = await page.waitForFunction(() => (globalThis as { tgResult?: unknown }).tgResult, undefined, { timeout: 120_000 });
      const report = (await handle.jsonValue()) as Report;
      assert.equal(report.error, undefined, `the page failed: ${report.error}`);
      assert.deepEqual(problems, [], "no errors in the page's console");
      return report;
    } finally {
      await page.close();
    }
  }

  function checkCommon(r: Report, t: { diagnostic(message: string): void }): void {
    for (const x of r.training) t.diagnostic(`${x.backend}: ${x.threads} thread(s), fit ${x.ms} ms, accuracy ${x.accuracy.toFixed(3)}`);
    if (r.matmul) t.diagnostic(`wasm matmul 384×256×320: ${r.matmul.msThreads} ms on ${r.matmul.threads} threads (${r.matmul.workers} workers), ${r.matmul.msOneThread} ms on 1`);
    assert.equal(r.beforeReady.current, "js", "before ready() the js backend is active");
    assert.equal(r.afterReady.info.find((b) => b.name === "native")?.available, false);
    assert.match(r.afterReady.info.find((b) => b.name === "native")?.reason ?? "", /only in Node/);
    if (KERNELS_BUILT) {
      assert.ok(r.afterReady.list.includes("wasm"), `wasm after ready(): ${JSON.stringify(r.afterReady.info)}`);
      assert.equal(r.afterReady.current, "wasm", "ready() makes wasm the default");
      assert.deepEqual(
        r.training.map((x) => x.backend),
        ["js", "wasm"],
      );
      assert.ok(r.matmul !== undefined);
      assert.equal(r.matmul.sameAcrossThreads, true, "a gemm's result does not depend on the thread count");
      assert.ok(r.matmul.maxDiffVsJs < 1e-3, `wasm vs js matmul: ${r.matmul.maxDiffVsJs}`);
    }
    assert.ok(r.training.length >= 1);
    for (const t of r.training) {
      assert.equal(t.ranOn, t.backend);
      assert.ok(t.lastLoss < t.firstLoss / 3, `${t.backend}: loss fell (${t.firstLoss} → ${t.lastLoss})`);
      assert.ok(t.accuracy >= 0.9, `${t.backend}: training accuracy ${t.accuracy}`);
      assert.deepEqual(t.predShape, [4, 2]);
    }
    assert.deepEqual(r.grad, [2, 4, 6]);
    assert.equal(r.graphSvg, "<svg");
    assert.equal(r.curveSvg, "<svg");
    assert.deepEqual(r.batches, [4, 4, 2]);
    assert.deepEqual(r.iris, [150, 4]);
    assert.equal(r.roundTrip, 1.5);
    for (const [what, message] of Object.entries(r.errors)) assert.match(message, /not available in a browser/, `${what}: ${message}`);
  }

  /** On an isolated page the wasm gemm runs on Web Workers over the shared memory (with ≥ 2 cores). */
  function checkThreads(r: Report): void {
    if (!KERNELS_BUILT || r.matmul === undefined || r.matmul.threads < 2) return;
    assert.ok(r.matmul.workers >= 1, `workers running: ${r.matmul.workers} of ${r.matmul.threads - 1}`);
  }

  test("main thread, cross-origin isolated: keras fit trains an MLP on every backend", async (t) => {
    const r = await runPage("/iso/index.html");
    assert.equal(r.crossOriginIsolated, true);
    assert.equal(r.inWorker, false);
    checkCommon(r, t);
    checkThreads(r);
  });

  test("in a Worker, cross-origin isolated", async (t) => {
    const r = await runPage("/iso/index.html?worker");
    assert.equal(r.crossOriginIsolated, true);
    assert.equal(r.inWorker, true);
    checkCommon(r, t);
    checkThreads(r);
  });

  test("main thread, not isolated (no SharedArrayBuffer)", async (t) => {
    const r = await runPage("/plain/index.html");
    assert.equal(r.crossOriginIsolated, false);
    checkCommon(r, t);
    // no SharedArrayBuffer: the private-memory kernels, single-threaded
    if (KERNELS_BUILT) assert.deepEqual([r.matmul?.threads, r.matmul?.workers], [1, 0]);
  });
});
