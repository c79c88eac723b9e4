/** @file What a tensorgrad workload module provides to the driver. */
import type { Figure, RunOptions, WorkloadId } from "../lib/figure.ts";

export interface Workload {
  id: WorkloadId;
  /** One line for the help text and the README. */
  title: string;
  /**
   * Measures tensorgrad on the backend that is active (`tg.backend.use(backend)` has been called)
   * and returns its figures with `framework: "tensorgrad"` and the given backend and threads.
   */
  run(backend: string, opts: RunOptions): Figure[] | Promise<Figure[]>;
  /** The tensorgrad backends it runs on (default: every one); the driver skips the others with a note. */
  backends?: readonly string[];
  /** Why it cannot run on this machine (e.g. no browser), or null; the driver then skips it with a note. */
  unavailable?(): string | null;
  /**
   * True when it measures in a process the driver's `--fused off` does not reach (the CLI, a
   * browser; a child started by runInChild empties its table too): the driver skips that form with
   * a note instead of mislabelling it.
   */
  elsewhere?: boolean;
}
