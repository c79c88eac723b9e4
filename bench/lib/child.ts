/**
 * @file Runs one tensorgrad workload in a fresh Node process, so that its peak resident memory
 * (`peak_rss_mb`) is that workload's alone — the driver process also holds TF.js, other backends
 * and earlier workloads. The child prints its figures as JSON lines, like the Python peers.
 *
 *   node --import tsx bench/lib/child.ts W2 wasm 1 7 1     (workload backend threads repeats scale)
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type Figure, figuresFromStdout, type RunOptions, type WorkloadId } from "./figure.ts";

const SELF = fileURLToPath(import.meta.url);

/** Set by the driver's `--fused off` ("all") or a script (op names, comma-separated): the child removes those fused-kernel entries before measuring. */
export const UNFUSED_ENV = "TG_BENCH_UNFUSED";

/** Peak resident set size of this process so far, in MiB (Linux/macOS report it; the figure is skipped where 0). */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * Runs `measure` in a child process on `backend` and returns its figures plus `peak_rss_mb`.
 * `modulePath` must export the measuring function as `measure(backend, opts)`.
 */
export function runInChild(modulePath: string, workload: WorkloadId, backend: string, opts: RunOptions): Figure[] {
  const args = ["--import", "tsx", SELF, modulePath, workload, backend, String(opts.threads), String(opts.repeats), String(opts.scale)];
  const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`tensorgrad/${backend} ${workload}: the child process exited with status ${r.status}`);
  return figuresFromStdout(r.stdout);
}

async function childMain(argv: readonly string[]): Promise<void> {
  const [modulePath, workload, backend, threads, repeats, scale] = argv;
  const tg = await import("../../src/index.ts");
  tg.backend.use(backend!);
  tg.backend.setThreads(Number(threads));
  // the driver's --fused off (or a script's list): those entries removed here too, so those ops are composed
  const unfused = process.env[UNFUSED_ENV];
  if (unfused !== undefined && unfused !== "") {
    const { kernels } = await import("../../src/backend/registry.ts");
    const table = (kernels().fused ?? {}) as Record<string, unknown>;
    for (const k of unfused === "all" ? Object.keys(table) : unfused.split(",")) delete table[k];
  }
  const mod = (await import(modulePath!)) as { measure(backend: string, opts: RunOptions): Promise<Figure[]> };
  const figures = await mod.measure(backend!, { threads: Number(threads), repeats: Number(repeats), scale: Number(scale) });
  const rss = peakRssMiB();
  const first = figures[0];
  if (first !== undefined && rss > 0)
    figures.push({ framework: "tensorgrad", backend: backend!, threads: first.threads, workload: workload as WorkloadId, metric: "peak_rss_mb", value: rss, unit: "MiB" });
  for (const f of figures) console.log(JSON.stringify(f));
}

if (process.argv[1] === SELF) {
  childMain(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  });
}
