/**
 * @file START: what `npm start` does — `tensorgrad train` with its defaults on the embedded MNIST
 * subset — as figures: test accuracy and training seconds (the "≥ 95 % within 90 s").
 * The CLI runs in a child process (the built `dist/cli/main.js`) on the backend being measured.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Figure } from "../lib/figure.ts";
import type { Workload } from "./types.ts";

const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

export const start: Workload = {
  id: "START",
  title: "npm start: tensorgrad train with its defaults (embedded MNIST); test accuracy and training time",
  elsewhere: true,
  run(backend, opts) {
    if (!existsSync(CLI)) throw new Error(`START needs the built CLI (${CLI}); run npm run build first`);
    const out = mkdtempSync(join(tmpdir(), "tg-bench-start-"));
    try {
      // a reduced run (scale < 1) trains one epoch: enough to prove the path, not the figure
      const extra = opts.scale < 1 ? ["--epochs", "1"] : [];
      const r = spawnSync(process.execPath, [CLI, "train", "--out", out, ...extra], {
        env: { ...process.env, TG_BACKEND: backend, TG_THREADS: String(opts.threads) },
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`tensorgrad train exited with ${r.status}: ${r.stderr.slice(-500)}`);
      const history = JSON.parse(readFileSync(join(out, "history.json"), "utf8")) as {
        test: { accuracy: number };
        trainedSeconds: number;
      };
      const base = { framework: "tensorgrad", backend, threads: opts.threads, workload: "START" } as const;
      const figures: Figure[] = [
        { ...base, metric: "test_accuracy", value: history.test.accuracy, unit: "fraction" },
        { ...base, metric: "train_seconds", value: history.trainedSeconds, unit: "s" },
      ];
      return figures;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
};
