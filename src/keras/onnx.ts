/**
 * @file How `tg.keras` models export to ONNX: their rules, registered with the exporter in io
 * (which sits beside keras and never imports it).
 */
import { int, ints } from "../io/onnx-graph.ts";
import { type Convert, describe, registerRule, reshape, rule, scopeOf, sequential, type Value } from "../io/onnx-layers.ts";
import { arange } from "../ops/creation.ts";
import { sizeOf } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { Reshape as KerasReshape } from "./layers.ts";
import { KerasSequential } from "./model.ts";

/** Keras' Reshape: [N, ...] → [N, ...targetShape]. */
const kerasReshape: Convert<KerasReshape> = (ctx, m, path, x) => reshape(ctx, scopeOf(path), x, m.forward(x.tensor), true);

/** What the model's first child receives when the model is called on `t` (a Keras model's input preparation). */
function preparedInput(m: KerasSequential, t: Tensor): Tensor {
  const first = m.children()[0];
  if (first === undefined) return m.call(t) as Tensor;
  let seen: Tensor | undefined;
  const remove = first.registerForwardPreHook((_, inputs) => {
    seen = inputs[0] as Tensor;
    return undefined;
  });
  try {
    m.call(t);
  } finally {
    remove();
  }
  return seen!;
}

/**
 * A Keras model reshapes flat rows to its input shape and transposes NHWC images before its
 * layers. Which element goes where is found by preparing a sample holding 0, 1, 2, …: in
 * order, it is a Reshape; NHWC → NCHW, a Transpose; anything else, a Gather.
 */
const kerasSequential: Convert<KerasSequential> = (ctx, m, path, x) => {
  if (!m.built) throw new Error(`onnx.exportModel: ${describe(path, m)} is not built yet; start it with tg.keras.input(shape) or call it once`);
  const { g } = ctx;
  const scope = scopeOf(path);
  const prepared = preparedInput(m, x.tensor);
  const sample = x.tensor.shape.slice(1);
  const order = Array.from(preparedInput(m, arange(sizeOf(sample), undefined, 1, { dtype: "float32" }).reshape([1, ...sample])).dataSync());
  const inner = prepared.shape.slice(1);
  let value: Value;
  if (order.every((v, i) => v === i)) value = inner.join() === sample.join() ? { ...x, tensor: prepared } : reshape(ctx, scope, x, prepared, true);
  else if (inner.length === 3 && order.join() === nhwcOrder(inner as [number, number, number]).join()) {
    const [c, h, w] = inner as [number, number, number];
    const nhwc = sample.join() === [h, w, c].join() ? x : reshape(ctx, scope, x, x.tensor.reshape([x.tensor.shape[0]!, h, w, c]), true);
    value = { name: g.node(scope, "Transpose", [nhwc.name], [ints("perm", [0, 3, 1, 2])]), tensor: prepared, batched: x.batched };
  } else {
    const flat = reshape(ctx, scope, x, x.tensor.reshape([x.tensor.shape[0]!, sizeOf(sample)]), true);
    const gathered = g.node(scope, "Gather", [flat.name, g.int64s(scope, "order", order)], [int("axis", 1)]);
    value = reshape(ctx, scope, { ...flat, name: gathered }, prepared, true);
  }
  return sequential(ctx, m, path, value);
};

/** For an NCHW sample [c, h, w], the NHWC index each element comes from. */
function nhwcOrder([c, h, w]: [number, number, number]): number[] {
  const out: number[] = [];
  for (let ci = 0; ci < c; ci++) for (let hi = 0; hi < h; hi++) for (let wi = 0; wi < w; wi++) out.push((hi * w + wi) * c + ci);
  return out;
}

registerRule(rule("tg.keras Reshape", KerasReshape, kerasReshape));
registerRule(
  rule("tg.keras sequential models", KerasSequential, kerasSequential, (m, shape) => {
    if (!m.built) m.build(shape);
  }),
);
