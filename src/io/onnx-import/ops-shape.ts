/**
 * @file ONNX's shape and data-movement ops (Reshape, Transpose, Concat, Split, Slice, Gather,
 * Pad, …) and constants as tensorgrad views, `cat` and `gather`, so that they are differentiable.
 * Shape-valued inputs (int64 in ONNX, int32 here) are read as numbers at run time, which is
 * what makes dynamic batch dims work: `Shape → Gather → Concat → Reshape` sees the real batch.
 */
import { broadcastShapes, formatShape, normalizeDim, sizeOf } from "../../base/shape.ts";
import * as ops from "../../ops/index.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { axesOf, numbers, type OpRule, req, scalar } from "./attrs.ts";

/** The largest tensor a shape input may ask for (2²⁸ elements, 1 GiB of float32): a hostile shape is an Error, not an allocation. */
export const MAX_ELEMENTS = 2 ** 28;

export function checkShapeValues(shape: readonly number[], op: string): number[] {
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(shape) > MAX_ELEMENTS)
    throw new Error(`${op}: shape ${formatShape(shape)} is not a valid tensor shape (at most ${MAX_ELEMENTS} elements)`);
  return [...shape];
}

/** Picks positions `idx` along `dim` (one gather; differentiable). */
function take(x: Tensor, dim: number, idx: readonly number[]): Tensor {
  const args: (number | null | Tensor)[] = x.shape.map(() => null);
  args[dim] = ops.tensor([...idx], { dtype: "int32" });
  if (idx.length === 0) return x.narrow(dim, 0, 0);
  return x.index(...args.slice(0, dim + 1));
}

/** ONNX Slice's clamping of one axis: the positions start, start+step, … before end. */
function slicePositions(size: number, start: number, end: number, step: number): number[] {
  if (step === 0) throw new Error("steps must be non-zero");
  const norm = (v: number) => (v < 0 ? v + size : v);
  let s = norm(start);
  let e = norm(end);
  if (step > 0) {
    s = Math.min(Math.max(s, 0), size);
    e = Math.min(Math.max(e, 0), size);
  } else {
    s = Math.min(Math.max(s, -1), size - 1);
    e = Math.min(Math.max(e, -1), size - 1);
  }
  const out: number[] = [];
  for (let i = s; step > 0 ? i < e : i > e; i += step) out.push(i);
  return out;
}

function slice(x: Tensor, starts: number[], ends: number[], axes: number[] | undefined, steps: number[] | undefined): Tensor {
  const ax = axes === undefined ? starts.map((_, i) => i) : axesOf(axes, x.ndim, "Slice");
  if (ends.length !== starts.length || ax.length !== starts.length || (steps !== undefined && steps.length !== starts.length))
    throw new Error(`starts, ends, axes and steps must have one value per sliced axis, got ${starts.length}, ${ends.length}, ${ax.length}, ${steps?.length}`);
  let out = x;
  ax.forEach((d, i) => {
    const pos = slicePositions(out.shape[d]!, starts[i]!, ends[i]!, steps?.[i] ?? 1);
    const unit = pos.every((p, j) => p === pos[0]! + j);
    out = unit ? out.narrow(d, pos[0] ?? 0, pos.length) : take(out, d, pos);
  });
  return out;
}

/** ONNX Pad: `pads` = [x1_begin, x2_begin, …, x1_end, x2_end, …]; negative pads crop. */
export function pad(x: Tensor, pads: number[], mode: string, value: number): Tensor {
  const r = x.ndim;
  if (pads.length !== 2 * r) throw new Error(`pads must have 2 × rank = ${2 * r} values for input shape ${formatShape(x.shape)}, got ${pads.length}`);
  checkShapeValues(
    x.shape.map((d, i) => Math.max(0, d + pads[i]! + pads[i + r]!)),
    "Pad",
  );
  let out = x;
  for (let d = 0; d < r; d++) {
    let before = pads[d]!;
    let after = pads[d + r]!;
    if (before < 0 || after < 0) {
      const size = out.shape[d]!;
      const s = Math.max(0, -before);
      out = out.narrow(d, s, Math.max(0, size - s - Math.max(0, -after)));
      before = Math.max(0, before);
      after = Math.max(0, after);
    }
    if (before === 0 && after === 0) continue;
    const n = out.shape[d]!;
    if (mode === "constant") {
      const side = (k: number) => ops.full(out.shape.map((s, i) => (i === d ? k : s)), value, { dtype: out.dtype });
      out = ops.cat([...(before > 0 ? [side(before)] : []), out, ...(after > 0 ? [side(after)] : [])], d);
      continue;
    }
    if (n === 0) throw new Error(`mode "${mode}" cannot pad an empty axis ${d}`);
    const idx: number[] = [];
    const at = (i: number): number => {
      if (mode === "edge") return Math.min(Math.max(i, 0), n - 1);
      if (mode !== "reflect") throw new Error(`mode "${mode}" is not supported (constant, reflect and edge are)`);
      if (n === 1) return 0;
      const period = 2 * (n - 1);
      const m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    };
    for (let i = -before; i < n + after; i++) idx.push(at(i));
    out = take(out, d, idx);
  }
  return out;
}

function unsqueeze(x: Tensor, axes: number[]): Tensor {
  const rank = x.ndim + axes.length;
  const sorted = axesOf(axes, rank, "Unsqueeze").sort((p, q) => p - q);
  if (new Set(sorted).size !== sorted.length) throw new Error(`axes ${formatShape(axes)} repeat an axis`);
  return sorted.reduce((t, d) => t.unsqueeze(d), x);
}

/** Indices with negative entries counted from the end of a dim of `size`, as int32. */
const wrapIndices = (indices: Tensor, size: number) => ops.where(indices.lt(0), indices.add(size), indices).to("int32").contiguous();

/** `data` with `updates` written (reduction "none") or added at `index` along `axis`: scatterAdd, so it stays differentiable. */
function scatter(data: Tensor, axis: number, index: Tensor, updates: Tensor, reduction: string): Tensor {
  const u = updates.to(data.dtype);
  if (reduction === "add") return data.scatterAdd(axis, index, u);
  if (reduction !== "none") throw new Error(`reduction "${reduction}" is not supported (none and add are)`);
  const zeros = ops.zerosLike(data);
  const hit = zeros.scatterAdd(axis, index, ops.onesLike(u)).gt(0);
  return ops.where(hit, zeros.scatterAdd(axis, index, u), data);
}

/** GatherND / ScatterND indices [..., k] into `data` as row numbers of data viewed as [rows, ...data.shape[batch + k:]]. */
function ndRows(data: Tensor, indices: Tensor, batchDims: number): { rows: number[]; k: number } {
  const k = indices.shape[indices.ndim - 1]!;
  if (batchDims + k > data.ndim) throw new Error(`indices of depth ${k} with ${batchDims} batch dims do not fit data shape ${formatShape(data.shape)}`);
  const dims = data.shape.slice(batchDims, batchDims + k);
  const per = sizeOf(dims);
  const values = numbers(indices, "indices");
  const count = values.length / Math.max(k, 1);
  const perBatch = count / Math.max(1, sizeOf(indices.shape.slice(0, batchDims)));
  const rows: number[] = [];
  for (let r = 0; r < count; r++) {
    let row = Math.floor(r / perBatch) * per;
    let stride = per;
    for (let j = 0; j < k; j++) {
      const d = dims[j]!;
      const v = values[r * k + j]!;
      if (v < -d || v >= d) throw new Error(`index ${v} is out of range for a dim of size ${d}`);
      stride /= d;
      row += (v < 0 ? v + d : v) * stride;
    }
    rows.push(row);
  }
  return { rows, k };
}

/** For each line of `x` along `axis`, the positions ordered by value (largest first when `largest`; ties: lower index first). */
function order(x: Tensor, axis: number, largest: boolean, k: number): Tensor {
  const moved = x.transpose(axis, -1).contiguous();
  const n = moved.shape[moved.ndim - 1]!;
  if (k < 0 || k > n) throw new Error(`k = ${k} is out of range for axis ${axis} of size ${n}`);
  const data = moved.dataSync();
  const lines = n === 0 ? 0 : data.length / n;
  const out = new Int32Array(lines * k);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let l = 0; l < lines; l++) {
    const v = (i: number) => Number(data[l * n + i]);
    idx.sort((p, q) => (largest ? v(q) - v(p) : v(p) - v(q)) || p - q);
    for (let j = 0; j < k; j++) out[l * k + j] = idx[j]!;
    idx.sort((p, q) => p - q);
  }
  return ops.tensor(out, { dtype: "int32" }).reshape([...moved.shape.slice(0, -1), k]).transpose(axis, -1).contiguous();
}

export const SHAPE_OPS: Record<string, OpRule> = {
  TopK: (x, a, opset) => {
    const input = req(x, 0);
    const axis = normalizeDim(a.int("axis", -1), input.ndim, "TopK");
    const k = opset < 10 ? a.int("k", 1) : (scalar(x[1], null, "K") as number);
    const indices = order(input, axis, a.int("largest", 1) === 1, k);
    return [input.gather(axis, indices), indices];
  },
  NonZero: (x) => {
    const input = req(x, 0).contiguous();
    const data = input.dataSync();
    const coords: number[][] = input.shape.map(() => []);
    const strides = input.shape.map((_, i) => sizeOf(input.shape.slice(i + 1)));
    for (let i = 0; i < data.length; i++) {
      if (!data[i]) continue;
      for (let d = 0; d < strides.length; d++) coords[d]!.push(Math.floor(i / strides[d]!) % input.shape[d]!);
    }
    const count = coords[0]?.length ?? (data.length > 0 && data[0] ? 1 : 0);
    return ops.tensor(coords.flat(), { dtype: "int32" }).reshape([input.ndim, count]);
  },
  Compress: (x, a) => {
    const input = req(x, 0);
    const keep = numbers(req(x, 1), "condition").flatMap((c, i) => (c ? [i] : []));
    const axis = a.int("axis");
    if (axis === undefined) return take(input.reshape([-1]), 0, keep.filter((i) => i < input.numel()));
    const d = normalizeDim(axis, input.ndim, "Compress");
    return take(input, d, keep.filter((i) => i < input.shape[d]!));
  },
  GatherND: (x, a) => {
    const data = req(x, 0);
    const indices = req(x, 1);
    const b = a.int("batch_dims", 0);
    const { rows, k } = ndRows(data, indices, b);
    const flat = data.reshape([-1, ...data.shape.slice(b + k)]);
    return take(flat, 0, rows).reshape([...indices.shape.slice(0, -1), ...data.shape.slice(b + k)]);
  },
  ScatterND: (x, a) => {
    const data = req(x, 0);
    const { rows, k } = ndRows(data, req(x, 1), 0);
    const rest = data.shape.slice(k);
    const flat = data.reshape([-1, ...rest]);
    const updates = req(x, 2).reshape([rows.length, ...rest]);
    const index = ops.tensor(rows, { dtype: "int32" }).reshape([rows.length, ...rest.map(() => 1)]).expand(updates.shape).contiguous();
    return scatter(flat, 0, index, updates, a.string("reduction", "none")).reshape(data.shape);
  },
  ScatterElements: (x, a) => {
    const data = req(x, 0);
    const axis = normalizeDim(a.int("axis", 0), data.ndim, "ScatterElements");
    return scatter(data, axis, wrapIndices(req(x, 1), data.shape[axis]!), req(x, 2), a.string("reduction", "none"));
  },
  Scatter: (x, a) => {
    const data = req(x, 0);
    const axis = normalizeDim(a.int("axis", 0), data.ndim, "Scatter");
    return scatter(data, axis, wrapIndices(req(x, 1), data.shape[axis]!), req(x, 2), "none");
  },
  Identity: (x) => req(x, 0),
  Dropout: (x) => {
    const input = req(x, 0);
    return [input, ops.onesLike(input).ne(0)];
  },
  Constant: (_x, a) => {
    const t = a.tensor("value");
    if (t !== undefined) return t;
    if (a.has("value_float")) return ops.tensor(a.float("value_float", 0));
    if (a.has("value_floats")) return ops.tensor(a.floats("value_floats")!);
    if (a.has("value_int")) return ops.tensor(a.int("value_int", 0), { dtype: "int32" });
    if (a.has("value_ints")) return ops.tensor(a.ints("value_ints")!, { dtype: "int32" });
    throw new Error("Constant: only value, value_float(s) and value_int(s) are supported (sparse and string values are not)");
  },
  ConstantOfShape: (x, a) => {
    const shape = checkShapeValues(x[0] === undefined ? [] : numbers(x[0], "shape"), "ConstantOfShape");
    const v = a.tensor("value");
    if (v === undefined) return ops.zeros(shape);
    return ops.full(shape, v.dtype === "bool" ? Boolean(v.dataSync()[0]) : Number(v.dataSync()[0] ?? 0), { dtype: v.dtype });
  },
  Shape: (x, a) => {
    const shape = req(x, 0).shape;
    const r = shape.length;
    const clampDim = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const start = clampDim(a.int("start", 0));
    const end = clampDim(a.int("end", r));
    return ops.tensor(shape.slice(start, Math.max(start, end)), { dtype: "int32" });
  },
  Size: (x) => ops.tensor(req(x, 0).numel(), { dtype: "int32" }),
  Reshape: (x, a) => {
    const input = req(x, 0);
    const allowZero = a.int("allowzero", 0) === 1;
    const shape = (a.ints("shape") ?? numbers(x[1], "shape")).map((d, i) => (d === 0 && !allowZero ? input.shape[i]! : d));
    return input.reshape(shape);
  },
  Flatten: (x, a) => {
    const input = req(x, 0);
    const given = a.int("axis", 1);
    const axis = given < 0 ? given + input.ndim : given;
    if (axis < 0 || axis > input.ndim) throw new Error(`axis ${given} is out of range for input shape ${formatShape(input.shape)}`);
    const rows = sizeOf(input.shape.slice(0, axis));
    return input.reshape([rows, sizeOf(input.shape.slice(axis))]);
  },
  Transpose: (x, a) => {
    const input = req(x, 0);
    return input.permute(a.ints("perm") ?? input.shape.map((_, i) => input.ndim - 1 - i));
  },
  Squeeze: (x, a, opset) => {
    const input = req(x, 0);
    const axes = opset >= 13 ? (x[1] === undefined ? undefined : numbers(x[1], "axes")) : a.ints("axes");
    if (axes === undefined) return input.squeeze();
    const dims = axesOf(axes, input.ndim, "Squeeze");
    for (const d of dims) if (input.shape[d] !== 1) throw new Error(`cannot squeeze axis ${d} of size ${input.shape[d]} (shape ${formatShape(input.shape)})`);
    return input.squeeze(dims);
  },
  Unsqueeze: (x, a, opset) => unsqueeze(req(x, 0), opset >= 13 ? numbers(x[1], "axes") : (a.ints("axes") ?? [])),
  Concat: (x, a) => {
    const parts = x.filter((t): t is Tensor => t !== undefined);
    const axis = a.int("axis");
    if (axis === undefined) throw new Error('Concat needs the attribute "axis"');
    return ops.cat(parts, normalizeDim(axis, parts[0]?.ndim ?? 1, "Concat"));
  },
  Split: (x, a, opset, outputs) => {
    const input = req(x, 0);
    const axis = normalizeDim(a.int("axis", 0), input.ndim, "Split");
    const given = opset >= 13 ? (x[1] === undefined ? undefined : numbers(x[1], "split")) : a.ints("split");
    const size = input.shape[axis]!;
    const n = a.int("num_outputs") ?? outputs;
    const sizes = given ?? Array.from({ length: n }, (_, i) => Math.min(Math.ceil(size / n), Math.max(0, size - i * Math.ceil(size / n))));
    return input.split(sizes, axis);
  },
  Gather: (x, a) => {
    const data = req(x, 0);
    const indices = req(x, 1);
    const axis = normalizeDim(a.int("axis", 0), data.ndim, "Gather");
    const size = data.shape[axis]!;
    const flat = numbers(indices, "indices").map((i) => {
      if (i < -size || i >= size) throw new Error(`index ${i} is out of range for axis ${axis} of size ${size}`);
      return i < 0 ? i + size : i;
    });
    const picked = take(data, axis, flat);
    return picked.reshape([...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)]);
  },
  GatherElements: (x, a) => {
    const data = req(x, 0);
    const axis = normalizeDim(a.int("axis", 0), data.ndim, "GatherElements");
    const indices = req(x, 1);
    const size = data.shape[axis]!;
    return data.gather(axis, wrapIndices(indices, size));
  },
  Slice: (x, a, opset) => {
    const input = req(x, 0);
    if (opset < 10) return slice(input, a.ints("starts") ?? [], a.ints("ends") ?? [], a.ints("axes"), undefined);
    const opt = (i: number) => (x[i] === undefined ? undefined : numbers(x[i], "Slice"));
    return slice(input, numbers(x[1], "starts"), numbers(x[2], "ends"), opt(3), opt(4));
  },
  Pad: (x, a, opset) => {
    const input = req(x, 0);
    const mode = a.string("mode", "constant");
    if (opset < 11) return pad(input, a.ints("pads") ?? [], mode, a.float("value", 0));
    let pads = numbers(x[1], "pads");
    if (x[3] !== undefined) {
      // opset 18's axes: pads only for these axes
      const axes = axesOf(numbers(x[3], "axes"), input.ndim, "Pad");
      const full = new Array<number>(2 * input.ndim).fill(0);
      axes.forEach((d, i) => {
        full[d] = pads[i]!;
        full[d + input.ndim] = pads[i + axes.length]!;
      });
      pads = full;
    }
    return pad(input, pads, mode, scalar(x[2], 0, "constant_value") ?? 0);
  },
  Expand: (x) => {
    const input = req(x, 0);
    const shape = checkShapeValues(broadcastShapes(input.shape, numbers(x[1], "shape"), "Expand"), "Expand");
    return input.expand(shape);
  },
  Tile: (x) => {
    const input = req(x, 0);
    const repeats = numbers(x[1], "repeats");
    if (repeats.length !== input.ndim) throw new Error(`repeats must have ${input.ndim} values, got ${repeats.length}`);
    const out = checkShapeValues(input.shape.map((d, i) => d * repeats[i]!), "Tile");
    const inter = input.reshape(input.shape.flatMap((d) => [1, d]));
    return inter.expand(input.shape.flatMap((d, i) => [repeats[i]!, d])).reshape(out);
  },
  Range: (x) => {
    const [start, limit, delta] = [0, 1, 2].map((i) => scalar(req(x, i), 0, "Range") as number);
    const n = Math.max(0, Math.ceil((limit! - start!) / delta!));
    checkShapeValues([n], "Range");
    const values = Array.from({ length: n }, (_, i) => start! + i * delta!);
    return ops.tensor(values, { dtype: req(x, 0).dtype });
  },
  DepthToSpace: (x, a) => {
    const input = req(x, 0);
    const b = a.int("blocksize", 1);
    const [n, c, h, w] = input.shape as [number, number, number, number];
    const crd = a.string("mode", "DCR") === "CRD";
    const split = crd ? input.reshape([n, c / (b * b), b, b, h, w]) : input.reshape([n, b, b, c / (b * b), h, w]);
    const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
    return split.permute(perm).reshape([n, c / (b * b), h * b, w * b]);
  },
  SpaceToDepth: (x, a) => {
    const input = req(x, 0);
    const b = a.int("blocksize", 1);
    const [n, c, h, w] = input.shape as [number, number, number, number];
    return input
      .reshape([n, c, h / b, b, w / b, b])
      .permute([0, 3, 5, 1, 2, 4])
      .reshape([n, c * b * b, h / b, w / b]);
  },
};
