/**
 * @file The playground page: the settings form, live curves and results of training (which runs in
 * worker.ts), the drawing pad with its 28×28 preview and probabilities, and the model file's
 * download and drag-and-drop load. Only DOM work happens here; tensorgrad lives in the Worker.
 */
import { LineChart } from "./chart.ts";
import { setupDescent } from "./descent.ts";
import { DrawingPad } from "./draw.ts";
import { toMnist } from "./preprocess.ts";
import type { FromWorker, TestResult, ToWorker, TrainConfig } from "./protocol.ts";

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
const send = (m: ToWorker, transfer: Transferable[] = []) => worker.postMessage(m, transfer);

const lossChart = new LineChart($<HTMLCanvasElement>("loss-chart"), { format: (v) => v.toFixed(2) });
const accChart = new LineChart($<HTMLCanvasElement>("acc-chart"), { yMin: 0.8, yMax: 1, format: (v) => `${(100 * v).toFixed(0)}%` });
const gradChart = new LineChart($<HTMLCanvasElement>("grad-chart"), { format: (v) => `1e${v.toFixed(1)}`, names: [] });
gradChart.draw();
lossChart.draw();
accChart.draw();

let ready = false;
let training = false;
let paused = false;
let hasModel = false;

/** Where the page stands, for tests and curious users (window.playground). */
const state = { ready: false, training: false, lastTest: null as TestResult | null, lastProbs: null as number[] | null, predictions: 0, loads: 0, errors: 0, gradPoints: 0, lastGrads: null as number[] | null };
(window as unknown as { playground: typeof state }).playground = state;

function setButtons(): void {
  $<HTMLButtonElement>("train").disabled = !ready || training;
  $<HTMLButtonElement>("pause").disabled = !training;
  $<HTMLButtonElement>("stop").disabled = !training;
  $<HTMLButtonElement>("pause").textContent = paused ? "Resume" : "Pause";
  $<HTMLButtonElement>("download").disabled = !hasModel || training;
  state.training = training;
}

// ---- the form

const sizes = (s: string) =>
  s
    .split(",")
    .map((v) => Number.parseInt(v.trim(), 10))
    .filter((n) => n > 0);

function readConfig(): TrainConfig {
  const v = (id: string) => $<HTMLInputElement>(id).value;
  const num = (id: string, fallback: number) => {
    const n = Number(v(id));
    return Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    arch: v("arch") === "cnn" ? "cnn" : "mlp",
    hidden: sizes(v("hidden")).length ? sizes(v("hidden")) : [128],
    filters: sizes(v("filters")).length ? sizes(v("filters")).slice(0, 4) : [8, 16],
    dense: Math.round(num("dense", 64)),
    optimizer: v("optimizer") as TrainConfig["optimizer"],
    lr: num("lr", 0.001),
    batchSize: Math.round(num("batch", 64)),
    epochs: Math.round(num("epochs", 1)),
    init: v("init") === "he" ? "he" : "xavier",
    activation: (["relu", "sigmoid", "tanh"].includes(v("activation")) ? v("activation") : "relu") as TrainConfig["activation"],
    batchNorm: $<HTMLInputElement>("batchnorm").checked,
    dropout: $<HTMLInputElement>("dropout-on").checked ? Math.min(0.9, num("dropout", 0.2)) : 0,
    seed: Math.max(0, Math.round(Number(v("seed")) || 0)),
  };
}

function showArch(): void {
  const cnn = $<HTMLSelectElement>("arch").value === "cnn";
  for (const el of document.querySelectorAll<HTMLElement>(".mlp-only")) el.classList.toggle("hide", cnn);
  for (const el of document.querySelectorAll<HTMLElement>(".cnn-only")) el.classList.toggle("hide", !cnn);
}
$("arch").addEventListener("change", showArch);
showArch();
const dropoutRate = () => {
  $<HTMLInputElement>("dropout").disabled = !$<HTMLInputElement>("dropout-on").checked;
};
$("dropout-on").addEventListener("change", dropoutRate);
dropoutRate();

$("config").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!ready || training) return;
  const config = readConfig();
  training = true;
  paused = false;
  $("results").hidden = true;
  lossChart.clear(config.epochs);
  accChart.clear(config.epochs);
  gradChart.setSeries([]);
  $("weights").replaceChildren();
  $("graph").replaceChildren();
  gradChart.clear(config.epochs);
  $<HTMLProgressElement>("progress").value = 0;
  $("progress-text").textContent = "starting…";
  setButtons();
  send({ type: "train", config });
});
$("pause").addEventListener("click", () => {
  paused = !paused;
  send({ type: paused ? "pause" : "resume" });
  setButtons();
});
$("stop").addEventListener("click", () => {
  paused = false;
  send({ type: "stop" });
  $("progress-text").textContent = "stopping after this batch…";
});

// ---- results

function digitCanvas(pixels: ArrayLike<number>, scale: number): HTMLCanvasElement {
  const cv = document.createElement("canvas");
  cv.width = 28;
  cv.height = 28;
  const img = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(pixels[i]! * scale);
    img.data.set([v, v, v, 255], 4 * i);
  }
  cv.getContext("2d")!.putImageData(img, 0, 0);
  return cv;
}

function showTest(t: TestResult, detail: string): void {
  state.lastTest = t;
  $("results").hidden = false;
  $("test-acc").textContent = `${(100 * t.accuracy).toFixed(2)} %`;
  $("test-detail").textContent = `(loss ${t.loss.toFixed(4)} on 2 000 test digits; ${detail})`;
  const table = $<HTMLTableElement>("confusion");
  table.replaceChildren();
  const head = table.insertRow();
  head.appendChild(document.createElement("th"));
  for (let c = 0; c < 10; c++) head.appendChild(Object.assign(document.createElement("th"), { textContent: String(c), scope: "col" }));
  const max = Math.max(...t.confusion.flat());
  const maxOff = Math.max(1, ...t.confusion.flatMap((row, r) => row.filter((_, c) => c !== r)));
  t.confusion.forEach((row, r) => {
    const tr = table.insertRow();
    tr.appendChild(Object.assign(document.createElement("th"), { textContent: String(r), scope: "row" }));
    row.forEach((n, c) => {
      const td = tr.insertCell();
      td.textContent = n === 0 ? "" : String(n);
      const a = n === 0 ? 0 : r === c ? 0.15 + 0.85 * Math.sqrt(n / max) : 0.1 + 0.6 * Math.sqrt(n / maxOff);
      td.style.background = r === c ? `rgba(37, 99, 235, ${a})` : `rgba(220, 38, 38, ${a})`;
      if (a > 0.55) td.style.color = "white";
    });
  });
  $("wrong").replaceChildren(
    ...t.wrong.map((w) => {
      const f = document.createElement("figure");
      const cv = digitCanvas(w.pixels, 1);
      cv.setAttribute("role", "img");
      cv.setAttribute("aria-label", `a ${w.label} predicted as ${w.predicted}`);
      f.append(cv, Object.assign(document.createElement("figcaption"), { textContent: `${w.label} → ${w.predicted}` }));
      return f;
    }),
  );
}

/** The first layer's weights as images: an MLP's rows as 28×28, a conv's kernels as k×k (blue +, red −). */
function showWeights(shape: number[], data: Float32Array): void {
  const [n, ...rest] = shape as [number, ...number[]];
  const per = rest.reduce((a, b) => a * b, 1);
  const side = per === 784 ? 28 : (rest.at(-1) ?? 1);
  const h = per === 784 ? 28 : (rest.at(-2) ?? 1);
  const tiles: HTMLCanvasElement[] = [];
  for (let k = 0; k < Math.min(n, 32); k++) {
    const w = data.subarray(k * per, k * per + side * h); // a conv's first input channel
    const max = Math.max(1e-8, ...Array.from(w, Math.abs));
    const cv = document.createElement("canvas");
    cv.width = side;
    cv.height = h;
    const img = new ImageData(side, h);
    w.forEach((v, i) => {
      const a = Math.round(255 * Math.min(1, Math.abs(v) / max));
      img.data.set(v >= 0 ? [255 - a, 255 - a * 0.6, 255, 255] : [255, 255 - a * 0.8, 255 - a * 0.8, 255], 4 * i);
    });
    cv.getContext("2d")!.putImageData(img, 0, 0);
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", `weights of unit ${k + 1}`);
    tiles.push(cv);
  }
  $("weights").replaceChildren(...tiles);
}

// ---- drawing

const preview = $<HTMLCanvasElement>("preview");
const probs = $("probs");
const bars: HTMLDivElement[] = [];
const pct: HTMLSpanElement[] = [];
for (let d = 0; d < 10; d++) {
  const bar = Object.assign(document.createElement("div"), { className: "bar" });
  bar.setAttribute("role", "listitem");
  bar.setAttribute("aria-label", `digit ${d}`);
  bar.appendChild(document.createElement("div"));
  bars.push(bar);
  pct.push(document.createElement("span"));
  probs.append(Object.assign(document.createElement("span"), { textContent: String(d) }), bar, pct[d]!);
}

let pending = false;
let predictId = 0;
let current: Float32Array | null = null;
const pad = new DrawingPad($<HTMLCanvasElement>("pad"), () => {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    current = toMnist(pad.ink(), pad.canvas.width, pad.canvas.height);
    preview.getContext("2d")!.drawImage(digitCanvas(current ?? new Float32Array(784), 255), 0, 0);
    predict();
  });
});
$("clear").addEventListener("click", () => pad.clear());

function predict(): void {
  if (current === null) {
    showProbs(null);
    showActivations(null);
    return;
  }
  if (hasModel) send({ type: "predict", id: ++predictId, pixels: current });
  else $("prediction").textContent = "train or load a model, then draw";
}

/** A hidden layer's activations: an MLP's units as a grid of cells, a CNN's feature maps side by side. */
function showActivations(a: { shape: number[]; data: number[] } | null): void {
  const box = $("activations");
  if (a === null) {
    box.replaceChildren();
    return;
  }
  const maps = a.shape.length === 3 ? a.shape[0]! : 1;
  const [h, w] = a.shape.length === 3 ? [a.shape[1]!, a.shape[2]!] : [Math.ceil(a.data.length / 16), 16];
  const max = Math.max(1e-6, ...a.data.map(Math.abs));
  const canvases: HTMLCanvasElement[] = [];
  for (let k = 0; k < maps; k++) {
    const cv = document.createElement("canvas");
    cv.width = w;
    cv.height = h;
    cv.style.width = `${w * (a.shape.length === 3 ? 3 : 12)}px`;
    const img = new ImageData(w, h);
    for (let i = 0; i < w * h; i++) {
      const v = a.data[k * w * h + i];
      const g = v === undefined ? 0 : Math.round((255 * Math.abs(v)) / max);
      img.data.set([g, g, v !== undefined && v < 0 ? 0 : g, 255], 4 * i);
    }
    cv.getContext("2d")!.putImageData(img, 0, 0);
    cv.setAttribute("role", "img");
    cv.setAttribute("aria-label", a.shape.length === 3 ? `feature map ${k + 1}` : `${a.data.length} hidden units`);
    canvases.push(cv);
  }
  box.replaceChildren(...canvases);
}

function showProbs(p: number[] | null): void {
  state.lastProbs = p;
  const best = p === null ? -1 : p.indexOf(Math.max(...p));
  for (let d = 0; d < 10; d++) {
    (bars[d]!.firstChild as HTMLDivElement).style.width = `${p === null ? 0 : 100 * p[d]!}%`;
    bars[d]!.classList.toggle("top", d === best);
    pct[d]!.textContent = p === null ? "" : `${(100 * p[d]!).toFixed(1)}%`;
  }
  if (p === null) $("prediction").textContent = hasModel ? "draw a digit" : "train or load a model, then draw";
  else {
    $("prediction").textContent = `it looks like a ${best} (${(100 * p[best]!).toFixed(1)} %)`;
    state.predictions++;
  }
}

setupDescent($<HTMLCanvasElement>("descent"), $<HTMLSelectElement>("descent-fn"), $<HTMLInputElement>("descent-lr"), $("descent-out"));

// ---- automatic vs numerical derivative (autograd in the Worker)

let deriveId = 0;
const derive = () => send({ type: "derive", id: ++deriveId, expr: $<HTMLInputElement>("derive-expr").value, x: Number($<HTMLInputElement>("derive-x").value) });
$("derive-expr").addEventListener("input", derive);
$("derive-x").addEventListener("input", derive);

// ---- the optimizers' paths (computed by tg.optim in the Worker)

const PATH_COLORS = ["#dc2626", "#2563eb", "#16a34a", "#9333ea", "#ea580c"];
function showPaths(paths: { name: string; lr: number; points: [number, number][] }[]): void {
  const cv = $<HTMLCanvasElement>("paths");
  const c = cv.getContext("2d")!;
  const { width: W, height: H } = cv;
  const X = (x: number) => ((x + 10) / 20) * W;
  const Y = (y: number) => H / 2 - (y / 5) * (H / 2);
  c.clearRect(0, 0, W, H);
  c.strokeStyle = "#d1d5db";
  c.lineWidth = 1;
  for (const level of [0.25, 0.5, 1, 2, 4, 8, 16]) {
    // x²/20 + y² = level: an ellipse with semi-axes √(20·level), √level
    c.beginPath();
    c.ellipse(X(0), Y(0), (Math.sqrt(20 * level) / 20) * W, (Math.sqrt(level) / 10) * H, 0, 0, 2 * Math.PI);
    c.stroke();
  }
  c.fillStyle = "#111827";
  c.fillRect(X(0) - 3, Y(0) - 3, 6, 6);
  paths.forEach((p, k) => {
    c.strokeStyle = c.fillStyle = PATH_COLORS[k % PATH_COLORS.length]!;
    c.lineWidth = 1.5;
    c.beginPath();
    p.points.forEach(([x, y], i) => {
      if (i === 0) c.moveTo(X(x), Y(y));
      else c.lineTo(X(x), Y(y));
    });
    c.stroke();
    for (const [x, y] of p.points) c.fillRect(X(x) - 1.5, Y(y) - 1.5, 3, 3);
  });
  $("paths-legend").replaceChildren(
    ...paths.map((p, k) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.style.background = PATH_COLORS[k % PATH_COLORS.length]!;
      const [x, y] = p.points.at(-1)!;
      li.append(sw, `${p.name} (lr ${p.lr}): f = ${(x * x / 20 + y * y).toExponential(2)} after ${p.points.length - 1} steps`);
      return li;
    }),
  );
}

// ---- the model file

const message = (text: string, kind: "ok" | "error" | "") => {
  const m = $("model-msg");
  m.textContent = text;
  m.className = kind;
  if (kind === "error") state.errors++;
};

$("download").addEventListener("click", () => send({ type: "save" }));

async function loadFile(f: File): Promise<void> {
  if (training) {
    message("Stop the training before loading a model.", "error");
    return;
  }
  if (f.size > 200 * 1024 * 1024) {
    message(`${f.name} is ${(f.size / 1024 / 1024).toFixed(0)} MB: too large for an MNIST model.`, "error");
    return;
  }
  message(`loading ${f.name}…`, "");
  const bytes = new Uint8Array(await f.arrayBuffer());
  send({ type: "load", name: f.name, bytes }, [bytes.buffer]);
}
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer?.files[0];
  if (f) loadFile(f);
});
drop.addEventListener("keydown", (e) => {
  if (e.key === "Enter" || e.key === " ") $("file").click();
});
$<HTMLInputElement>("file").addEventListener("change", (e) => {
  const input = e.target as HTMLInputElement;
  const f = input.files?.[0];
  if (f) loadFile(f);
  input.value = "";
});

// ---- the worker's messages

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case "ready": {
      ready = state.ready = true;
      send({ type: "paths" });
      derive();
      const env = $("env");
      env.textContent = m.isolated
        ? `${m.backend} backend on ${m.threads} thread${m.threads === 1 ? "" : "s"} (cross-origin isolated) · ${m.train} training, ${m.val} validation, ${m.test} test digits`
        : `${m.backend} backend on one thread: this page is not cross-origin isolated (serve it with COOP/COEP headers, as npm run playground does, for wasm threads) · ${m.train} training, ${m.val} validation, ${m.test} test digits`;
      env.classList.toggle("warn", !m.isolated);
      setButtons();
      break;
    }
    case "status":
      $("progress-text").textContent = m.text;
      break;
    case "progress": {
      const done = (m.epoch + m.batch / m.steps) / m.epochs;
      $<HTMLProgressElement>("progress").value = done;
      $("progress-text").textContent = `${m.paused ? "paused · " : ""}epoch ${m.epoch + 1}/${m.epochs}, batch ${m.batch}/${m.steps} · ${Math.round(m.samplesPerSec)} samples/s`;
      if (!hasModel) {
        hasModel = true;
        setButtons();
      }
      break;
    }
    case "point": {
      const s = m.series === "train" ? 0 : 1;
      lossChart.add(s, m.x, m.loss);
      accChart.add(s, m.x, m.accuracy);
      break;
    }
    case "paths":
      showPaths(m.paths);
      break;
    case "derivative":
    case "deriveError": {
      if (m.id !== deriveId) break;
      const out = $("derive-out");
      out.className = m.type === "deriveError" ? "error" : "";
      out.textContent =
        m.type === "deriveError"
          ? m.message
          : `f(x) = ${m.f.toPrecision(10)}\nautograd:              f′(x) = ${m.auto.toPrecision(12)}\ncentral differences:   f′(x) ≈ ${m.numeric.toPrecision(12)}   (difference ${Math.abs(m.auto - m.numeric).toExponential(1)})`;
      break;
    }
    case "layers":
      gradChart.setSeries(m.names);
      gradChart.draw();
      break;
    case "grads":
      m.norms.forEach((g, k) => {
        gradChart.add(k, m.x, Math.log10(g));
      });
      state.gradPoints++;
      state.lastGrads = m.norms;
      break;
    case "inside":
      showWeights(m.weights.shape, m.weights.data);
      $("graph").innerHTML = m.graph;
      break;
    case "done":
      training = false;
      paused = false;
      hasModel = true;
      $("progress-text").textContent = `${m.stopped ? "stopped" : "done"} in ${m.seconds.toFixed(1)} s`;
      showTest(m.test, m.description);
      setButtons();
      predict();
      break;
    case "loaded":
      hasModel = true;
      state.loads++;
      message(`Loaded ${m.name}: ${m.description}. Test accuracy ${(100 * m.test.accuracy).toFixed(2)} %.`, "ok");
      showTest(m.test, `loaded from ${m.name}`);
      setButtons();
      predict();
      break;
    case "probs":
      if (m.id === predictId) {
        showProbs(m.probs);
        showActivations(m.activations);
      }
      break;
    case "saved": {
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([m.bytes as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }));
      a.download = "model.safetensors";
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      message(`model.safetensors: ${(m.bytes.length / 1024).toFixed(0)} KiB (loads with tg.load, tensorgrad predict and PyTorch's safetensors)`, "ok");
      break;
    }
    case "error":
      if (m.where === "train") {
        training = false;
        paused = false;
        $("progress-text").textContent = `training failed: ${m.message}`;
        setButtons();
      } else if (m.where === "init") $("env").textContent = `the worker failed to start: ${m.message}`;
      else message(m.where === "load" ? `Could not load that file: ${m.message}` : m.message, "error");
      break;
  }
};
worker.onerror = (e) => {
  $("env").textContent = `the training worker failed: ${e.message}`;
};
setButtons();
