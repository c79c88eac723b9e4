/**
 * @file Peers implemented as Python scripts (PyTorch, later numpy): `peers/<prefix>_<w>.py` per workload,
 * run with `/usr/bin/python3 SCRIPT --threads N --repeats R --scale S`; every stdout line that
 * starts with `{` is a figure.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Figure, figuresFromStdout, type RunOptions, WORKLOAD_IDS, type WorkloadId } from "../lib/figure.ts";
import type { Peer } from "./types.ts";

export const PYTHON = process.env.BENCH_PYTHON ?? "/usr/bin/python3";
const HERE = dirname(fileURLToPath(import.meta.url));

function scriptFor(prefix: string, workload: WorkloadId): string {
  return join(HERE, `${prefix}_${workload.toLowerCase()}.py`);
}

/** Parses and checks the figures a script printed; anything malformed is an error, not a silent gap. */
export function parseFigures(stdout: string, framework: string, workload: WorkloadId, threads: number): Figure[] {
  const figures = figuresFromStdout(stdout, `[${framework}] `);
  for (const f of figures) {
    const line = JSON.stringify(f);
    if (f.framework !== framework || f.workload !== workload || f.threads !== threads || typeof f.value !== "number")
      throw new Error(`${framework} ${workload}: unexpected figure ${line}`);
    if (!(WORKLOAD_IDS as readonly string[]).includes(f.workload)) throw new Error(`${framework}: unknown workload in ${line}`);
  }
  return figures;
}

/**
 * A peer backed by Python scripts. `probe` is Python code that must run for the peer to be
 * available (e.g. `import torch`); its stdout (a version) is printed to stderr once.
 */
export function pythonPeer(name: string, prefix: string, probe: string): Peer {
  let why: string | null | undefined;
  return {
    name,
    unavailable() {
      if (why !== undefined) return why;
      const r = spawnSync(PYTHON, ["-c", probe], { encoding: "utf8" });
      if (r.error !== undefined) why = `${PYTHON} cannot be run (${r.error.message})`;
      else if (r.status !== 0) why = `${PYTHON} -c "${probe}" failed: ${(r.stderr ?? "").trim().split("\n").pop()}`;
      else {
        why = null;
        process.stderr.write(`[${name}] ${r.stdout.trim()}\n`);
      }
      return why;
    },
    supports: (w) => existsSync(scriptFor(prefix, w)),
    run(workload, opts: RunOptions) {
      const args = [scriptFor(prefix, workload), "--threads", String(opts.threads), "--repeats", String(opts.repeats), "--scale", String(opts.scale)];
      const threads = String(opts.threads);
      const env = { ...process.env, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads };
      const r = spawnSync(PYTHON, args, { encoding: "utf8", env, stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
      if (r.error !== undefined) throw r.error;
      if (r.status !== 0) throw new Error(`${name} ${workload}: ${PYTHON} ${args[0]} exited with status ${r.status}`);
      return parseFigures(r.stdout, name, workload, opts.threads);
    },
  };
}
