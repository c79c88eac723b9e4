/**
 * @file Training checkpoints for exact resumption: the model's state dict, the optimizer's state,
 * the random generators' states and any JSON (history, config) in one directory:
 * `state.json` and the `model.*.safetensors` and `optimizer.*.safetensors` files it names; replacing
 * `state.json` (one rename) switches from one checkpoint to the next, so a crash loses neither.
 */
import { requireNode } from "../base/env.ts";
import { load, save, writeFileAtomic } from "../io/files.ts";
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

let saves = 0;

/**
 * Writes a checkpoint directory for `targets` plus `extra` (any JSON: epoch, history, config).
 * The tensors go to files named for this save, then `state.json`, which names them, replaces the
 * previous one in a single rename (each file fsynced, then its directory): a crash at any instant
 * leaves the old or the new checkpoint, whole. Files of older or interrupted saves are then removed.
 * @example await tg.train.saveCheckpoint("runs/x/checkpoint", { model, optimizer }, { epoch: 3 })
 */
export async function saveCheckpoint(dir: string, targets: CheckpointTargets, extra: Record<string, unknown> = {}): Promise<void> {
  requireNode("train.saveCheckpoint", "it writes files");
  const fs = await import("node:fs/promises");
  const { join } = await import("node:path");
  await fs.mkdir(dir, { recursive: true });
  const tag = `${Date.now().toString(36)}-${process.pid}-${saves++}`;
  const files: Record<string, string> = { model: `model.${tag}.safetensors` };
  await save(targets.model.stateDict(), join(dir, files.model!));
  let optimizer: unknown = null;
  if (targets.optimizer) {
    const tensors: Record<string, Tensor> = {};
    optimizer = splitTensors(targets.optimizer.stateDict(), "optimizer", tensors);
    files.optimizer = `optimizer.${tag}.safetensors`;
    await save(tensors, join(dir, files.optimizer));
  }
  const generators: Record<string, number[]> = { global: defaultGenerator.getState() };
  for (const [k, g] of Object.entries(targets.generators ?? {})) generators[k] = g.getState();
  const state = { format: FORMAT, savedAt: new Date().toISOString(), files, optimizer, generators, extra };
  await writeFileAtomic(join(dir, "state.json"), [new TextEncoder().encode(`${JSON.stringify(state, null, 1)}\n`)], "saveCheckpoint");
  const keep = new Set(["state.json", ...Object.values(files)]);
  // best effort: the new checkpoint is in place, and what stays is removed by the next save
  for (const name of await fs.readdir(dir).catch(() => []))
    if (!keep.has(name) && /^(model|optimizer)\b.*\.safetensors$|^\..*\.tmp$/.test(name)) await fs.rm(join(dir, name), { force: true }).catch(() => {});
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
  const state = JSON.parse(text) as { format?: string; files?: Record<string, string>; optimizer: unknown; generators: Record<string, number[]>; extra: Record<string, unknown> };
  if (state.format !== FORMAT) throw new Error(`loadCheckpoint: ${join(dir, "state.json")} is not a ${FORMAT} file`);
  // checkpoints written before state.json named the files used fixed names
  const files = { model: "model.safetensors", optimizer: "optimizer.safetensors", ...state.files };
  targets.model.loadStateDict(await load(join(dir, files.model)));
  if (targets.optimizer) {
    if (state.optimizer === null) throw new Error(`loadCheckpoint: ${dir} holds no optimizer state`);
    const tensors = await load(join(dir, files.optimizer));
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
