/** @file The figure every benchmark reports (one JSON line each, BENCHMARKS.md's format) and timing helpers. */

/**
 * The workload ids BENCHMARKS.md fixes, plus START (what `npm start` trains, for the training issue's
 * target) and PLAYGROUND (W2's training in headless Chromium against Node, issue 16).
 */
export const WORKLOAD_IDS = ["W0", "W1", "W2", "W3", "W4", "START", "PLAYGROUND"] as const;
export type WorkloadId = (typeof WORKLOAD_IDS)[number];

/** One measured number. Extra keys (`op` for W0, `n` for W1) identify the figure within a workload. */
export interface Figure {
  framework: string;
  backend: string;
  threads: number;
  workload: WorkloadId;
  metric: string;
  value: number;
  unit: string;
  op?: string;
  n?: number;
}

/** Metrics where a smaller value is better (the ratio table reads them the other way round). */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(["us_per_op", "latency_ms_batch1", "train_seconds", "peak_rss_mb"]);

/** What the driver passes to a workload run, for tensorgrad and for every peer. */
export interface RunOptions {
  threads: number;
  /** Timed repeats after warm-up; the figure is their median. */
  repeats: number;
  /** Multiplies iteration counts (1 = the counts BENCHMARKS.md names; < 1 for a quick smoke run). */
  scale: number;
}

/**
 * The figures a child process printed (its stdout lines starting with `{`); every other non-empty
 * line goes to stderr with `prefix`.
 */
export function figuresFromStdout(stdout: string, prefix = ""): Figure[] {
  const figures: Figure[] = [];
  for (const line of stdout.split("\n")) {
    if (line.startsWith("{")) figures.push(JSON.parse(line) as Figure);
    else if (line.trim() !== "") process.stderr.write(`${prefix}${line}\n`);
  }
  return figures;
}

/** The JSON line for a figure: the fixed keys first, in BENCHMARKS.md's order, then the identifying extras. */
export function formatFigure(f: Figure): string {
  const { framework, backend, threads, workload, metric, value, unit, ...extra } = f;
  return JSON.stringify({ framework, backend, threads, workload, metric, value: round(value), unit, ...extra });
}

/** Four significant digits: enough for noisy timings, short enough to read. */
export function round(v: number): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v))));
  return Number(v.toFixed(Math.min(digits, 12)));
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median: no values");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Seconds since an arbitrary origin: sub-microsecond in Node; `performance.now()` in a browser (5 µs on an isolated page). */
export function nowSeconds(): number {
  if (typeof process !== "undefined" && typeof process.hrtime?.bigint === "function") return Number(process.hrtime.bigint()) / 1e9;
  return performance.now() / 1e3;
}

/** Minimum warm-up time: long enough for the JIT to settle on the hot path. */
export const WARMUP_SECONDS = 0.3;

/**
 * Runs `body` (which does `iters` operations) as warm-up — at least once and for at least
 * WARMUP_SECONDS — then `repeats` times timed, and returns the median time per operation in µs.
 */
export function usPerOp(body: (iters: number) => void, iters: number, repeats: number): number {
  const start = nowSeconds();
  do body(iters);
  while (nowSeconds() - start < WARMUP_SECONDS);
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = nowSeconds();
    body(iters);
    samples.push(((nowSeconds() - t0) * 1e6) / iters);
  }
  return median(samples);
}
