/**
 * @file The progress display of `fit`: a live bar per epoch (cli-progress) with loss, metrics and
 * samples/s when the output is a terminal; one plain line per epoch otherwise (logs, CI, pipes).
 */
import type { Logs } from "./history.ts";

/** Where progress goes: anything with `write` (process.stdout by default); a bar only when `isTTY`. */
export interface ProgressStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

/** Formats a logged value as Keras does: 4 decimals, or exponent notation for tiny/huge values. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toFixed(4);
}

/** "loss: 0.1234 - accuracy: 0.9876" for the given keys (all numeric logs if none). */
export function formatLogs(logs: Logs, keys?: readonly string[]): string {
  return (keys ?? Object.keys(logs))
    .filter((k) => logs[k] !== undefined && k !== "batch" && k !== "size")
    .map((k) => `${k}: ${formatValue(logs[k]!)}`)
    .join(" - ");
}

function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - 60 * m)).padStart(2, "0")}s`;
}

interface Bar {
  start(total: number, value: number, payload?: object): void;
  update(value: number, payload?: object): void;
  stop(): void;
}

/**
 * Drives the display; the loop calls it at epoch and batch boundaries. verbose 0 prints nothing,
 * 1 a bar (terminal) or a line per epoch, 2 always a line per epoch (Keras' verbose=2).
 */
export class ProgressDisplay {
  private readonly stream: ProgressStream;
  private readonly verbose: 0 | 1 | 2;
  private bar: Bar | null = null;
  private barClass: (new (opts: object) => Bar) | null = null;
  private epochs = 0;
  private steps = 0;

  constructor(opts: { verbose?: 0 | 1 | 2; stream?: ProgressStream } = {}) {
    this.verbose = opts.verbose ?? 1;
    this.stream = opts.stream ?? (globalThis as { process?: { stdout: ProgressStream } }).process?.stdout ?? { write: (s: string) => console.log(s.replace(/\n$/, "")) };
  }

  /** True when a live bar is drawn (verbose 1 on a terminal). */
  get live(): boolean {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    return this.verbose === 1 && this.stream.isTTY === true && env?.TERM !== "dumb";
  }

  /** Loads the bar library when needed (cli-progress; a plain display if it cannot load). */
  async begin(epochs: number, steps: number): Promise<void> {
    this.epochs = epochs;
    this.steps = steps;
    if (!this.live || this.barClass) return;
    try {
      const mod = (await import("cli-progress")) as unknown as { default?: { SingleBar: new (opts: object) => Bar }; SingleBar?: new (opts: object) => Bar };
      this.barClass = mod.default?.SingleBar ?? mod.SingleBar ?? null;
    } catch {
      this.barClass = null;
    }
  }

  /** A message on its own line (not torn by a live bar). */
  log(message: string): void {
    if (this.verbose === 0) return;
    this.stream.write(`${message}\n`);
  }

  epochBegin(epoch: number): void {
    if (this.verbose === 0 || !this.live || !this.barClass) return;
    this.bar = new this.barClass({
      format: `Epoch ${epoch + 1}/${this.epochs} [{bar}] {value}/{total} | {metrics} | {speed} samples/s | {duration_formatted}`,
      barCompleteChar: "\u2588",
      barIncompleteChar: "\u2591",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: this.stream,
      fps: 10,
    });
    this.bar.start(this.steps, 0, { metrics: "loss: …", speed: "…" });
  }

  batchEnd(step: number, logs: Logs, samplesPerSecond: number): void {
    if (this.bar === null) return;
    this.bar.update(step + 1, { metrics: formatLogs(logs), speed: Math.round(samplesPerSecond) });
  }

  epochEnd(epoch: number, logs: Logs, seconds: number, samplesPerSecond: number, step: number): void {
    if (this.verbose === 0) return;
    const speed = Math.round(samplesPerSecond);
    if (this.bar !== null) {
      this.bar.update(step, { metrics: formatLogs(logs), speed });
      this.bar.stop();
      this.bar = null;
      return;
    }
    this.stream.write(`Epoch ${epoch + 1}/${this.epochs}: ${step}/${this.steps} - ${formatSeconds(seconds)} - ${speed} samples/s - ${formatLogs(logs)}\n`);
  }

  /** Ends any live bar (e.g. on an exception or interrupt). */
  close(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
