/**
 * @file onnxruntime-node as a peer, W4 only (ORT is an inference engine): the W2 MLP with a
 * tensorgrad model's freshly initialised weights, exported by tensorgrad's own ONNX exporter
 * (`tg.onnx.exportModel`), run on ORT's CPU execution provider with `intraOpNumThreads = threads`.
 * Each call: an ort.Tensor over the floats, `session.run` (a Promise in ORT's Node API), the
 * logits read back. Same loop as tensorgrad's (../lib/mnist-train.ts).
 */
import { createRequire } from "node:module";
import * as tg from "../../src/index.ts";
import type { Figure, RunOptions } from "../lib/figure.ts";
import { type InferAdapter, PIXELS, runW4 } from "../lib/mnist-train.ts";
import { mlp } from "../workloads/mnist-models.ts";
import type { Peer } from "./types.ts";

/** The W2 MLP (tensorgrad's default initialisation, seed 0) as a serialized ONNX model. */
export function w2Onnx(): Uint8Array {
  tg.manualSeed(0);
  return tg.onnx.exportModel(mlp(), tg.zeros([1, PIXELS]));
}

async function w4(opts: RunOptions): Promise<Figure[]> {
  const ort = await import("onnxruntime-node");
  const session = await ort.InferenceSession.create(w2Onnx(), {
    executionProviders: ["cpu"],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const adapter: InferAdapter = {
    async infer(x, n) {
      const out = await session.run({ input: new ort.Tensor("float32", x, [n, PIXELS]) });
      return out.output!.data as Float32Array;
    },
  };
  try {
    const r = await runW4(adapter, opts);
    const base = { framework: "onnxruntime", backend: "cpu", threads: opts.threads, workload: "W4" as const };
    return [
      { ...base, metric: "latency_ms_batch1", value: r.latencyMs, unit: "ms" },
      { ...base, metric: "samples_per_s_batch256", value: r.samplesPerS, unit: "samples/s" },
    ];
  } finally {
    await session.release();
  }
}

export const onnxruntimePeer: Peer = {
  name: "onnxruntime",
  unavailable() {
    const require = createRequire(import.meta.url);
    try {
      const version = (require("onnxruntime-node/package.json") as { version: string }).version;
      process.stderr.write(`[onnxruntime] onnxruntime-node ${version}\n`);
    } catch {
      return "onnxruntime-node is not installed (npm i -D onnxruntime-node --ignore-scripts)";
    }
    if (typeof tg.onnx?.exportModel !== "function") return "tensorgrad has no ONNX exporter (tg.onnx.exportModel) to give it the model";
    return null;
  },
  supports: (w) => w === "W4",
  run(workload, opts) {
    if (workload !== "W4") throw new Error(`onnxruntime: ${workload} not implemented (inference only)`);
    return w4(opts);
  },
};
