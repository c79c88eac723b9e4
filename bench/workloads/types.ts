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
}
