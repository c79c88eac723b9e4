/**
 * @file ARCHITECTURE.md's one-way data flow, checked on the sources: base ← backend ← tensor/ops/autograd
 * ← nn/optim ← data/train/keras ← cli, with io and viz beside train. A folder may import its own
 * layer and the layers below, never one above (the lower layers form one package-internal cycle:
 * tensor methods call ops, ops record autograd nodes). base (dtypes, shapes, strides) imports nothing.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";

const SRC = new URL("../src/", import.meta.url).pathname;
const CORE = ["base", "backend", "tensor", "ops", "autograd", "linalg", "fused"];
const MODEL = [...CORE, "nn", "optim"];
const BESIDE_TRAIN = [...MODEL, "data", "datasets", "io", "viz"];
/** The folders each top-level source folder may import from. */
const ALLOWED: Record<string, readonly string[]> = {
  base: ["base"],
  backend: ["base", "backend"],
  tensor: CORE,
  ops: CORE,
  autograd: CORE,
  linalg: CORE,
  fused: CORE,
  nn: MODEL,
  optim: MODEL,
  jit: [...MODEL, "jit"],
  data: [...MODEL, "data", "datasets"],
  datasets: [...MODEL, "data", "datasets"],
  io: BESIDE_TRAIN,
  viz: BESIDE_TRAIN,
  train: [...BESIDE_TRAIN, "train"],
  keras: [...BESIDE_TRAIN, "train", "keras"],
};

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "assembly" && e.name !== "build") yield* sources(p);
    } else if (e.name.endsWith(".ts")) yield p;
  }
}

test("no source folder imports a layer above its own", () => {
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const [top] = relative(SRC, file).split("/");
    const allowed = ALLOWED[top!];
    if (allowed === undefined) continue; // cli and index.ts sit on top
    for (const m of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = relative(SRC, join(file, "..", m[1]!)).split("/")[0]!;
      if (target.startsWith("..")) continue; // outside src (e.g. package.json)
      if (target.endsWith(".ts") || !allowed.includes(target)) violations.push(`${relative(SRC, file)} imports ${m[1]} (${top} → ${target})`);
    }
  }
  assert.deepEqual(violations, []);
});

test("src/base/ imports nothing outside itself, not even Node's modules", () => {
  const violations: string[] = [];
  for (const file of sources(join(SRC, "base"))) {
    const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const m of code.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) if (!m[1]!.startsWith("./")) violations.push(`${relative(SRC, file)} imports ${m[1]}`);
  }
  assert.deepEqual(violations, []);
});

/** The backend modules the rest of src/ may import; a backend's internals (js/, wasm/, native/, the output pool) stay behind them. */
const BACKEND_FRONT = ["backend.ts", "fused.ts", "registry.ts", "public.ts"];

test("nothing outside backend/ imports a backend's internals", () => {
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (rel.startsWith("backend/")) continue;
    for (const m of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = relative(SRC, join(file, "..", m[1]!)).split("/");
      if (target[0] === "backend" && !(target.length === 2 && BACKEND_FRONT.includes(target[1]!))) violations.push(`${rel} imports ${m[1]}`);
    }
  }
  assert.deepEqual(violations, []);
});

/** Files under src/ outside `dirs`. */
function* outside(...dirs: string[]): Generator<[string, string]> {
  for (const file of sources(SRC)) {
    const rel = relative(SRC, file);
    if (!dirs.some((d) => rel.startsWith(`${d}/`))) yield [rel, readFileSync(file, "utf8")];
  }
}

test("only src/fused/ (the dispatcher) and the backends name a fused kernel", () => {
  const violations: string[] = [];
  for (const [rel, text] of outside("backend", "fused")) {
    if (/\.fused\b|\bfused\?\./.test(text)) violations.push(`${rel} reads a backend's fused table`);
    for (const m of text.matchAll(/from\s+"([^"]+)"/g)) if (/backend\/fused\.ts$|fused\/kernels\.ts$/.test(m[1]!)) violations.push(`${rel} imports ${m[1]}`);
  }
  assert.deepEqual(violations, []);
});
