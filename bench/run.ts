/**
 * @file The benchmark driver: runs the selected workloads for tensorgrad and its peers in one
 * invocation and prints one JSON line per figure (BENCHMARKS.md's format), then a table of
 * ratios tensorgrad / peer.
 *
 *   npm run bench -- --only W0 --frameworks tensorgrad,pytorch --threads 1,2
 *
 * Options: --only W0,…  --frameworks tensorgrad,pytorch,tfjs,numpy,onnxruntime  --threads 1,2
 *          --backends js (tensorgrad backends)  --fused on,off  --repeats 7  --rounds 1  --scale 1
 */
import { kernels } from "../src/backend/registry.ts";
import { UNFUSED_ENV } from "./lib/child.ts";
import * as tg from "../src/index.ts";
import { type Figure, formatFigure, LOWER_IS_BETTER, median, type RunOptions, round, WORKLOAD_IDS, type WorkloadId } from "./lib/figure.ts";
import { PEERS } from "./peers/index.ts";
import { WORKLOADS } from "./workloads/index.ts";

/**
 * The most threads each tensorgrad backend runs; a backend not listed counts as single-threaded,
 * so no figure is ever labelled with threads it did not use. A multi-threaded backend gets an
 * entry here together with the code (in the job below) that sets its thread count.
 */
const TENSORGRAD_MAX_THREADS: Record<string, number> = { js: 1, wasm: Number.POSITIVE_INFINITY, native: Number.POSITIVE_INFINITY };

interface Args {
  only: WorkloadId[];
  frameworks: string[];
  threads: number[];
  backends: string[];
  /** "on": the backends' fused-kernel tables as registered; "off": emptied for the job (every fused op composed). */
  fused: ("on" | "off")[];
  repeats: number;
  rounds: number;
  scale: number;
}

const HELP = `usage: npm run bench -- [--only W0,W1] [--frameworks tensorgrad,pytorch] [--threads 1,2]
                        [--backends js] [--repeats 7] [--rounds 1] [--scale 1]
  --only        workloads to run (default: all of ${WORKLOAD_IDS.join(",")})
  --frameworks  tensorgrad and peers (default: tensorgrad,${Object.keys(PEERS).join(",")})
  --threads     thread counts (default 1,2)
  --backends    tensorgrad backends (default: every registered one: ${tg.backend.list().join(",")})
  --fused       on (default), off (each backend's fused kernels removed: figures labelled <backend>-composed), or on,off
  --repeats     timed repeats per figure after warm-up; the figure is their median (default 7, at least 5 advised)
  --rounds      run everything this many times, frameworks interleaved, and report the median per figure (default 1)
  --scale       multiplies iteration counts (default 1; e.g. 0.1 for a quick smoke run)`;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    only: [...WORKLOAD_IDS],
    frameworks: ["tensorgrad", ...Object.keys(PEERS)],
    threads: [1, 2],
    backends: tg.backend.list(),
    fused: ["on"],
    repeats: 7,
    rounds: 1,
    scale: 1,
  };
  const list = (v: string) => v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  const positive = (name: string, v: string, integer: boolean): number => {
    const n = Number(v);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`bench: ${name} must be a positive ${integer ? "integer" : "number"}, got "${v}"`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i]!;
    if (key === "--help" || key === "-h") {
      console.log(HELP);
      process.exit(0);
    }
    const [name, inline] = key.includes("=") ? [key.slice(0, key.indexOf("=")), key.slice(key.indexOf("=") + 1)] : [key, undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`bench: ${name} needs a value\n${HELP}`);
    switch (name) {
      case "--only":
        args.only = list(value).map((w) => w.toUpperCase()) as WorkloadId[];
        break;
      case "--frameworks":
        args.frameworks = list(value).map((f) => f.toLowerCase());
        break;
      case "--threads":
        args.threads = list(value).map((t) => positive("--threads", t, true));
        break;
      case "--backends":
        args.backends = list(value);
        break;
      case "--fused":
        args.fused = list(value).map((v) => {
          if (v !== "on" && v !== "off") throw new Error(`bench: --fused takes on, off or on,off, got "${v}"`);
          return v;
        });
        break;
      case "--repeats":
        args.repeats = positive(name, value, true);
        break;
      case "--rounds":
        args.rounds = positive(name, value, true);
        break;
      case "--scale":
        args.scale = positive(name, value, false);
        break;
      default:
        throw new Error(`bench: unknown option ${name}\n${HELP}`);
    }
  }
  return args;
}

const note = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

/** The key that identifies a figure across frameworks (what the ratio table pairs on). */
const figureKey = (f: Figure) => `${f.workload}|${f.metric}|${f.op ?? ""}|${f.n ?? ""}`;
const seriesKey = (f: Figure) => `${f.framework}|${f.backend}|${f.threads}|${figureKey(f)}`;

/** One job: one framework (or tensorgrad backend) × workload × thread count. */
interface Job {
  label: string;
  run: () => Promise<Figure[]>;
}

function planJobs(args: Args): Job[] {
  const jobs: Job[] = [];
  const workloads: WorkloadId[] = [];
  for (const w of args.only) {
    if (!(WORKLOAD_IDS as readonly string[]).includes(w)) note(`unknown workload "${w}" (known: ${WORKLOAD_IDS.join(", ")}); skipped`);
    else workloads.push(w);
  }
  const peers = [];
  for (const name of args.frameworks) {
    if (name === "tensorgrad") continue;
    const peer = PEERS[name];
    if (peer === undefined) {
      note(`unknown framework "${name}" (known: tensorgrad, ${Object.keys(PEERS).join(", ")}); skipped`);
      continue;
    }
    const why = peer.unavailable();
    if (why !== null) note(`${name}: skipped (${why})`);
    else peers.push(peer);
  }
  const backends = args.frameworks.includes("tensorgrad") ? args.backends : [];
  for (const b of backends) if (!tg.backend.list().includes(b)) note(`tensorgrad: unknown backend "${b}" (registered: ${tg.backend.list().join(", ")}); skipped`);

  for (const w of workloads) {
    const workload = WORKLOADS[w];
    if (backends.length > 0 && workload === undefined) note(`tensorgrad: workload ${w} is not implemented yet; skipped`);
    for (const peer of peers) if (!peer.supports(w)) note(`${peer.name}: workload ${w} is not implemented yet; skipped`);
    let mine = backends;
    if (workload !== undefined && backends.length > 0) {
      const why = workload.unavailable?.() ?? null;
      if (why !== null) {
        note(`tensorgrad: ${w} skipped (${why})`);
        mine = [];
      } else if (workload.backends !== undefined) {
        const only = workload.backends;
        const others = backends.filter((b) => !only.includes(b) && tg.backend.list().includes(b));
        if (others.length > 0) note(`tensorgrad: ${w} runs on ${only.join(", ")} only; ${others.join(", ")} skipped`);
        mine = backends.filter((b) => only.includes(b));
      }
    }
    for (const threads of args.threads) {
      const opts: RunOptions = { threads, repeats: args.repeats, scale: args.scale };
      if (workload !== undefined) {
        for (const b of mine) {
          if (!tg.backend.list().includes(b)) continue;
          const max = TENSORGRAD_MAX_THREADS[b] ?? 1;
          if (threads > max) {
            note(`tensorgrad ${b}: ${w} at ${threads} threads skipped (the ${b} backend runs ${max} thread${max === 1 ? "" : "s"}; the ratio table compares with its ${max}-thread figure)`);
            continue;
          }
          for (const fused of args.fused) {
            if (fused === "off" && workload.elsewhere === true) {
              if (threads === args.threads[0]) note(`tensorgrad ${b}: ${w} with --fused off skipped (it runs in another process, which the driver's kernel tables do not reach)`);
              continue;
            }
            jobs.push({
              label: `tensorgrad/${b}${fused === "off" ? " (composed)" : ""} ${w} ${threads}t`,
              run: async () => {
                tg.backend.use(b);
                // the wasm worker pool and the native std::thread pool (the calling thread included); js ignores it
                tg.backend.setThreads(threads);
                if (fused === "on") return workload.run(b, opts);
                const figs = await withoutFusedKernels(async () => workload.run(b, opts));
                return figs.map((f) => ({ ...f, backend: `${b}-composed` }));
              },
            });
          }
        }
      }
      for (const peer of peers) {
        if (!peer.supports(w)) continue;
        jobs.push({ label: `${peer.name} ${w} ${threads}t`, run: async () => peer.run(w, opts) });
      }
    }
  }
  return jobs;
}

/**
 * Runs `body` with the active backend's fused-kernel table emptied (the dispatcher composes every
 * fused op), restoring it after; a workload measuring in a child Node (runInChild) is told by
 * UNFUSED_ENV to do the same there.
 */
async function withoutFusedKernels<T>(body: () => Promise<T>): Promise<T> {
  const table = (kernels().fused ?? {}) as Record<string, unknown>;
  const saved = { ...table };
  for (const k of Object.keys(table)) delete table[k];
  process.env[UNFUSED_ENV] = "all";
  try {
    return await body();
  } finally {
    delete process.env[UNFUSED_ENV];
    Object.assign(table, saved);
  }
}

/** Pairs each peer figure with tensorgrad's (same figure and threads, else the most threads tensorgrad has below that). */
function ratioTable(figures: readonly Figure[]): string {
  const tgFigs = figures.filter((f) => f.framework === "tensorgrad");
  const rows: string[][] = [];
  for (const p of figures) {
    if (p.framework === "tensorgrad") continue;
    const candidates = tgFigs.filter((t) => figureKey(t) === figureKey(p) && t.threads <= p.threads);
    for (const backend of [...new Set(candidates.map((t) => t.backend))]) {
      const mine = candidates.filter((t) => t.backend === backend).sort((x, y) => y.threads - x.threads)[0]!;
      const ratio = mine.value / p.value;
      const lower = LOWER_IS_BETTER.has(p.metric);
      const speedup = lower ? 1 / ratio : ratio;
      const verdict = speedup >= 1 ? `tensorgrad ${speedup.toFixed(2)}× better` : `tensorgrad ${(1 / speedup).toFixed(2)}× worse`;
      rows.push([
        p.workload,
        p.op ?? (p.n !== undefined ? `n=${p.n}` : ""),
        p.metric,
        `${mine.backend}@${mine.threads}${mine.threads === p.threads ? "" : "*"}`,
        `${p.framework}/${p.backend}@${p.threads}`,
        `${round(mine.value)} ${mine.unit}`,
        `${round(p.value)} ${p.unit}`,
        ratio.toPrecision(3),
        `${verdict} (${lower ? "lower" : "higher"} is better)`,
      ]);
    }
  }
  if (rows.length === 0) return "(no tensorgrad / peer pairs to compare)";
  const header = ["workload", "op", "metric", "tensorgrad", "peer", "tensorgrad value", "peer value", "tg/peer", ""];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((s, c) => s.padEnd(widths[c]!)).join("  ").trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
  if (rows.some((r) => r[3]!.endsWith("*"))) out.push("* tensorgrad at fewer threads than the peer (its backend runs no more)");
  return out.join("\n");
}

/** PLAYGROUND's pairs: Chromium / Node at each thread count (the same job's figures), against the issue's target. */
function browserTable(figures: readonly Figure[]): string | null {
  const ratios = figures.filter((f) => f.workload === "PLAYGROUND" && f.metric === "browser_node_ratio");
  if (ratios.length === 0) return null;
  const rate = (backend: string, threads: number) =>
    figures.find((f) => f.workload === "PLAYGROUND" && f.metric === "train_samples_per_s" && f.backend === backend && f.threads === threads)?.value;
  const rows = ratios.map((r) => {
    const [node, browser] = [rate("wasm", r.threads), rate("wasm-browser", r.threads)];
    return `${String(r.threads).padEnd(7)}  ${String(node === undefined ? "" : round(node)).padEnd(14)}  ${String(browser === undefined ? "" : round(browser)).padEnd(18)}  ${r.value.toFixed(3)}${r.value >= 0.7 ? "" : "  (below 0.7)"}`;
  });
  return ["threads  Node samples/s  Chromium samples/s  Chromium/Node", ...rows].join("\n");
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const jobs = planJobs(args);
  if (jobs.length === 0) {
    note("nothing to run");
    process.exitCode = 1;
    return;
  }
  const bySeries = new Map<string, Figure[]>();
  for (let r = 1; r <= args.rounds; r++) {
    for (const job of jobs) {
      note(`${args.rounds > 1 ? `round ${r}/${args.rounds}: ` : ""}${job.label}`);
      let figs: Figure[];
      try {
        figs = await job.run();
      } catch (e) {
        note(`${job.label} failed: ${e instanceof Error ? e.message : String(e)}`);
        process.exitCode = 1;
        continue;
      }
      for (const f of figs) {
        if (args.rounds === 1) console.log(formatFigure(f));
        else note(`round ${r}: ${formatFigure(f)}`);
        const k = seriesKey(f);
        bySeries.set(k, [...(bySeries.get(k) ?? []), f]);
      }
    }
  }
  // with several rounds, each figure is the median over the rounds
  const figures = [...bySeries.values()].map((fs) => ({ ...fs[0]!, value: median(fs.map((f) => f.value)) }));
  if (args.rounds > 1) for (const f of figures) console.log(formatFigure(f));
  console.log(`\nratios tensorgrad / peer (${args.rounds > 1 ? `medians of ${args.rounds} rounds, ` : ""}each the median of ${args.repeats} repeats after warm-up)`);
  console.log(ratioTable(figures));
  const browser = browserTable(figures);
  if (browser !== null) {
    console.log(`\nPLAYGROUND: W2's MLP training on wasm, headless Chromium / Node (${args.rounds > 1 ? "medians of the rounds' same-job ratios" : "same job"}; target ≥ 0.7)`);
    console.log(browser);
    if (args.rounds > 1) console.log("(samples/s: each figure's median over the rounds; the ratio: the median of each round's own ratio, so the columns need not divide)");
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
