/**
 * @file Replays every PyTorch golden case in tests/golden/ops.json (written by generate.py):
 * forward values, shapes and dtypes, then gradients of every leaf, called both as `tg[op](...)`
 * and, where a Tensor method exists, as `x[op](...)`. One test per case, named by the case.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import * as tg from "../src/index.ts";

type ViewStep =
  | { transpose: [number, number] }
  | { permute: number[] }
  | { expand: number[] }
  | { narrow: [number, number, number] }
  | { unsqueeze: number }
  | { reshape: number[] };

interface TensorJson {
  data: (number | boolean)[];
  shape: number[];
  dtype?: tg.DType;
}

type InputSpec = { scalar: number } | (TensorJson & { dtype: tg.DType; requiresGrad: boolean; view?: ViewStep[] });

interface GoldenCase {
  name: string;
  op: string;
  inputs: InputSpec[];
  args: unknown[];
  output: TensorJson & { dtype: tg.DType };
  outputKey?: string | number;
  gradOutput?: TensorJson;
  grads?: (TensorJson | null)[];
  tol: { rtol: number; atol: number };
}

interface Golden {
  torch: string;
  callConventions: Record<string, string>;
  cases: GoldenCase[];
}

const golden = JSON.parse(readFileSync(new URL("./golden/ops.json", import.meta.url), "utf8")) as Golden;

/** Ops the API offers only as functions (no Tensor method to cross-check). */
const FUNCTION_ONLY = new Set(["cat", "stack", "linalg.solve", "linalg.inv", "linalg.lstsq", "zeros", "ones", "full", "arange", "linspace", "eye"]);
/** Ops called as a method only (callConventions "to" / "clone"). */
const METHOD_ONLY = new Set(["to", "clone"]);
const CREATION = new Set(["zeros", "ones", "full", "arange", "linspace", "eye"]);

/** A tensor of `dtype` and `shape` holding `data` in row-major order. */
function tensorOf(j: TensorJson, dtype: tg.DType): tg.Tensor {
  const flat = j.data.map(Number);
  const typed = dtype === "float64" ? Float64Array.from(flat) : Float32Array.from(flat);
  return tg.tensor(typed, { dtype }).reshape(j.shape);
}

function applyView(x: tg.Tensor, step: ViewStep): tg.Tensor {
  if ("transpose" in step) return x.transpose(...step.transpose);
  if ("permute" in step) return x.permute(step.permute);
  if ("expand" in step) return x.expand(step.expand);
  if ("narrow" in step) return x.narrow(...step.narrow);
  if ("unsqueeze" in step) return x.unsqueeze(step.unsqueeze);
  if ("reshape" in step) return x.reshape(step.reshape);
  throw new Error(`unknown view step ${JSON.stringify(step)}`);
}

interface Built {
  /** What the op receives: tensors with views applied, or plain numbers. */
  values: (tg.Tensor | number)[];
  /** The base tensor of each input that requires grad (null otherwise). */
  leaves: (tg.Tensor | null)[];
}

function buildInputs(c: GoldenCase): Built {
  const values: (tg.Tensor | number)[] = [];
  const leaves: (tg.Tensor | null)[] = [];
  for (const spec of c.inputs) {
    if ("scalar" in spec) {
      values.push(spec.scalar);
      leaves.push(null);
      continue;
    }
    const base = tensorOf(spec, spec.dtype);
    if (spec.requiresGrad) base.requiresGrad_(true);
    let x = base;
    for (const step of spec.view ?? []) x = applyView(x, step);
    values.push(x);
    leaves.push(spec.requiresGrad ? base : null);
  }
  return { values, leaves };
}

type OpFn = (...a: unknown[]) => unknown;

/** `tg[op]`, resolving dotted names (`linalg.solve` → `tg.linalg.solve`). */
function resolveFunction(op: string): OpFn {
  let f: unknown = tg;
  for (const part of op.split(".")) f = (f as Record<string, unknown>)[part];
  if (typeof f !== "function") throw new Error(`tg.${op} is not a function`);
  return f as OpFn;
}

/** Calls the op as a function, following the JSON's callConventions. */
function callFunction(c: GoldenCase, xs: (tg.Tensor | number)[]): unknown {
  if (CREATION.has(c.op)) return resolveFunction(c.op)(...c.args);
  switch (c.op) {
    case "cat":
    case "stack":
      return resolveFunction(c.op)(xs, ...c.args);
    case "gather":
      return tg.gather(xs[0] as tg.Tensor, c.args[0] as number, xs[1] as tg.Tensor);
    case "to":
      return (xs[0] as tg.Tensor).to(c.args[0] as tg.DType);
    case "clone":
      return tg.clone(xs[0] as tg.Tensor);
    default:
      return resolveFunction(c.op)(...xs, ...c.args);
  }
}

/** Calls the op as a Tensor method, or returns undefined when this case has no method form. */
function callMethod(c: GoldenCase, xs: (tg.Tensor | number)[]): { result: unknown } | undefined {
  if (FUNCTION_ONLY.has(c.op)) return undefined;
  if (c.op === "where") {
    // torch's x.where(condition, y)
    const [cond, x, y] = xs;
    return x instanceof tg.Tensor ? { result: x.where(cond!, y!) } : undefined;
  }
  if (c.op === "gather") return { result: (xs[0] as tg.Tensor).gather(c.args[0] as number, xs[1] as tg.Tensor) };
  if (c.op === "to") return { result: (xs[0] as tg.Tensor).to(c.args[0] as tg.DType) };
  const [self, ...rest] = xs;
  if (!(self instanceof tg.Tensor)) return undefined;
  const method = (self as unknown as Record<string, unknown>)[c.op];
  if (typeof method !== "function") throw new Error(`Tensor has no method ${c.op}`);
  return { result: (method as OpFn).call(self, ...rest, ...c.args) };
}

/** Picks the checked output: a list element (split, chunk) or a field ({ values, indices }). */
function pickOutput(c: GoldenCase, result: unknown): tg.Tensor {
  let out = result;
  if (c.outputKey !== undefined) out = (out as Record<string | number, unknown>)[c.outputKey];
  if (!(out instanceof tg.Tensor)) throw new Error(`${c.op} returned ${typeof out}, expected a Tensor`);
  return out;
}

/** Elementwise |actual − expected| ≤ atol + rtol·|expected|, NaN equal to NaN, naming the worst element. */
function assertClose(actual: ArrayLike<number>, expected: readonly (number | boolean)[], tol: GoldenCase["tol"], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual.length} elements, expected ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    const excess = Number.isNaN(a) || Number.isNaN(e) ? Number.POSITIVE_INFINITY : Math.abs(a - e) - (tol.atol + tol.rtol * Math.abs(e));
    if (excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0)
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${tol.rtol}, atol ${tol.atol})\n` +
        `  actual   [${Array.from(actual).slice(0, 12).join(", ")}${actual.length > 12 ? ", …" : ""}]\n` +
        `  expected [${expected.slice(0, 12).join(", ")}${expected.length > 12 ? ", …" : ""}]`,
    );
}

/** Runs one calling style of a case: forward, then backward through the base leaves. */
function check(c: GoldenCase, style: "function" | "method"): boolean {
  const { values, leaves } = buildInputs(c);
  let result: unknown;
  if (style === "function") result = callFunction(c, values);
  else {
    const called = callMethod(c, values);
    if (called === undefined) return false;
    result = called.result;
  }
  const out = pickOutput(c, result);
  const where = `${c.name} (${style})`;
  assert.deepEqual(out.shape, c.output.shape, `${where}: output shape`);
  assert.equal(out.dtype, c.output.dtype, `${where}: output dtype`);
  assertClose(out.dataSync(), c.output.data, c.tol, `${where}: output`);

  if (c.gradOutput === undefined || c.grads === undefined) return true;
  const g = tensorOf(c.gradOutput, out.dtype);
  // an output outside the graph (step) gives every leaf a zero gradient, as PyTorch's golden grads say
  if (out.requiresGrad) out.backward(g);
  c.grads.forEach((expected, i) => {
    const leaf = leaves[i];
    if (expected === null || expected === undefined) {
      assert.ok(leaf === null || leaf === undefined, `${where}: input ${i} requires grad but the golden case has no gradient for it`);
      return;
    }
    assert.ok(leaf, `${where}: golden gradient for input ${i}, which is not a leaf that requires grad`);
    const grad = leaf.grad ?? tg.zerosLike(leaf);
    assert.deepEqual(grad.shape, expected.shape, `${where}: grad ${i} shape`);
    assert.equal(grad.dtype, leaf.dtype, `${where}: grad ${i} dtype`);
    assertClose(grad.dataSync(), expected.data, c.tol, `${where}: grad of input ${i}`);
  });
  return true;
}

const methodChecked = new Set<string>();
const opsSeen = new Set<string>();

for (const c of golden.cases) {
  opsSeen.add(c.op);
  test(c.name, () => {
    if (!METHOD_ONLY.has(c.op)) check(c, "function");
    if (check(c, "method")) methodChecked.add(c.op);
  });
}

test("every op with a Tensor method was also called as a method", () => {
  const missing = [...opsSeen].filter((op) => !FUNCTION_ONLY.has(op) && !methodChecked.has(op));
  assert.deepEqual(missing, [], `ops never checked as methods: ${missing.join(", ")}`);
});

// ops.json cannot hold NaN (the generator writes strict JSON), so these PyTorch 1.13 results are pinned here.
test("NaN conventions (torch 1.13): nonzero and NaN are true as bool; max, argmax, maximum, relu, clamp propagate NaN", () => {
  const x = tg.tensor([1, Number.NaN, 3, 0]);
  assert.deepEqual(x.to("bool").toArray(), [true, true, true, false]);
  assert.deepEqual(tg.tensor([Number.NaN, 0, -0, 2], { dtype: "bool" }).toArray(), [true, false, false, true]);
  assert.deepEqual(tg.logicalNot(x).toArray(), [false, false, false, true]);
  assert.deepEqual(tg.where(tg.tensor([Number.NaN, 0]).to("bool"), 1, 2).toArray(), [1, 2]);
  assert.deepEqual(tg.full([2], 256, { dtype: "bool" }).toArray(), [true, true]);
  assert.ok(Number.isNaN(x.max().item()));
  assert.equal(x.argmax().item(), 1);
  const byDim = tg.tensor([[1, Number.NaN, 3]]).max(1);
  assert.ok(Number.isNaN(byDim.values.item()));
  assert.equal(byDim.indices.item(), 1);
  assert.deepEqual(tg.maximum(x, tg.tensor([2, 2, 2, 2])).toArray(), [2, Number.NaN, 3, 2]);
  assert.deepEqual(x.relu().toArray(), [1, Number.NaN, 3, 0]);
  assert.deepEqual(x.clamp(0, 2).toArray(), [1, Number.NaN, 2, 0]);
});
