/**
 * @file The PLAYGROUND workload's browser side: a module Worker (bundled by
 * ../workloads/playground.ts with scripts/build-browser.ts's esbuild plugin) that runs W2's
 * throughput loop — the very `runW2Throughput`, model and adapter the Node side runs — on wasm in
 * headless Chromium, on the training split the driver serves as raw bytes (train-x.bin: float32
 * [8000·784], train-y.bin: int32 [8000], little-endian, exactly `tg.datasets.mnist`'s arrays).
 *
 * Message in: `{ threads, scale }`. Message out: the result (`WorkerResult`) or `{ error }`.
 */
import * as tg from "../../src/index.ts";
import { runW2Throughput, type Split } from "../lib/mnist-train.ts";
import { mlp, trainAdapter } from "../workloads/mnist-models.ts";

export interface WorkerRequest {
  threads: number;
  scale: number;
}

export interface WorkerResult {
  samplesPerS: number;
  lastLoss: number;
  backend: string;
  /** tg.backend.threads(): the kernels' thread count, the Worker's own thread included. */
  threads: number;
  /** Pool workers up when the timing started (threads − 1 when the pool is complete). */
  poolWorkers: number;
  isolated: boolean;
  userAgent: string;
}

const scope = globalThis as unknown as {
  postMessage(m: WorkerResult | { error: string }): void;
  onmessage: ((e: { data: WorkerRequest }) => void) | null;
  crossOriginIsolated?: boolean;
  navigator?: { userAgent?: string };
};

async function bytes(name: string): Promise<ArrayBuffer> {
  const res = await fetch(new URL(`./${name}`, import.meta.url));
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

async function run({ threads, scale }: WorkerRequest): Promise<WorkerResult> {
  tg.backend.setThreads(threads);
  // fetches and compiles the kernels, and starts the Web Worker pool (it needs this thread to yield)
  await tg.backend.ready();
  tg.backend.use("wasm");
  const [xb, yb] = await Promise.all([bytes("train-x.bin"), bytes("train-y.bin")]);
  const train: Split = { x: new Float32Array(xb), y: new Int32Array(yb), n: yb.byteLength / 4 };
  tg.manualSeed(0);
  const adapter = trainAdapter(mlp(), false);
  const poolWorkers = tg.backend.wasmWorkers();
  const r = await runW2Throughput(adapter, train, scale);
  return {
    ...r,
    backend: tg.backend.current(),
    threads: tg.backend.threads(),
    poolWorkers,
    isolated: scope.crossOriginIsolated === true,
    userAgent: scope.navigator?.userAgent ?? "",
  };
}

scope.onmessage = (e) => {
  run(e.data).then(
    (r) => scope.postMessage(r),
    (err: unknown) => scope.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
};
