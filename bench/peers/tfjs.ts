/**
 * @file TensorFlow.js as a peer, in-process: backends `wasm` (@tensorflow/tfjs-backend-wasm, SIMD;
 * single-threaded in Node) and `cpu` (pure JS). tfjs-node is not used: its install downloads
 * libtensorflow, which cannot work offline. W1 is here; W2–W4 come from tfjs-mnist.ts.
 */
import { createRequire } from "node:module";
import type { Figure, RunOptions, WorkloadId } from "../lib/figure.ts";
import { secondsPerCall, W1_FLOPS_PER_SAMPLE, W1_SIZES } from "../workloads/w1-sgemm.ts";
import { setTfWasmPaths, TFJS_MNIST_WORKLOADS } from "./tfjs-mnist.ts";
import type { Peer } from "./types.ts";

type TF = typeof import("@tensorflow/tfjs");

const BACKENDS = ["wasm", "cpu"] as const;

async function loadTf(backend: string): Promise<TF> {
  const tf = await import("@tensorflow/tfjs");
  await setTfWasmPaths(); // registers the wasm backend, its .wasm files read from node_modules
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} failed to initialise`);
  await tf.ready();
  return tf;
}

/** W1: tf.matMul on float32 [n, n] tensors, result read back (dataSync) and disposed, like tensorgrad's fresh output. */
async function w1(backend: string, opts: RunOptions): Promise<Figure[]> {
  const tf = await loadTf(backend);
  const out: Figure[] = [];
  for (const n of W1_SIZES) {
    const a = tf.randomUniform([n, n], 0, 1, "float32", n);
    const b = tf.randomUniform([n, n], 0, 1, "float32", n + 1);
    const flops = 2 * n ** 3;
    const iters = Math.max(1, Math.round((opts.scale * W1_FLOPS_PER_SAMPLE) / flops));
    const seconds = secondsPerCall(
      () => {
        const c = tf.matMul(a, b);
        const v = c.dataSync()[0];
        c.dispose();
        return v;
      },
      iters,
      opts.repeats,
    );
    a.dispose();
    b.dispose();
    out.push({
      framework: "tfjs",
      backend,
      threads: 1,
      workload: "W1",
      metric: "gflops",
      value: flops / seconds / 1e9,
      unit: "GFLOP/s",
      n,
    });
  }
  return out;
}

const WORKLOADS: Partial<Record<WorkloadId, (backend: string, opts: RunOptions) => Promise<Figure[]>>> = {
  W1: w1,
  ...TFJS_MNIST_WORKLOADS,
};

export const tfjsPeer: Peer = {
  name: "tfjs",
  unavailable() {
    const require = createRequire(import.meta.url);
    try {
      require.resolve("@tensorflow/tfjs");
      require.resolve("@tensorflow/tfjs-backend-wasm");
    } catch {
      return "@tensorflow/tfjs and @tensorflow/tfjs-backend-wasm are not installed (npm i -D them)";
    }
    return null;
  },
  supports: (w) => WORKLOADS[w] !== undefined,
  async run(workload, opts) {
    // tfjs runs one thread in Node (its wasm threads need Web Workers): it has only 1-thread figures
    if (opts.threads !== 1) {
      process.stderr.write(`bench: tfjs: ${workload} at ${opts.threads} threads skipped (tfjs runs 1 thread in Node)\n`);
      return [];
    }
    const fn = WORKLOADS[workload];
    if (fn === undefined) throw new Error(`tfjs: ${workload} not implemented`);
    const figures: Figure[] = [];
    for (const b of BACKENDS) figures.push(...(await fn(b, opts)));
    return figures;
  },
};
