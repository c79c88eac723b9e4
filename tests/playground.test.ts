/**
 * @file The browser playground in headless Chromium: builds it (scripts/build-playground.ts) into a
 * temporary folder, serves it with `tensorgrad playground`'s own server (COOP/COEP), and drives the
 * page as a user would: trains the MLP for one epoch (≥ 90 % test accuracy), draws digits as mouse
 * strokes and checks the predictions, downloads the model (and reads it back in Node with
 * tg.load and the CLI's `predict`), drops a model written by `tensorgrad train` and a corrupt file on
 * the page, and checks there are no console errors. Screenshots of each step go to
 * tests/output/playground/ (or $TG_TEST_OUT/playground/).
 *
 * Needs a Chromium: /usr/bin/chromium (`apt-get install -y chromium`, as .ci/run does) or
 * TG_CHROMIUM=<path>; skipped with that message when there is none.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildPlayground, digitsBin, pixelValue } from "../scripts/build-playground.ts";
import { main } from "../src/cli/cli.ts";
import { servePlayground } from "../src/cli/playground.ts";
import * as tg from "../src/index.ts";
import { derivatives } from "../playground/expr.ts";
import { optimizerPaths } from "../playground/paths.ts";
import { toMnist } from "../playground/preprocess.ts";

const CHROMIUM = [process.env.TG_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => p !== undefined && p !== "" && existsSync(p));
const skip = CHROMIUM === undefined ? "no Chromium found: install it with `apt-get install -y chromium` (or set TG_CHROMIUM=/path/to/chrome)" : false;
const SHOTS = join(process.env.TG_TEST_OUT ?? join(import.meta.dirname, "output"), "playground");

/** The page's globals used in page.evaluate callbacks (the tests compile without the DOM typings). */
interface Page {
  document: { querySelector(s: string): { textContent: string | null; dispatchEvent(e: unknown): boolean } | null };
  DataTransfer: new () => { items: { add(f: File): void } };
  DragEvent: new (type: string, init: { dataTransfer: unknown; bubbles: boolean; cancelable: boolean }) => unknown;
}

/** Stroke paths on the 280×280 pad, as fractions of its size: digits an MNIST MLP should read. */
const STROKES: Record<number, [number, number][][]> = {
  0: [Array.from({ length: 41 }, (_, i) => [0.5 + 0.2 * Math.sin((2 * Math.PI * i) / 40), 0.5 - 0.32 * Math.cos((2 * Math.PI * i) / 40)] as [number, number])],
  1: [
    [
      [0.52, 0.16],
      [0.5, 0.84],
    ],
  ],
  7: [
    [
      [0.28, 0.2],
      [0.72, 0.2],
      [0.45, 0.84],
    ],
  ],
};

describe("the playground, offline parts", () => {
  test("digits.bin decodes to exactly the pixels of tg.datasets.mnist", async () => {
    const bin = digitsBin();
    const counts = Array.from({ length: 10 }, (_, d) => new DataView(bin.buffer).getUint32(4 * d, true));
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      10_000,
    );
    const { x } = await tg.datasets.mnist({ split: "test" });
    // the test split is each class's digits after the first 800: check class 0's and class 9's
    const px = x.dataSync();
    const firstTest0 = 40 + 800 * 784;
    for (let i = 0; i < 784; i++) assert.equal(Math.fround(pixelValue(bin[firstTest0 + i]!)), px[i]);
    const last = 40 + 9_999 * 784;
    for (let i = 0; i < 784; i++) assert.equal(Math.fround(pixelValue(bin[last + i]!)), px[(x.shape[0]! - 1) * 784 + i]);
  });

  test("the optimizers' paths: SGD on x²/20 + y² follows x·0.905ᵏ, y·(−0.9)ᵏ; all approach the minimum", () => {
    const paths = optimizerPaths();
    const [x, y] = paths[0]!.points.at(-1)!;
    assert.ok(Math.abs(x - -7 * 0.905 ** 30) < 1e-4 && Math.abs(y - 2 * 0.9 ** 30) < 1e-4, `SGD ends at ${x}, ${y}`);
    for (const p of paths) {
      const [px, py] = p.points.at(-1)!;
      assert.ok(px * px / 20 + py * py < 49 / 20 + 4, `${p.name} lowers the loss`);
    }
  });

  test("the derivative demo's little language: autograd agrees with central differences", () => {
    const d = derivatives("x^2 + exp(-x)", 1);
    assert.ok(Math.abs(d.f - (1 + Math.exp(-1))) < 1e-12 && Math.abs(d.auto - (2 - Math.exp(-1))) < 1e-12, JSON.stringify(d));
    assert.ok(Math.abs(d.numeric - d.auto) < 1e-6);
    assert.ok(Math.abs(derivatives("sin(x)*x - 3/x + sigmoid(2*x)^2", 0.5).auto - (Math.sin(0.5) + 0.5 * Math.cos(0.5) + 3 / 0.25 + 2 * (1 / (1 + Math.exp(-1))) ** 2 * (1 - 1 / (1 + Math.exp(-1))) * 2)) < 1e-10);
    assert.equal(derivatives("-2^2", 3).f, -4);
    assert.equal(derivatives("7", 3).auto, 0);
    assert.throws(() => derivatives("x +* 2", 1), /unexpected "\*" in "x \+\* 2"/);
    assert.throws(() => derivatives("foo(x)", 1), /unknown "foo"/);
    assert.throws(() => derivatives("sin(x", 1), /expected "\)" at the end/);
  });

  test("preprocessing: a drawn bar becomes a centred 20-pixel-tall MNIST digit", () => {
    const w = 280;
    const gray = new Float32Array(w * w);
    for (let y = 30; y < 230; y++) for (let x = 40; x < 60; x++) gray[y * w + x] = 1; // a thick bar, off-centre
    const img = toMnist(gray, w, w)!;
    let mass = 0;
    let cx = 0;
    let cy = 0;
    let rows = 0;
    for (let y = 0; y < 28; y++) {
      let any = false;
      for (let x = 0; x < 28; x++) {
        const v = img[y * 28 + x]!;
        mass += v;
        cx += v * x;
        cy += v * y;
        if (v > 0.01) any = true;
      }
      if (any) rows++;
    }
    assert.equal(rows, 20, "the box is scaled to 20 pixels");
    assert.ok(Math.abs(cx / mass - 13.5) <= 0.5 && Math.abs(cy / mass - 13.5) <= 0.5, `centre of mass ${cx / mass}, ${cy / mass}`);
    assert.ok(Math.abs(mass - 20 * 2) < 0.01, `area-averaged: ink is conserved (${mass})`);
    assert.equal(toMnist(new Float32Array(w * w), w, w), null);
  });
});

describe("the playground in headless Chromium", { skip }, () => {
  let dir = "";
  let server: Server;
  let url = "";
  let browser: import("playwright-core").Browser;
  let page: import("playwright-core").Page;
  const problems: string[] = [];
  let downloaded = "";

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tg-playground-"));
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    await buildPlayground(join(dir, "site"), { quiet: true });
    ({ server, url } = await servePlayground(join(dir, "site"), 0));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ["--no-sandbox"] });
    const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 1500 } });
    page = await context.newPage();
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`${m.text()} (${m.location().url})`);
    });
    await page.goto(url);
    await page.waitForFunction(() => (globalThis as unknown as { playground: { ready: boolean } }).playground?.ready, undefined, { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    if (dir !== "") rmSync(dir, { recursive: true, force: true });
  });

  const state = () => page.evaluate(() => (globalThis as unknown as { playground: Record<string, unknown> }).playground) as Promise<Record<string, unknown>>;

  async function draw(digit: number): Promise<number[]> {
    await page.click("#clear");
    await page.locator("#pad").scrollIntoViewIfNeeded();
    const box = (await page.locator("#pad").boundingBox())!;
    const before = (await state()).predictions as number;
    for (const stroke of STROKES[digit]!) {
      const at = ([fx, fy]: [number, number]) => [box.x + fx * box.width, box.y + fy * box.height] as const;
      await page.mouse.move(...at(stroke[0]!));
      await page.mouse.down();
      for (const p of stroke.slice(1)) await page.mouse.move(...at(p), { steps: stroke.length > 4 ? 2 : 8 });
      await page.mouse.up();
    }
    await page.waitForFunction((n) => (globalThis as unknown as { playground: { predictions: number } }).playground.predictions > n, before);
    await page.waitForTimeout(150); // the last stroke's prediction
    return (await state()).lastProbs as number[];
  }

  test("the page is cross-origin isolated and says so", async () => {
    assert.equal(await page.evaluate(() => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated), true);
    const env = await page.textContent("#env");
    assert.match(env ?? "", /wasm backend on \d+ threads? \(cross-origin isolated\) · 7200 training, 800 validation, 2000 test digits/);
    // every control has an accessible name (a <label>, aria-label or its text) and can take keyboard focus
    const unnamed = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<{ id: string; labels?: { length: number } | null; tabIndex: number; textContent: string | null; getAttribute(a: string): string | null }> } }).document;
      return [...d.querySelectorAll("input, select, button, canvas#pad, #drop")]
        .filter((el) => !((el.labels?.length ?? 0) > 0 || el.getAttribute("aria-label") || (el.textContent ?? "").trim() !== "") || el.tabIndex < 0)
        .map((el) => el.id);
    });
    assert.deepEqual(unnamed, []);
    // the optimizers' paths, computed by tg.optim in the Worker at start
    await page.waitForFunction(() => (globalThis as unknown as Page).document.querySelector("#paths-legend")?.textContent?.includes("Adam"));
    const legend = (await page.textContent("#paths-legend")) ?? "";
    for (const name of ["SGD (lr 0.95)", "Momentum (lr 0.1)", "AdaGrad (lr 1.5)", "RMSProp (lr 0.1)", "Adam (lr 0.3)"]) assert.ok(legend.includes(name), legend);
    await page.screenshot({ path: join(SHOTS, "1-start.png"), fullPage: true });
    await page.locator("#paths-section").screenshot({ path: join(SHOTS, "1b-optimizer-paths.png") });
  });

  test("trains the MLP for one epoch to ≥ 90 % test accuracy, with live curves", async (t) => {
    // the CLI's mlp layers; one epoch of its Adam at 1e-3 reaches 89 %, SGD with momentum 91 %
    await page.selectOption("#optimizer", "momentum");
    await page.fill("#lr", "0.05");
    await page.fill("#batch", "32");
    await page.click("#train");
    await page.waitForFunction(() => (globalThis as unknown as Page).document.querySelector("#progress-text")?.textContent?.includes("samples/s"), undefined, { timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, "2-training.png") });
    await page.waitForSelector("#results:not([hidden])", { timeout: 120_000 });
    const test = (await state()).lastTest as { accuracy: number; confusion: number[][]; wrong: unknown[] };
    t.diagnostic(`test accuracy ${test.accuracy}; ${await page.textContent("#progress-text")}`);
    assert.ok(test.accuracy >= 0.9, `test accuracy ${test.accuracy}`);
    assert.equal(test.confusion.flat().reduce((a, b) => a + b, 0), 2000);
    assert.ok(test.wrong.length > 0);
    assert.match((await page.textContent("#test-acc")) ?? "", /^9\d\.\d\d %$/);
    assert.equal(await page.locator("#wrong canvas").count(), test.wrong.length);
    await page.screenshot({ path: join(SHOTS, "3-trained.png"), fullPage: true });
    // see inside: gradient sizes during training, the first layer's 28×28 weights, the autograd graph
    assert.ok(((await state()).gradPoints as number) >= 20);
    assert.equal(await page.locator("#weights canvas").count(), 32);
    assert.equal(await page.getAttribute("#weights canvas", "width"), "28");
    await page.click("#graph-box summary");
    assert.ok((await page.locator("#graph svg").count()) === 1, "the graph SVG is shown");
    assert.match((await page.innerHTML("#graph")) ?? "", /matmul|linear/i);
    await page.locator("#inside-section").screenshot({ path: join(SHOTS, "3b-inside.png") });
  });

  test("digits drawn as strokes are recognised", async () => {
    for (const d of [0, 1, 7]) {
      const probs = await draw(d);
      const best = probs.indexOf(Math.max(...probs));
      await page.locator("#draw-section").screenshot({ path: join(SHOTS, `4-draw-${d}.png`) });
      assert.equal(best, d, `drew a ${d}, the model says ${best} (${probs.map((p) => p.toFixed(2)).join(" ")})`);
      assert.match((await page.textContent("#prediction")) ?? "", new RegExp(`looks like a ${d}`));
      assert.equal(await page.getAttribute("#activations canvas", "aria-label"), "128 hidden units");
    }
  });

  test("gradient descent on x²: too small, good, overshooting, diverging", async () => {
    for (const [lr, says] of [
      ["0.01", "too small"],
      ["0.1", "good"],
      ["0.9", "too large: it overshoots"],
      ["1.05", "diverging"],
    ] as const) {
      await page.fill("#descent-lr", lr);
      assert.match((await page.textContent("#descent-out")) ?? "", new RegExp(`^f\\(x\\) = x², η = ${lr.replace(/0+$/, "")}\\d*: ${says}`));
      if (lr === "0.9") await page.locator("#descent-section").screenshot({ path: join(SHOTS, "4b-descent.png") });
    }
    await page.selectOption("#descent-fn", "squareExp");
    await page.fill("#descent-lr", "0.2");
    assert.match((await page.textContent("#descent-out")) ?? "", /x² \+ e\^\(−x\), η = 0\.20: good .*minimum at 0\.3517/);
  });

  test("the derivative demo in the page, and its message for a typo", async () => {
    await page.waitForFunction(() => (globalThis as unknown as Page).document.querySelector("#derive-out")?.textContent?.includes("autograd"));
    assert.match((await page.textContent("#derive-out")) ?? "", /autograd: +f′\(x\) = 1\.632120558/);
    await page.fill("#derive-expr", "sin(x) * ");
    await page.waitForFunction(() => (globalThis as unknown as Page).document.querySelector("#derive-out")?.textContent?.includes("ends too early"));
    await page.fill("#derive-expr", "tanh(x)");
    await page.fill("#derive-x", "0");
    await page.waitForFunction(() => /f′\(x\) = 1\.00000000000/.test((globalThis as unknown as Page).document.querySelector("#derive-out")?.textContent ?? ""));
    await page.locator("#derive-section").screenshot({ path: join(SHOTS, "4c-derivative.png") });
  });

  test("downloads model.safetensors, which tg.load and tensorgrad predict read", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download")]);
    assert.equal(download.suggestedFilename(), "model.safetensors");
    downloaded = join(dir, "model.safetensors");
    await download.saveAs(downloaded);
    const dict = await tg.load(downloaded);
    assert.deepEqual(dict["0.weight"]?.shape, [128, 784]);
    assert.deepEqual(dict["2.weight"]?.shape, [10, 128]);
    // the default settings are `tensorgrad train --model mlp`'s layers, so the CLI loads the file
    const logs: string[] = [];
    const log = console.log;
    console.log = (s: string) => logs.push(s);
    try {
      const { x } = await tg.datasets.mnist({ split: "test" });
      const { writeFileSync } = await import("node:fs");
      const idx = new Uint8Array(16 + 784);
      idx.set([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]);
      x.narrow(0, 0, 1).dataSync().forEach((v, i) => {
        idx[16 + i] = Math.round(v * 255);
      });
      writeFileSync(join(dir, "zero-idx3-ubyte"), idx);
      assert.equal(await main(["predict", "--model", downloaded, "--json", join(dir, "zero-idx3-ubyte")]), 0);
    } finally {
      console.log = log;
    }
    assert.equal(JSON.parse(logs[0]!).predicted, 0, logs.join("\n"));
  });

  async function dropFile(name: string, bytes: Uint8Array): Promise<void> {
    const b64 = Buffer.from(bytes).toString("base64");
    await page.evaluate(
      ([n, data]) => {
        const w = globalThis as unknown as Page;
        const raw = Uint8Array.from(atob(data!), (c) => c.charCodeAt(0));
        const dt = new w.DataTransfer();
        dt.items.add(new File([raw], n!));
        w.document.querySelector("#drop")!.dispatchEvent(new w.DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      [name, b64],
    );
  }

  test("drops a model written by tensorgrad train, then re-loads the downloaded one", async () => {
    const out = join(dir, "run");
    assert.equal(await main(["train", "--model", "mlp", "--epochs", "1", "--quiet", "--out", out]), 0);
    const loads = (await state()).loads as number;
    await dropFile("model.safetensors", readFileSync(join(out, "model.safetensors")));
    await page.waitForFunction((n) => (globalThis as unknown as { playground: { loads: number } }).playground.loads > n, loads);
    assert.match((await page.textContent("#model-msg")) ?? "", /Loaded model\.safetensors: multi-layer perceptron.*tensorgrad train --model mlp.*Test accuracy \d\d\.\d\d %/);
    assert.equal((await draw(1)).indexOf(Math.max(...((await state()).lastProbs as number[]))), 1);
    // the page's own download, through the file input
    await page.setInputFiles("#file", downloaded);
    await page.waitForFunction((n) => (globalThis as unknown as { playground: { loads: number } }).playground.loads > n + 1, loads);
    assert.ok(((await state()).lastTest as { accuracy: number }).accuracy >= 0.9);
    await page.locator("#file-section").screenshot({ path: join(SHOTS, "5-loaded.png") });
  });

  test("a corrupt file gets a clear message and the page keeps working", async () => {
    const errors = (await state()).errors as number;
    await dropFile("broken.safetensors", new TextEncoder().encode("this is not a model at all"));
    await page.waitForFunction((n) => (globalThis as unknown as { playground: { errors: number } }).playground.errors > n, errors);
    const msg = (await page.textContent("#model-msg")) ?? "";
    assert.match(msg, /Could not load that file: safetensors file "broken\.safetensors": /);
    assert.equal(await page.getAttribute("#model-msg", "class"), "error");
    await page.locator("#file-section").screenshot({ path: join(SHOTS, "6-corrupt.png") });
    // a valid safetensors file that is not a model
    const other = tg.io.serialize({ w: tg.ones([3]) });
    await dropFile("weights.safetensors", other);
    await page.waitForFunction((n) => (globalThis as unknown as { playground: { errors: number } }).playground.errors > n + 1, errors);
    assert.match((await page.textContent("#model-msg")) ?? "", /weights\.safetensors holds 1 tensors but was not written by tensorgrad train/);
    // still works: the previous model answers the pad
    const probs = await draw(7);
    assert.equal(probs.indexOf(Math.max(...probs)), 7);
  });

  test("the CNN trains in the Worker; Pause holds it, Resume goes on, Stop ends it with test results", async () => {
    const text = async () => (await page.textContent("#progress-text")) ?? "";
    const batch = async () => Number(/batch (\d+)\//.exec(await text())?.[1] ?? Number.NaN);
    await page.selectOption("#arch", "cnn");
    await page.selectOption("#optimizer", "adam");
    await page.fill("#lr", "0.001");
    await page.fill("#batch", "64");
    await page.fill("#epochs", "2");
    await page.click("#train");
    await page.waitForFunction(() => /batch \d+\/113/.test((globalThis as unknown as Page).document.querySelector("#progress-text")?.textContent ?? ""), undefined, { timeout: 60_000 });
    await page.click("#pause");
    await page.waitForFunction(() => (globalThis as unknown as Page).document.querySelector("#progress-text")?.textContent?.startsWith("paused"));
    const held = await batch();
    await page.waitForTimeout(600);
    assert.equal(await batch(), held, "no batches run while paused");
    assert.equal(await page.textContent("#pause"), "Resume");
    await page.screenshot({ path: join(SHOTS, "7-cnn-paused.png") });
    await page.click("#pause");
    await page.waitForFunction((b) => Number(/batch (\d+)\//.exec((globalThis as unknown as Page).document.querySelector("#progress-text")?.textContent ?? "")?.[1]) > b, held);
    await page.click("#stop");
    await page.waitForFunction(() => (globalThis as unknown as Page).document.querySelector("#progress-text")?.textContent?.startsWith("stopped"), undefined, { timeout: 60_000 });
    assert.match((await page.textContent("#test-detail")) ?? "", /CNN conv3×3\(8\) ReLU pool2 → conv3×3\(16\) ReLU pool2 → dense 64/);
    assert.ok(((await state()).lastTest as { accuracy: number }).accuracy > 0.2, "a few CNN batches already learn something");
    await draw(7);
    assert.equal(await page.locator("#activations canvas").count(), 8, "the first conv layer's 8 feature maps");
    await page.locator("#draw-section").screenshot({ path: join(SHOTS, "7b-cnn-draw.png") });
    assert.equal(await page.isEnabled("#train"), true);
  });

  test("see inside: with sigmoid the first layers' gradients vanish, with ReLU they do not", async (t) => {
    const ratio = async (activation: string) => {
      await page.selectOption("#arch", "mlp");
      await page.fill("#hidden", "128, 128, 128, 128");
      await page.selectOption("#activation", activation);
      await page.selectOption("#optimizer", "sgd");
      await page.fill("#lr", "0.1");
      await page.fill("#epochs", "1");
      await page.click("#train");
      await page.waitForFunction(() => ((globalThis as unknown as { playground: { gradPoints: number } }).playground.gradPoints ?? 0) > 0 && /batch ([4-9]\d|1\d\d)\//.test((globalThis as unknown as Page).document.querySelector("#progress-text")?.textContent ?? ""), undefined, { timeout: 60_000 });
      const g = (await state()).lastGrads as number[];
      await page.locator("#inside-section figure").screenshot({ path: join(SHOTS, `9-gradients-${activation}.png`) });
      await page.click("#stop");
      await page.waitForSelector("#results:not([hidden])", { timeout: 60_000 });
      return g[0]! / g.at(-2)!; // first hidden layer vs last hidden layer
    };
    const sigmoid = await ratio("sigmoid");
    const relu = await ratio("relu");
    t.diagnostic(`RMS grad W1 / W4 after 40+ SGD batches: sigmoid ${sigmoid.toFixed(3)}, ReLU ${relu.toFixed(3)}`);
    assert.ok(sigmoid < 0.2, `sigmoid: RMS grad of W1 / W4 = ${sigmoid}`);
    assert.ok(relu > 3 * sigmoid, `relu ${relu} vs sigmoid ${sigmoid}`);
    await page.fill("#hidden", "128");
  });

  test("not cross-origin isolated: one thread, says so, still trains; drawing by touch", async () => {
    // the same folder from a plain static server (no COOP/COEP headers)
    const { createServer } = await import("node:http");
    const site = join(dir, "site");
    const plain = createServer((req, res) => {
      const file = join(site, new URL(req.url ?? "/", "http://x").pathname.slice(1) || "index.html");
      if (!file.startsWith(site) || !existsSync(file)) return void res.writeHead(404).end();
      const type = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm" }[file.slice(file.lastIndexOf("."))];
      res.writeHead(200, type ? { "content-type": type } : {}).end(readFileSync(file));
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    const context = await browser.newContext({ hasTouch: true, viewport: { width: 1100, height: 1500 } });
    const p2 = await context.newPage();
    p2.on("pageerror", (e) => problems.push(`(not isolated) ${e.message}`));
    p2.on("console", (m) => {
      if (m.type() === "error") problems.push(`(not isolated) ${m.text()} (${m.location().url})`);
    });
    try {
      await p2.goto(`http://127.0.0.1:${(plain.address() as { port: number }).port}/`);
      await p2.waitForFunction(() => (globalThis as unknown as { playground: { ready: boolean } }).playground?.ready, undefined, { timeout: 60_000 });
      assert.match((await p2.textContent("#env")) ?? "", /^wasm backend on one thread: this page is not cross-origin isolated/);
      await p2.click("#train");
      await p2.waitForSelector("#results:not([hidden])", { timeout: 120_000 });
      assert.ok(((await p2.evaluate(() => (globalThis as unknown as { playground: { lastTest: { accuracy: number } } }).playground.lastTest)).accuracy) > 0.85);
      // a "1" drawn with a finger (touch events → pointer events)
      await p2.locator("#pad").scrollIntoViewIfNeeded();
      const box = (await p2.locator("#pad").boundingBox())!;
      const cdp = await context.newCDPSession(p2);
      const point = (fy: number) => [{ x: box.x + 0.5 * box.width, y: box.y + fy * box.height }];
      await cdp.send("Input.dispatchTouchEvent", { type: "touchStart", touchPoints: point(0.16) });
      for (let i = 1; i <= 12; i++) await cdp.send("Input.dispatchTouchEvent", { type: "touchMove", touchPoints: point(0.16 + (0.68 * i) / 12) });
      await cdp.send("Input.dispatchTouchEvent", { type: "touchEnd", touchPoints: [] });
      await p2.waitForTimeout(300);
      await p2.screenshot({ path: join(SHOTS, "8-not-isolated-touch.png") });
      assert.match((await p2.textContent("#prediction")) ?? "", /looks like a 1/);
    } finally {
      await context.close();
      plain.close();
    }
  });

  test("tensorgrad playground --help and a bad --port", async () => {
    const logs: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = console.error = (s: string) => logs.push(s);
    try {
      assert.equal(await main(["playground", "--help"]), 0);
      assert.match(logs.join("\n"), /usage: tensorgrad playground \[--port N\] \[--open\]/);
      assert.equal(await main(["playground", "--port", "http"]), 2);
      assert.match(logs.join("\n"), /--port must be an integer ≥ 0/);
    } finally {
      [console.log, console.error] = [log, error];
    }
  });

  test("no errors in the page's console", () => {
    assert.deepEqual(problems, []);
  });
});
