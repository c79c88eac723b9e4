/**
 * @file The wasm backend's worker pool: worker_threads that instantiate the same kernel module on
 * the same shared WebAssembly.Memory and run slices of a gemm, or a list of independent kernel
 * calls (`runCalls`: the elementwise and window kernels, each call owning a disjoint output range),
 * while the main thread runs its own.
 *
 * Kernel calls stay synchronous: the main thread writes a table of tasks (blocks of C) and each
 * worker's arguments into the control block at the bottom of wasm memory, wakes the workers with
 * Atomics.notify, and every thread, the main one included, takes the next task from a shared
 * counter (Atomics.add) until none is left; the main thread then Atomics.waits until every
 * worker has counted itself done. Taking tasks dynamically keeps a thread whose core is busy
 * with another process from holding the others up (these machines are shared); a task's
 * result does not depend on the thread that runs it, so results are bit-identical for any
 * thread count. Waking a worker costs ~25 µs on these VMs (futex), so only large calls are split
 * (spinning before sleeping cut that, but slowed training on 2 shared cores when other processes
 * ran). Workers are started on the first call large enough to split, unref'd (they never keep the
 * process alive), and need no files (their code is an inline script). Threads =
 * available cores by default; `setThreads(n)` or `TG_THREADS=n` changes it; 1 (or a memory that
 * cannot be shared) means no workers. Browsers use Web Workers (platform.browser.ts), which need
 * cross-origin isolation (COOP/COEP headers) for a shared memory.
 */
import { BLOCKING_START, CAN_WAIT, hardwareThreads, envVar, type PoolWorker, startWorker } from "./platform.ts";
import { type Int32Kernel, KERNEL_NAMES } from "./kernels.generated.ts";
import { type Arena, getRuntime, type Staged, wasmAvailable } from "./runtime.ts";

/** Control block layout (Int32Array indices into memory page 0). */
const DONE = 0;
const FAILED = 1;
/** The next task to take. */
const NEXT = 2;
const SLOT0 = 16;
const SLOT_WORDS = 32;
/** At most this many workers (their slots end before the task table). */
const MAX_WORKERS = 255;
/** The task table: 8 words per task (batch, M, N, a, b, c), at most MAX_TASKS tasks, up to word 16384. */
const TASKS = 8192;
const TASK_WORDS = 8;
const MAX_TASKS = 1024;
/** Slot words: state (0 idle, 1 run), ready flag, kernel id, then arguments. */
const STATE = 0;
const READY = 1;
const OP = 2;
const ARGS = 3;
/** Args: task count, K, sab, sam, sak, sbb, sbk, sbn, C batch stride, ldc, workspace. */
const OP_SGEMM_TASKS = 1;
/** Args: task count. Each task (CALL_WORDS at TASKS + t·CALL_WORDS): index into KERNEL_NAMES, argument count, arguments. */
const OP_CALLS = 2;
const OP_EXIT = -1;
const CALL_WORDS = 24;
const MAX_CALLS = Math.floor((16384 - TASKS) / CALL_WORDS);
/** One kernel call: its name and its arguments. */
export type KernelCall = [Int32Kernel, ...number[]];

/** Below this many multiply-adds (B·M·N·K) a gemm runs on the calling thread: waking workers costs more. */
export const PARALLEL_MIN_MACS = 1 << 19;
/**
 * Calls of ≤ 4 rows (batch-1 inference: bandwidth-bound, ~50 µs for W2's first layer) split only
 * above this: waking a worker and waiting for it cost ~25 µs each on these VMs, so splitting W4's
 * 401k-MAC layer made batch-1 latency 1.6× slower (0.142 vs 0.088 ms).
 */
export const FEW_ROWS_MIN_MACS = 1 << 22;
/** A gemm is cut into 2 tasks per thread (not 1) when each still has this many multiply-adds (packing is repeated per task). */
export const FINE_TASK_MACS = 1 << 24;

/** A pool worker's script; the platform supplies \`module\`, \`memory\` and \`slot\` (platform.ts: workerData, or a message in browsers). */
const WORKER_BODY = `
const k = new WebAssembly.Instance(module, { env: { memory } }).exports;
const ctl = new Int32Array(memory.buffer, 0, 16384);
const fns = ${JSON.stringify(KERNEL_NAMES)}.map((f) => k[f]);
Atomics.store(ctl, slot + ${READY}, 1);
Atomics.notify(ctl, slot + ${READY});
for (;;) {
  Atomics.wait(ctl, slot + ${STATE}, 0);
  const op = ctl[slot + ${OP}];
  if (op === ${OP_EXIT}) break;
  const a = (i) => ctl[slot + ${ARGS} + i];
  try {
    if (op === ${OP_SGEMM_TASKS}) {
      const n = a(0), K = a(1), sab = a(2), sam = a(3), sak = a(4), sbb = a(5), sbk = a(6), sbn = a(7), scb = a(8), ldc = a(9), ws = a(10);
      for (;;) {
        const t = Atomics.add(ctl, ${NEXT}, 1);
        if (t >= n) break;
        const q = ${TASKS} + t * ${TASK_WORDS};
        k.sgemmBatched(ctl[q], ctl[q + 1], ctl[q + 2], K, ctl[q + 3], sab, sam, sak, ctl[q + 4], sbb, sbk, sbn, ctl[q + 5], scb, ldc, ws);
      }
    } else if (op === ${OP_CALLS}) {
      const n = a(0);
      for (;;) {
        const t = Atomics.add(ctl, ${NEXT}, 1);
        if (t >= n) break;
        const q = ${TASKS} + t * ${CALL_WORDS};
        fns[ctl[q]](...ctl.subarray(q + 2, q + 2 + ctl[q + 1]));
      }
    } else throw new Error("unknown op " + op);
  } catch (e) {
    Atomics.store(ctl, ${FAILED}, 1);
  }
  Atomics.store(ctl, slot + ${STATE}, 0);
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

function defaultThreads(): number {
  const env = Number(envVar("TG_THREADS"));
  if (Number.isInteger(env) && env >= 1) return env;
  return hardwareThreads();
}

let wanted = defaultThreads();
const workers: PoolWorker[] = [];
let broken = false;

/**
 * Sets how many threads the wasm kernels use, the calling thread included (default: the number
 * of cores, or `TG_THREADS`); 1 runs everything on the calling thread. Extra workers stop at
 * once; missing ones start on the next gemm large enough to split. The js backend ignores it.
 * @example tg.backend.setThreads(1); // deterministic timing, no workers
 */
export function setThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setThreads: expected a positive integer, got ${n}`);
  wanted = n;
  while (workers.length > n - 1) workers.pop()!.terminate();
}

/**
 * The thread count the wasm kernels use (the calling thread included): the `setThreads` value,
 * or 1 where the wasm backend is unavailable or its memory cannot be shared.
 * @example tg.backend.threads(); // 2 on a 2-core machine
 */
export function getThreads(): number {
  if (broken || !wasmAvailable()) return 1;
  return getRuntime().shared ? wanted : 1;
}

function control(): Int32Array {
  return new Int32Array(getRuntime().memory.buffer, 0, 16384);
}

/**
 * Starts workers until there are `n` and returns how many are ready. In Node it waits
 * (synchronously) until each has its instance; a browser starts a worker only once this thread
 * yields, so there the count is the workers already up (slots in order), and the rest join later.
 */
function ensureWorkers(n: number): number {
  if (broken) return 0;
  const rt = getRuntime();
  const ctl = control();
  while (workers.length < n) {
    const slot = SLOT0 + workers.length * SLOT_WORDS;
    ctl.fill(0, slot, slot + SLOT_WORDS);
    let w: PoolWorker;
    try {
      w = startWorker(WORKER_BODY, { module: rt.module, memory: rt.memory, slot }, () => {
        broken = true;
      });
    } catch {
      broken = true;
      return workers.length;
    }
    if (BLOCKING_START) {
      // instantiation takes milliseconds; give a loaded machine ample time before giving up on threads
      const deadline = Date.now() + 10_000;
      while (Atomics.load(ctl, slot + READY) === 0 && Date.now() < deadline) Atomics.wait(ctl, slot + READY, 0, 50);
      if (Atomics.load(ctl, slot + READY) === 0) {
        w.terminate();
        broken = true;
        return workers.length;
      }
    }
    workers.push(w);
  }
  return BLOCKING_START ? n : readyCount(ctl, n);
}

/** How many of the first `n` workers are up (their slots in order). */
function readyCount(ctl: Int32Array, n: number): number {
  let up = 0;
  while (up < n && Atomics.load(ctl, SLOT0 + up * SLOT_WORDS + READY) !== 0) up++;
  return up;
}

/**
 * Starts the pool's workers and resolves once they are up (or after 10 s): `tg.backend.ready()`
 * calls it in browsers, whose workers start only while this thread yields. A no-op where the
 * memory is not shared or one thread is wanted.
 */
export async function startWorkers(): Promise<void> {
  const n = Math.min(getThreads(), MAX_WORKERS + 1) - 1;
  if (BLOCKING_START || n < 1) return; // Node starts them on the first gemm large enough to split
  const deadline = Date.now() + 10_000;
  while (!broken && ensureWorkers(n) < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

/** How many pool workers are up now (tests and diagnostics). */
export function readyWorkers(): number {
  return broken || workers.length === 0 ? 0 : readyCount(control(), workers.length);
}

interface Task {
  batch: number;
  M: number;
  N: number;
  a: number;
  b: number;
  c: number;
}

/**
 * Splits C[B, M, N] = A·B over the threads when the product is large enough: whole batches per
 * thread when there are at least as many batches as threads, otherwise row (or column) blocks of
 * every batch. Returns false (nothing done) when it should run single-threaded.
 */
export function parallelGemm(ar: Arena, B: number, M: number, N: number, K: number, sa: Staged, sb: Staged, c: number): boolean {
  const [a, b] = [sa.ptr, sb.ptr];
  const [sab, sam, sak] = sa.strides as [number, number, number];
  const [sbb, sbk, sbn] = sb.strides as [number, number, number];
  const threads = Math.min(getThreads(), MAX_WORKERS + 1);
  const macs = B * M * N * K;
  if (threads <= 1 || macs < (M <= 4 ? FEW_ROWS_MIN_MACS : PARALLEL_MIN_MACS)) return false;
  const parts = macs / (2 * threads) >= FINE_TASK_MACS ? 2 * threads : threads;
  const tasks: Task[] = [];
  if (B >= parts) {
    for (const [p0, p1] of ranges(B, parts)) tasks.push({ batch: p1 - p0, M, N, a: a + p0 * sab * 4, b: b + p0 * sbb * 4, c: c + p0 * M * N * 4 });
  } else if (M >= N) {
    // row blocks, multiples of the 4-row micro-tile
    const rows = Math.ceil(M / parts / 4) * 4;
    for (let m0 = 0; m0 < M; m0 += rows) tasks.push({ batch: B, M: Math.min(rows, M - m0), N, a: a + m0 * sam * 4, b, c: c + m0 * N * 4 });
  } else {
    // column blocks, multiples of the 8-column micro-tile
    const cols = Math.ceil(N / parts / 8) * 8;
    for (let n0 = 0; n0 < N; n0 += cols) tasks.push({ batch: B, M, N: Math.min(cols, N - n0), a, b: b + n0 * sbn * 4, c: c + n0 * 4 });
  }
  if (tasks.length <= 1 || tasks.length > MAX_TASKS) return false;
  const wantHelpers = Math.min(threads, tasks.length) - 1;
  const up = ensureWorkers(wantHelpers);
  // Node: all of them or none (broken); a browser's main thread uses those already up
  if (BLOCKING_START ? up < wantHelpers : up < 1) return false;
  const helpers = up;
  const rt = getRuntime();
  const wsBytes = rt.kernels.sgemmWorkspaceBytes();
  const ws: number[] = [];
  for (let t = 0; t <= helpers; t++) ws.push(ar.alloc(wsBytes));
  const ctl = control();
  tasks.forEach((s, t) => {
    ctl.set([s.batch, s.M, s.N, s.a, s.b, s.c], TASKS + t * TASK_WORDS);
  });
  const common = [tasks.length, K, sab, sam, sak, sbb, sbk, sbn, M * N, N];
  dispatch(helpers, OP_SGEMM_TASKS, (w) => [...common, ws[w + 1]!], () => {
    for (;;) {
      const t = Atomics.add(ctl, NEXT, 1);
      if (t >= tasks.length) break;
      const s = tasks[t]!;
      rt.kernels.sgemmBatched(s.batch, s.M, s.N, K, s.a, sab, sam, sak, s.b, sbb, sbk, sbn, s.c, M * N, N, ws[0]!);
    }
  });
  if (Atomics.load(ctl, FAILED) !== 0) throw new Error("wasm backend: a worker thread failed in sgemm");
  return true;
}

/** Wakes `helpers` workers on `op` (each with `args(w)`), runs `local` here, and waits until every worker is done. The task table is written. */
function dispatch(helpers: number, op: number, args: (w: number) => number[], local: () => void): void {
  const ctl = control();
  Atomics.store(ctl, DONE, 0);
  Atomics.store(ctl, FAILED, 0);
  Atomics.store(ctl, NEXT, 0);
  for (let w = 0; w < helpers; w++) {
    const slot = SLOT0 + w * SLOT_WORDS;
    ctl[slot + OP] = op;
    ctl.set(args(w), slot + ARGS);
    Atomics.store(ctl, slot + STATE, 1);
    Atomics.notify(ctl, slot + STATE);
  }
  local();
  for (;;) {
    const done = Atomics.load(ctl, DONE);
    if (done >= helpers) break;
    // a browser's main thread may not block: it spins for the last tasks (see platform.browser.ts)
    if (CAN_WAIT) Atomics.wait(ctl, DONE, done, 1000);
  }
}

/** Ranges [i0, i1) cutting 0..n into `parts` near-equal pieces (the empty ones dropped). */
export function ranges(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < parts; t++) {
    const i0 = Math.floor((n * t) / parts);
    const i1 = Math.floor((n * (t + 1)) / parts);
    if (i1 > i0) out.push([i0, i1]);
  }
  return out;
}

/**
 * How many tasks to cut `work` units into (units of one kernel: elements, output elements) so each
 * has at least `minPerTask`: 1 (run here) on one thread or small work; up to 2 per thread, so a
 * thread whose core is busy with another process leaves its second task to the others.
 */
export function taskCount(work: number, minPerTask: number): number {
  const threads = Math.min(getThreads(), MAX_WORKERS + 1);
  if (threads <= 1) return 1;
  return Math.max(1, Math.min(2 * threads, Math.floor(work / minPerTask)));
}

/**
 * Runs independent kernel calls (each writes its own output range, so the result is the same for
 * any thread count and order), on the pool when there are several and its workers are up, else
 * one after another on this thread.
 */
export function runCalls(calls: readonly KernelCall[]): void {
  const rt = getRuntime();
  const local = (c: KernelCall) => (rt.kernels[c[0]] as (...a: number[]) => void)(...(c.slice(1) as number[]));
  const threads = Math.min(getThreads(), MAX_WORKERS + 1);
  const wantHelpers = Math.min(threads, calls.length) - 1;
  const up = wantHelpers < 1 || calls.length > MAX_CALLS ? 0 : ensureWorkers(wantHelpers);
  if (BLOCKING_START ? up < wantHelpers || up < 1 : up < 1) {
    for (const c of calls) local(c);
    return;
  }
  if (calls.some((c) => c.length - 1 > CALL_WORDS - 2)) throw new Error("runCalls: too many arguments for a task slot");
  const ctl = control();
  calls.forEach((c, t) => {
    const q = TASKS + t * CALL_WORDS;
    ctl[q] = KERNEL_NAMES.indexOf(c[0]);
    ctl[q + 1] = c.length - 1;
    ctl.set(c.slice(1) as number[], q + 2);
  });
  dispatch(up, OP_CALLS, () => [calls.length], () => {
    for (;;) {
      const t = Atomics.add(ctl, NEXT, 1);
      if (t >= calls.length) break;
      local(calls[t]!);
    }
  });
  if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`wasm backend: a worker thread failed in ${calls[0]![0]}`);
}
