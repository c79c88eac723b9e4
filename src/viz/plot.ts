/**
 * @file Small charts as standalone SVG, no dependencies: line / scatter plots with axes, ticks and a
 * legend (linear or log scales), histograms, grids of grayscale images, and panels side by side.
 * The lectures' `plt.plot(losses)`, in a form that also runs in a browser.
 */
import type { Tensor } from "../tensor/tensor.ts";
import { px, xml } from "./xml.ts";

/** One curve or point cloud. `x` defaults to 0, 1, 2, …; non-finite points break the line. */
export interface Series {
  x?: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Shown in the legend; series without a label are left out of it. */
  label?: string;
  /** Any SVG colour; by default the next of matplotlib's ten ("tab10"). */
  color?: string;
  /** "line" (default), "markers" (a scatter plot) or "lines+markers". */
  mode?: "line" | "markers" | "lines+markers";
  dashed?: boolean;
  /** Stroke width in px (default 1.8); marker radius is 1.5 × this. */
  width?: number;
  opacity?: number;
}

export type Scale = "linear" | "log";
export type LegendPosition =
  | "auto"
  | "top-right"
  | "top-left"
  | "bottom-right"
  | "bottom-left"
  | "center-right"
  | "center-left"
  | "top-center"
  | "bottom-center"
  | "none";

export interface PlotOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Size of the whole picture in px (default 560 × 360). */
  width?: number;
  height?: number;
  xScale?: Scale;
  yScale?: Scale;
  /** Axis ranges; by default the data's, with a little margin on linear axes. */
  xLim?: readonly [number, number];
  yLim?: readonly [number, number];
  /** Where the legend goes; "auto" (default) picks the place that hides the least of the data. */
  legend?: LegendPosition;
  /** Tick values to use instead of the automatic ones (e.g. whole numbers for layers or epochs). */
  xTicks?: readonly number[];
  yTicks?: readonly number[];
  /** Light grid lines at the ticks (default true). */
  grid?: boolean;
}

export interface HistogramSeries {
  values: ArrayLike<number>;
  label?: string;
  color?: string;
}

export interface HistogramOptions extends PlotOptions {
  /** Number of equal-width bins (default 30). */
  bins?: number;
  /** The binned interval; values outside it are not counted. Default: the data's range. */
  range?: readonly [number, number];
  /** Plot densities (area 1) instead of counts. */
  density?: boolean;
}

/** matplotlib's "tab10" colours, the ones the lectures' figures use. */
export const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

const FONT = "DejaVu Sans, Verdana, Arial, sans-serif";
const MARGIN = { left: 62, right: 16, top: 30, bottom: 46 };

/** Approximate width of a label in px (wide East Asian characters count twice). */
function textWidth(s: string, size: number): number {
  let cols = 0;
  for (const ch of s) cols += ch.codePointAt(0)! >= 0x1100 ? 1.9 : 1;
  return cols * size * 0.6;
}

/** A short tick label: 0.001 → "0.001", 1e-5 → "1e-5", 25000 → "25000", 1.5e6 → "1.5e6". */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) return String(Number(v.toPrecision(6)));
  const [m, e] = v.toExponential(6).split("e") as [string, string];
  return `${Number(m)}e${Number(e)}`;
}

/** About `count` round tick values (1, 2, 2.5 or 5 × 10^k steps) covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 7): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Powers of ten inside [lo, hi] (thinned to at most ~8); over a short span, 1-2-5 (or 1…9) × 10^k, or plain linear ticks. */
function logTicks(lo: number, hi: number): number[] {
  const a = Math.ceil(Math.log10(lo) - 1e-9);
  const b = Math.floor(Math.log10(hi) + 1e-9);
  if (b - a >= 2) {
    const every = Math.ceil((b - a + 1) / 8);
    const ticks: number[] = [];
    for (let k = a; k <= b; k += every) ticks.push(10 ** k);
    return ticks;
  }
  const within = (mantissas: number[]) => {
    const ticks: number[] = [];
    for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++)
      for (const m of mantissas) {
        const v = Number((m * 10 ** k).toPrecision(12));
        if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) ticks.push(v);
      }
    return ticks;
  };
  const coarse = within([1, 2, 5]);
  if (coarse.length >= 3) return coarse;
  const fine = within([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  return fine.length >= 3 ? fine : niceTicks(lo, hi, 5);
}

interface Axis {
  lo: number;
  hi: number;
  log: boolean;
  ticks: number[];
}

/** The range shown on an axis: the given limits, or the finite (positive, for log) data plus 4 % margin. */
function makeAxis(values: number[], scale: Scale | undefined, lim: readonly [number, number] | undefined, ticks?: readonly number[]): Axis {
  const log = scale === "log";
  let lo: number;
  let hi: number;
  if (lim) [lo, hi] = lim;
  else {
    const ok = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
    lo = ok.length ? Math.min(...ok) : log ? 1 : 0;
    hi = ok.length ? Math.max(...ok) : log ? 10 : 1;
    if (log) {
      if (hi === lo) [lo, hi] = [lo / 2, hi * 2];
      const pad = (Math.log10(hi) - Math.log10(lo)) * 0.04;
      [lo, hi] = [lo / 10 ** pad, hi * 10 ** pad];
    } else {
      if (hi === lo) [lo, hi] = lo === 0 ? [-1, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2];
      const pad = (hi - lo) * 0.04;
      [lo, hi] = [lo - pad, hi + pad];
    }
  }
  if (!(hi > lo)) throw new RangeError(`plot: an axis range must have lo < hi, got [${lo}, ${hi}]`);
  if (log && lo <= 0) throw new RangeError(`plot: a log axis needs a positive range, got [${lo}, ${hi}]`);
  return { lo, hi, log, ticks: ticks ? [...ticks] : log ? logTicks(lo, hi) : niceTicks(lo, hi) };
}

/** Maps a value to a pixel between p0 (at lo) and p1 (at hi); NaN for values a log axis cannot show. */
function mapper(axis: Axis, p0: number, p1: number): (v: number) => number {
  const f = axis.log ? (v: number) => (v > 0 ? Math.log10(v) : Number.NaN) : (v: number) => v;
  const a = f(axis.lo);
  const b = f(axis.hi);
  return (v) => p0 + ((f(v) - a) / (b - a)) * (p1 - p0);
}

interface Frame {
  width: number;
  height: number;
  /** The plot area in px. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
  sx: (v: number) => number;
  sy: (v: number) => number;
  clipId: string;
}

/** The outer <svg>, background, title, grid, axes, ticks and axis labels; returns the frame and the markup. */
function axes(xAxis: Axis, yAxis: Axis, opts: PlotOptions): { frame: Frame; head: string[]; tail: string[] } {
  const width = opts.width ?? 560;
  const height = opts.height ?? 360;
  const yTickLabels = yAxis.ticks.map(formatTick);
  const left = Math.max(MARGIN.left, 22 + Math.max(0, ...yTickLabels.map((t) => textWidth(t, 11))) + (opts.yLabel ? 18 : 0));
  const top = opts.title ? MARGIN.top : 14;
  const bottom = opts.xLabel ? MARGIN.bottom : 30;
  const f: Frame = {
    width,
    height,
    x0: left,
    x1: width - MARGIN.right,
    y0: height - bottom,
    y1: top,
    sx: () => 0,
    sy: () => 0,
    clipId: "",
  };
  // named by its geometry: deterministic, and panels that share a name share the same rectangle
  f.clipId = `plot-area-${[f.x0, f.y1, f.x1, f.y0].map((v) => Math.round(v)).join("-")}`;
  f.sx = mapper(xAxis, f.x0, f.x1);
  f.sy = mapper(yAxis, f.y0, f.y1);
  const head = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<defs><clipPath id="${f.clipId}"><rect x="${px(f.x0)}" y="${px(f.y1)}" width="${px(f.x1 - f.x0)}" height="${px(f.y0 - f.y1)}"/></clipPath></defs>`,
  ];
  if (opts.title) head.push(`<text x="${px((f.x0 + f.x1) / 2)}" y="19" text-anchor="middle" font-size="13" font-weight="bold">${xml(opts.title)}</text>`);
  const grid = opts.grid ?? true;
  const marks: string[] = [];
  for (const [i, t] of xAxis.ticks.entries()) {
    const x = f.sx(t);
    if (!(x >= f.x0 - 0.5 && x <= f.x1 + 0.5)) continue;
    if (grid) head.push(`<line x1="${px(x)}" y1="${px(f.y1)}" x2="${px(x)}" y2="${px(f.y0)}" stroke="#e6e6e6"/>`);
    marks.push(`<line x1="${px(x)}" y1="${px(f.y0)}" x2="${px(x)}" y2="${px(f.y0 + 4)}" stroke="#333"/>`);
    marks.push(`<text x="${px(x)}" y="${px(f.y0 + 16)}" text-anchor="middle">${xml(formatTick(xAxis.ticks[i]!))}</text>`);
  }
  for (const [i, t] of yAxis.ticks.entries()) {
    const y = f.sy(t);
    if (!(y <= f.y0 + 0.5 && y >= f.y1 - 0.5)) continue;
    if (grid) head.push(`<line x1="${px(f.x0)}" y1="${px(y)}" x2="${px(f.x1)}" y2="${px(y)}" stroke="#e6e6e6"/>`);
    marks.push(`<line x1="${px(f.x0 - 4)}" y1="${px(y)}" x2="${px(f.x0)}" y2="${px(y)}" stroke="#333"/>`);
    marks.push(`<text x="${px(f.x0 - 7)}" y="${px(y + 4)}" text-anchor="end">${xml(yTickLabels[i]!)}</text>`);
  }
  const tail = [
    `<rect x="${px(f.x0)}" y="${px(f.y1)}" width="${px(f.x1 - f.x0)}" height="${px(f.y0 - f.y1)}" fill="none" stroke="#333"/>`,
    ...marks,
  ];
  if (opts.xLabel) tail.push(`<text x="${px((f.x0 + f.x1) / 2)}" y="${px(height - 10)}" text-anchor="middle" font-size="12">${xml(opts.xLabel)}</text>`);
  if (opts.yLabel) {
    const cy = (f.y0 + f.y1) / 2;
    tail.push(`<text x="14" y="${px(cy)}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${px(cy)})">${xml(opts.yLabel)}</text>`);
  }
  return { frame: f, head, tail };
}

interface LegendEntry {
  label: string;
  color: string;
  kind: "line" | "marker" | "box";
  dashed?: boolean;
}

/** The legend box in the requested corner, or the corner covering the fewest of `points` (px). */
function legend(entries: LegendEntry[], f: Frame, pos: LegendPosition, points: [number, number][]): string {
  if (entries.length === 0 || pos === "none") return "";
  const w = 34 + Math.max(...entries.map((e) => textWidth(e.label, 11)));
  const h = 8 + entries.length * 16;
  const cx = (f.x0 + f.x1 - w) / 2;
  const cy = (f.y0 + f.y1 - h) / 2;
  const places = {
    "top-right": [f.x1 - w - 8, f.y1 + 8],
    "top-left": [f.x0 + 8, f.y1 + 8],
    "bottom-right": [f.x1 - w - 8, f.y0 - h - 8],
    "bottom-left": [f.x0 + 8, f.y0 - h - 8],
    "center-right": [f.x1 - w - 8, cy],
    "center-left": [f.x0 + 8, cy],
    "top-center": [cx, f.y1 + 8],
    "bottom-center": [cx, f.y0 - h - 8],
  } as const;
  let at: readonly [number, number];
  if (pos === "auto") {
    // the place hiding the fewest data points (corners first on ties, as matplotlib's "best")
    const hidden = (c: readonly [number, number]) => points.filter(([x, y]) => x >= c[0] - 4 && x <= c[0] + w + 4 && y >= c[1] - 4 && y <= c[1] + h + 4).length;
    at = Object.values(places).reduce((best, c) => (hidden(c) < hidden(best) ? c : best));
  } else at = places[pos];
  const [lx, ly] = at;
  const out = [`<g class="legend"><rect x="${px(lx)}" y="${px(ly)}" width="${px(w)}" height="${px(h)}" fill="#ffffff" fill-opacity="0.85" stroke="#bbb" rx="3"/>`];
  entries.forEach((e, i) => {
    const y = ly + 12 + i * 16;
    if (e.kind === "line")
      out.push(`<line x1="${px(lx + 6)}" y1="${px(y)}" x2="${px(lx + 26)}" y2="${px(y)}" stroke="${xml(e.color)}" stroke-width="2"${e.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
    else if (e.kind === "marker") out.push(`<circle cx="${px(lx + 16)}" cy="${px(y)}" r="3.5" fill="${xml(e.color)}"/>`);
    else out.push(`<rect x="${px(lx + 8)}" y="${px(y - 5)}" width="16" height="10" fill="${xml(e.color)}" fill-opacity="0.6"/>`);
    out.push(`<text x="${px(lx + 30)}" y="${px(y + 4)}">${xml(e.label)}</text>`);
  });
  out.push("</g>");
  return out.join("");
}

/** Points every ~6 px along a polyline, so that legend placement also sees long straight segments. */
function alongSegments(pts: [number, number][]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i < pts.length; i++) {
    const [ax, ay] = pts[i - 1]!;
    const [bx, by] = pts[i]!;
    const steps = Math.min(200, Math.floor(Math.hypot(bx - ax, by - ay) / 6));
    for (let k = 1; k < steps; k++) out.push([ax + ((bx - ax) * k) / steps, ay + ((by - ay) * k) / steps]);
  }
  return out;
}

function checkSeries(s: Series, i: number): { xs: number[]; ys: number[] } {
  const ys = Array.from(s.y, Number);
  const xs = s.x ? Array.from(s.x, Number) : ys.map((_, k) => k);
  if (xs.length !== ys.length) throw new Error(`plot: series ${i}${s.label ? ` ("${s.label}")` : ""} has ${xs.length} x values but ${ys.length} y values`);
  return { xs, ys };
}

/**
 * A line or scatter plot as a standalone SVG string.
 *
 * @example
 * const losses = [2.3, 1.1, 0.6, 0.4];
 * const svg = tg.viz.plot([{ y: losses, label: "train loss" }], { xLabel: "step", yLabel: "loss", yScale: "log" });
 * // import { writeFileSync } from "node:fs"; writeFileSync("loss.svg", svg);
 */
export function plot(series: Series | readonly Series[], opts: PlotOptions = {}): string {
  const list = Array.isArray(series) ? (series as readonly Series[]) : [series as Series];
  if (list.length === 0) throw new Error("plot: no series to draw");
  const data = list.map(checkSeries);
  const xAxis = makeAxis(data.flatMap((d) => d.xs), opts.xScale, opts.xLim, opts.xTicks);
  const yAxis = makeAxis(data.flatMap((d) => d.ys), opts.yScale, opts.yLim, opts.yTicks);
  const { frame: f, head, tail } = axes(xAxis, yAxis, opts);
  const body: string[] = [`<g clip-path="url(#${f.clipId})">`];
  const entries: LegendEntry[] = [];
  const points: [number, number][] = [];
  list.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]!;
    const mode = s.mode ?? "line";
    const width = s.width ?? 1.8;
    const { xs, ys } = data[i]!;
    const pts = xs.map((x, k) => [f.sx(x), f.sy(ys[k]!)] as [number, number]);
    const ok = ([x, y]: [number, number]) => Number.isFinite(x) && Number.isFinite(y);
    const opacity = s.opacity === undefined ? "" : ` opacity="${s.opacity}"`;
    if (mode !== "markers") {
      let d = "";
      let pen = false;
      for (const p of pts) {
        if (!ok(p)) {
          pen = false;
          continue;
        }
        d += `${pen ? "L" : "M"}${px(p[0])} ${px(p[1])}`;
        pen = true;
      }
      if (d) body.push(`<path d="${d}" fill="none" stroke="${xml(color)}" stroke-width="${width}" stroke-linejoin="round" stroke-linecap="round"${s.dashed ? ' stroke-dasharray="6 4"' : ""}${opacity}/>`);
    }
    if (mode !== "line") {
      const r = px(width * 1.5);
      const dots = pts.filter(ok).map(([x, y]) => `<circle cx="${px(x)}" cy="${px(y)}" r="${r}"/>`);
      body.push(`<g fill="${xml(color)}"${opacity}>${dots.join("")}</g>`);
    }
    points.push(...pts.filter(ok));
    if (mode !== "markers") points.push(...alongSegments(pts.filter(ok)));
    if (s.label !== undefined) entries.push({ label: s.label, color, kind: mode === "markers" ? "marker" : "line", dashed: s.dashed });
  });
  body.push("</g>");
  return [...head, ...body, ...tail, legend(entries, f, opts.legend ?? "auto", points), "</svg>"].join("\n");
}

/**
 * Counts of `values` in `bins` equal-width bins over `range` (the last bin includes its right
 * edge, as NumPy's histogram); non-finite values and values outside the range are not counted.
 */
export function histogramCounts(values: ArrayLike<number>, bins: number, range: readonly [number, number]): { edges: number[]; counts: number[] } {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram: bins must be a positive integer, got ${bins}`);
  const [lo, hi] = range;
  if (!(hi > lo)) throw new RangeError(`histogram: range must have lo < hi, got [${lo}, ${hi}]`);
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) continue;
    counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]!++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, k) => lo + ((hi - lo) * k) / bins), counts };
}

/**
 * A histogram (several overlaid, half-transparent, when given several series) as an SVG string.
 *
 * @example
 * const svg = tg.viz.histogram([{ values: a.dataSync(), label: "layer 1" }], { bins: 30, range: [0, 1] });
 */
export function histogram(data: ArrayLike<number> | readonly HistogramSeries[], opts: HistogramOptions = {}): string {
  const list: HistogramSeries[] = Array.isArray(data) && data.length > 0 && typeof data[0] === "object" ? [...(data as HistogramSeries[])] : [{ values: data as ArrayLike<number> }];
  const bins = opts.bins ?? 30;
  let range = opts.range;
  if (!range) {
    const all = list.flatMap((s) => Array.from(s.values).filter(Number.isFinite));
    const lo = all.length ? Math.min(...all) : 0;
    const hi = all.length ? Math.max(...all) : 1;
    range = hi > lo ? [lo, hi] : [lo - 0.5, lo + 0.5];
  }
  const hists = list.map((s) => {
    const h = histogramCounts(s.values, bins, range);
    const n = h.counts.reduce((a, b) => a + b, 0);
    const binW = (range[1] - range[0]) / bins;
    return opts.density ? h.counts.map((c) => (n ? c / (n * binW) : 0)) : h.counts;
  });
  const edges = histogramCounts([], bins, range).edges;
  const top = Math.max(...hists.flat(), opts.density ? 1e-12 : 1);
  const xAxis = makeAxis([], opts.xScale, opts.xLim ?? range, opts.xTicks);
  const yAxis = makeAxis([], opts.yScale, opts.yLim ?? (opts.yScale === "log" ? [0.5, top * 1.5] : [0, top * 1.05]), opts.yTicks);
  const { frame: f, head, tail } = axes(xAxis, yAxis, opts);
  const body: string[] = [`<g clip-path="url(#${f.clipId})">`];
  const entries: LegendEntry[] = [];
  const points: [number, number][] = [];
  const base = opts.yScale === "log" ? f.y0 : f.sy(0);
  list.forEach((s, i) => {
    const color = s.color ?? COLORS[i % COLORS.length]!;
    const rects = hists[i]!.map((c, k) => {
      if (c <= 0) return "";
      const xa = f.sx(edges[k]!);
      const xb = f.sx(edges[k + 1]!);
      const y = f.sy(c);
      points.push([(xa + xb) / 2, y]);
      return `<rect x="${px(xa)}" y="${px(y)}" width="${px(Math.max(0.5, xb - xa - 0.6))}" height="${px(Math.max(0, base - y))}"/>`;
    });
    body.push(`<g fill="${xml(color)}" fill-opacity="${list.length > 1 ? 0.5 : 0.8}">${rects.join("")}</g>`);
    if (s.label !== undefined) entries.push({ label: s.label, color, kind: "box" });
  });
  body.push("</g>");
  return [...head, ...body, ...tail, legend(entries, f, opts.legend ?? "auto", points), "</svg>"].join("\n");
}

export interface ImageGridOptions {
  /** Images per row (default: up to 10). */
  columns?: number;
  /** Height and width of one image when the input is flat ([N, 784] → [28, 28], the default for square sizes). */
  shape?: readonly [number, number];
  /** Screen pixels per image pixel (default 3). */
  scale?: number;
  /** A caption under each image (e.g. its label or prediction). */
  labels?: readonly string[];
  title?: string;
  /** Values mapped to black and white (default [0, 1]; values outside are clamped). */
  range?: readonly [number, number];
}

/** A flat copy of one image's pixels, and its [h, w]. */
function imagesOf(images: Tensor | readonly ArrayLike<number>[], shape?: readonly [number, number]): { pixels: ArrayLike<number>[]; h: number; w: number } {
  let pixels: ArrayLike<number>[];
  let dims: readonly number[] | undefined;
  if (Array.isArray(images)) pixels = images as ArrayLike<number>[];
  else {
    const t = images as Tensor;
    const flat = t.dataSync();
    const n = t.shape[0] ?? 1;
    const per = flat.length / Math.max(1, n);
    pixels = Array.from({ length: n }, (_, i) => flat.subarray(i * per, (i + 1) * per));
    dims = t.shape.slice(1).filter((d, i, a) => !(d === 1 && i < a.length - 2));
  }
  if (pixels.length === 0) throw new Error("imageGrid: no images");
  const size = pixels[0]!.length;
  let [h, w] = shape ?? (dims && dims.length === 2 ? (dims as [number, number]) : [Math.round(Math.sqrt(size)), Math.round(Math.sqrt(size))]);
  if (h * w !== size) {
    if (shape || (dims && dims.length === 2)) throw new Error(`imageGrid: images of ${size} pixels do not have shape [${h}, ${w}]`);
    throw new Error(`imageGrid: images of ${size} pixels are not square; pass { shape: [h, w] }`);
  }
  [h, w] = [h!, w!];
  return { pixels, h, w };
}

/**
 * Grayscale images in a grid (0 = black, 1 = white by default), e.g. MNIST digits, augmented
 * copies, or an autoencoder's reconstructions. Accepts a tensor [N, H, W], [N, 1, H, W] or
 * [N, H·W], or an array of flat images.
 *
 * @example
 * const svg = tg.viz.imageGrid(x.narrow(0, 0, 16), { columns: 8, labels: ["5", "0", …] });
 */
export function imageGrid(images: Tensor | readonly ArrayLike<number>[], opts: ImageGridOptions = {}): string {
  const { pixels, h, w } = imagesOf(images, opts.shape);
  const scale = opts.scale ?? 3;
  const columns = Math.max(1, Math.min(opts.columns ?? 10, pixels.length));
  const rows = Math.ceil(pixels.length / columns);
  const caption = opts.labels ? 14 : 0;
  const gap = 4;
  const top = opts.title ? 24 : gap;
  const cellW = w * scale + gap;
  const cellH = h * scale + gap + caption;
  const width = columns * cellW + gap;
  const height = top + rows * cellH;
  const [lo, hi] = opts.range ?? [0, 1];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) out.push(`<text x="${px(width / 2)}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${xml(opts.title)}</text>`);
  pixels.forEach((img, n) => {
    const ox = gap + (n % columns) * cellW;
    const oy = top + Math.floor(n / columns) * cellH;
    // black background, then runs of equal (quantised) gray along each row: small files for digits
    const runs: string[] = [`<rect x="${ox}" y="${oy}" width="${w * scale}" height="${h * scale}" fill="#000000"/>`];
    for (let r = 0; r < h; r++) {
      let c = 0;
      while (c < w) {
        const level = Math.round(Math.min(1, Math.max(0, (img[r * w + c]! - lo) / (hi - lo))) * 63);
        let end = c + 1;
        while (end < w && Math.round(Math.min(1, Math.max(0, (img[r * w + end]! - lo) / (hi - lo))) * 63) === level) end++;
        if (level > 0 || Number.isNaN(level)) {
          const g = Number.isNaN(level) ? "ff0000" : Math.round((level / 63) * 255).toString(16).padStart(2, "0").repeat(3);
          runs.push(`<rect x="${ox + c * scale}" y="${oy + r * scale}" width="${(end - c) * scale}" height="${scale}" fill="#${g}"/>`);
        }
        c = end;
      }
    }
    out.push(`<g shape-rendering="crispEdges">${runs.join("")}</g>`);
    if (opts.labels?.[n] !== undefined) out.push(`<text x="${px(ox + (w * scale) / 2)}" y="${px(oy + h * scale + 12)}" text-anchor="middle">${xml(opts.labels[n]!)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n");
}

/** Width and height attributes of an SVG string's root element. */
function svgSize(svg: string): [number, number] {
  const root = /<svg\b[^>]*>/.exec(svg)?.[0];
  const w = root && /\bwidth="([\d.]+)"/.exec(root);
  const h = root && /\bheight="([\d.]+)"/.exec(root);
  if (!w || !h) throw new Error("figure: every panel must be an <svg> with numeric width and height");
  return [Number(w[1]), Number(h[1])];
}

/**
 * Several SVG pictures (from `plot`, `histogram`, `imageGrid`, `graphToSvg`) side by side in a grid,
 * like matplotlib's subplots.
 *
 * @example
 * const svg = tg.viz.figure([plot(a), plot(b), histogram(c)], { columns: 3, title: "three panels" });
 */
export function figure(panels: readonly string[], opts: { columns?: number; title?: string } = {}): string {
  if (panels.length === 0) throw new Error("figure: no panels");
  const columns = Math.max(1, Math.min(opts.columns ?? panels.length, panels.length));
  const sizes = panels.map(svgSize);
  const rows = Math.ceil(panels.length / columns);
  const colW = Array.from({ length: columns }, (_, c) => Math.max(...sizes.filter((_, i) => i % columns === c).map((s) => s[0])));
  const rowH = Array.from({ length: rows }, (_, r) => Math.max(...sizes.filter((_, i) => Math.floor(i / columns) === r).map((s) => s[1])));
  const top = opts.title ? 26 : 0;
  const width = colW.reduce((a, b) => a + b, 0);
  const height = top + rowH.reduce((a, b) => a + b, 0);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (opts.title) out.push(`<text x="${px(width / 2)}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${xml(opts.title)}</text>`);
  panels.forEach((svg, i) => {
    const c = i % columns;
    const r = Math.floor(i / columns);
    const x = colW.slice(0, c).reduce((a, b) => a + b, 0);
    const y = top + rowH.slice(0, r).reduce((a, b) => a + b, 0);
    // the panel's root <svg> becomes a positioned nested <svg>; an XML declaration, if any, is dropped
    out.push(svg.replace(/^<\?xml[^>]*>\s*/, "").replace(/<svg\b/, `<svg x="${x}" y="${y}"`));
  });
  out.push("</svg>");
  return out.join("\n");
}
