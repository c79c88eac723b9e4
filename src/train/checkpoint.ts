/**
 * @file Training checkpoints for exact resumption: the model's state dict, the optimizer's state,
 * the random generators' states and any JSON (history, config) in one directory:
 * `model.safetensors`, `optimizer.safetensors` and `state.json`. The directory is replaced as a
 * whole (written beside it, then renamed), so an interrupt leaves the previous checkpoint intact.
 */
import { requireNode } from "../base/env.ts";
import { load, save } from "../io/files.ts";
import type { Module } from "../nn/module.ts";
import type { Optimizer, OptimizerStateDict } from "../optim/optimizer.ts";
import { defaultGenerator, type Generator } from "../tensor/random.ts";
import { Tensor } from "../tensor/tensor.ts";

const FORMAT = "tensorgrad-checkpoint-1";

/** What a checkpoint restores into. */
export interface CheckpointTargets {
  model: Module;
  optimizer?: Optimizer;
  /** Generators whose state is saved by name; the global one (tg.manualSeed's) is always saved as "global". */
  generators?: Record<string, Generator>;
}

/** Replaces every tensor in a JSON-like value by `{ $tensor: key }`, collecting the tensors. */
function splitTensors(value: unknown, path: string, out: Record<string, Tensor>): unknown {
  if (value instanceof Tensor) {
    out[path] = value.detach();
    return { $tensor: path };
  }
  if (Array.isArray(value)) return value.map((v, i) => splitTensors(v, `${path}.${i}`, out));
  if (value !== null && typeof value === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) o[k] = splitTensors(v, `${path}.${k}`, out);
    return o;
  }
  if (typeof value === "number" && !Number.isFinite(value)) return { $number: String(value) };
  return value;
}

function joinTensors(value: unknown, tensors: Record<string, Tensor>): unknown {
  if (Array.isArray(value)) return value.map((v) => joinTensors(v, tensors));
  if (value !== null && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.$tensor === "string") {
      const t = tensors[o.$tensor];
      if (t === undefined) throw new Error(`checkpoint: optimizer.safetensors lacks the tensor "${o.$tensor}"`);
      return t;
    }
    if (typeof o.$number === "string") return Number(o.$number);
    const r: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) r[k] = joinTensors(v, tensors);
    return r;
  }
  return value;
}

/**
 * Writes a checkpoint directory for `targets` plus `extra` (any JSON: epoch, history, config).
 * @example await tg.train.saveCheckpoint("runs/x/checkpoint", { model, optimizer }, { epoch: 3 })
 */
export async function saveCheckpoint(dir: string, targets: CheckpointTargets, extra: Record<string, unknown> = {}): Promise<void> {
  requireNode("train.saveCheckpoint", "it writes files");
  const fs = await import("node:fs/promises");
  const { dirname, basename, join } = await import("node:path");
  const parent = dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.tmp`);
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp);
  await save(targets.model.stateDict(), join(tmp, "model.safetensors"));
  let optimizer: unknown = null;
  if (targets.optimizer) {
    const tensors: Record<string, Tensor> = {};
    optimizer = splitTensors(targets.optimizer.stateDict(), "optimizer", tensors);
    await save(tensors, join(tmp, "optimizer.safetensors"));
  }
  const generators: Record<string, number[]> = { global: defaultGenerator.getState() };
  for (const [k, g] of Object.entries(targets.generators ?? {})) generators[k] = g.getState();
  const state = { format: FORMAT, savedAt: new Date().toISOString(), optimizer, generators, extra };
  await fs.writeFile(join(tmp, "state.json"), `${JSON.stringify(state, null, 1)}\n`);
  // swap: the old checkpoint is removed only once the new one is complete
  const old = join(parent, `.${basename(dir)}.${process.pid}.old`);
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(dir, old).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });
  await fs.rename(tmp, dir);
  await fs.rm(old, { recursive: true, force: true });
}

/**
 * Restores a checkpoint written by `saveCheckpoint` into `targets` (model weights, optimizer state,
 * generator states) and returns its `extra` JSON.
 */
export async function loadCheckpoint(dir: string, targets: CheckpointTargets): Promise<Record<string, unknown>> {
  requireNode("train.loadCheckpoint", "it reads files");
  const fs = await import("node:fs/promises");
  const { join } = await import("node:path");
  let text: string;
  try {
    text = await fs.readFile(join(dir, "state.json"), "utf8");
  } catch {
    throw new Error(`loadCheckpoint: ${dir} is not a checkpoint directory (no state.json)`);
  }
  const state = JSON.parse(text) as { format?: string; optimizer: unknown; generators: Record<string, number[]>; extra: Record<string, unknown> };
  if (state.format !== FORMAT) throw new Error(`loadCheckpoint: ${join(dir, "state.json")} is not a ${FORMAT} file`);
  targets.model.loadStateDict(await load(join(dir, "model.safetensors")));
  if (targets.optimizer) {
    if (state.optimizer === null) throw new Error(`loadCheckpoint: ${dir} holds no optimizer state`);
    const tensors = await load(join(dir, "optimizer.safetensors"));
    targets.optimizer.loadStateDict(joinTensors(state.optimizer, tensors) as OptimizerStateDict);
  }
  const gens = state.generators ?? {};
  if (gens.global) defaultGenerator.setState(gens.global);
  for (const [k, g] of Object.entries(targets.generators ?? {})) {
    const s = gens[k];
    if (s === undefined) throw new Error(`loadCheckpoint: ${dir} has no state for the generator "${k}"`);
    g.setState(s);
  }
  return state.extra ?? {};
}
