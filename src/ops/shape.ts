/** @file Shape ops: views (reshape, permute, expand, narrow) that share storage, plus cat, gather and indexing. */
import { promoteTypes } from "../base/dtype.ts";
import { contiguousStrides, formatShape, normalizeDim, shapesEqual, sizeOf } from "../base/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { asTensor, checkTensor, fromKernel, kernels, record } from "./core.ts";

/** Accepts `f(2, 3)` and `f([2, 3])` alike. */
export function shapeArgs(args: readonly (number | readonly number[])[]): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return [...(args[0] as readonly number[])];
  return args as number[];
}

/** A view of `t`'s storage (no copy) with new geometry. */
function viewOf(t: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  return new Tensor(t.data, t.dtype, shape, strides, offset);
}

/** Resolves one -1 in a requested shape against `numel`. */
function inferShape(shape: readonly number[], numel: number, op: string, from: readonly number[]): number[] {
  let unknown = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (unknown >= 0) throw new Error(`${op}: only one dimension can be -1, got ${formatShape(shape)}`);
      unknown = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: invalid shape ${formatShape(shape)}`);
    } else known *= d;
  });
  const out = [...shape];
  if (unknown >= 0) {
    if (known === 0 || numel % known !== 0)
      throw new Error(`${op}: shape ${formatShape(shape)} is invalid for input of shape ${formatShape(from)} (${numel} elements)`);
    out[unknown] = numel / known;
  } else if (known !== numel) {
    throw new Error(`${op}: shape ${formatShape(shape)} is invalid for input of shape ${formatShape(from)} (${numel} elements)`);
  }
  return out;
}

/** A contiguous tensor with the same values: `x` itself when it already is. */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return clone(x);
}

/** A copy of `x` with its own contiguous storage (differentiable). */
export function clone(x: Tensor): Tensor {
  checkTensor(x, "clone");
  return record("contiguous", [x], fromKernel(kernels().copy(x, x.dtype), x.dtype, x.shape), null);
}

/** The same elements in a new shape (one dim may be -1); a view when `x` is contiguous, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "reshape");
  const target = inferShape(shape, x.numel(), "reshape", x.shape);
  if (shapesEqual(target, x.shape)) return x;
  const src = contiguous(x);
  return record("reshape", [src], viewOf(src, target, contiguousStrides(target), src.offset), null);
}

/** Like `reshape` but never copies: throws for a non-contiguous tensor. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "view");
  if (!x.isContiguous())
    throw new Error(`view: the input of shape ${formatShape(x.shape)} is not contiguous; use reshape() (which copies) instead`);
  return reshape(x, shape);
}

/** Merges dims `startDim..endDim` into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  checkTensor(x, "flatten");
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim(startDim, x.ndim, "flatten");
  const e = normalizeDim(endDim, x.ndim, "flatten");
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

/** Reorders the dims (a view). */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, "permute");
  if (dims.length !== x.ndim)
    throw new Error(`permute: got ${dims.length} dims ${formatShape(dims)} for a tensor of shape ${formatShape(x.shape)}`);
  const d = dims.map((v) => normalizeDim(v, x.ndim, "permute"));
  if (new Set(d).size !== d.length) throw new Error(`permute: dims ${formatShape(dims)} repeat an axis`);
  return record(
    "permute",
    [x],
    viewOf(
      x,
      d.map((i) => x.shape[i]!),
      d.map((i) => x.strides[i]!),
      x.offset,
    ),
    { dims: d },
  );
}

/** Swaps two dims (a view). */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  checkTensor(x, "transpose");
  const a = normalizeDim(dim0, x.ndim, "transpose");
  const b = normalizeDim(dim1, x.ndim, "transpose");
  if (a === b) return x;
  const dims = Array.from({ length: x.ndim }, (_, i) => (i === a ? b : i === b ? a : i));
  return permute(x, dims);
}

/** Transpose of a matrix; 0-D and 1-D tensors are returned unchanged. */
export function t(x: Tensor): Tensor {
  checkTensor(x, "t");
  if (x.ndim > 2) throw new Error(`t: expects a tensor with at most 2 dims, got shape ${formatShape(x.shape)} (use transpose)`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Repeats size-1 dims (and new leading dims) to `shape` without copying; -1 keeps a size. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, "expand");
  if (shape.length < x.ndim)
    throw new Error(`expand: target shape ${formatShape(shape)} has fewer dims than the input shape ${formatShape(x.shape)}`);
  const lead = shape.length - x.ndim;
  const outShape: number[] = [];
  const strides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const own = i < lead ? undefined : x.shape[i - lead]!;
    const want = shape[i] === -1 && own !== undefined ? own : shape[i]!;
    if (own === undefined) {
      if (want < 0) throw new Error(`expand: -1 is not allowed for the new leading dim ${i} in ${formatShape(shape)}`);
      strides.push(0);
    } else if (own === want) strides.push(x.strides[i - lead]!);
    else if (own === 1) strides.push(0);
    else
      throw new Error(
        `expand: cannot expand shape ${formatShape(x.shape)} to ${formatShape(shape)} (dim ${i}: ${own} is not 1 and differs from ${want})`,
      );
    outShape.push(want);
  }
  if (shapesEqual(outShape, x.shape)) return x;
  return record("expand", [x], viewOf(x, outShape, strides, x.offset), null);
}

/** Removes size-1 dims (all of them, or those given). */
export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  checkTensor(x, "squeeze");
  const dims = dim === undefined ? null : (typeof dim === "number" ? [dim] : dim).map((d) => normalizeDim(d, x.ndim, "squeeze"));
  const shape = x.shape.filter((d, i) => !(d === 1 && (dims === null || dims.includes(i))));
  return reshape(x, shape);
}

/** Inserts a size-1 dim at `dim` (which may be ndim, or negative). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  checkTensor(x, "unsqueeze");
  const d = normalizeDim(dim, x.ndim + 1, "unsqueeze");
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return reshape(x, shape);
}

/** The slice `start .. start+length` along `dim` (a view). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  checkTensor(x, "narrow");
  const d = normalizeDim(dim, x.ndim, "narrow");
  const size = x.shape[d]!;
  const s = start < 0 ? start + size : start;
  if (!Number.isInteger(s) || !Number.isInteger(length) || s < 0 || length < 0 || s + length > size)
    throw new RangeError(`narrow: start ${start} and length ${length} are out of range for dim ${dim} of size ${size} (shape ${formatShape(x.shape)})`);
  if (s === 0 && length === size) return x;
  const shape = [...x.shape];
  shape[d] = length;
  return record("narrow", [x], viewOf(x, shape, x.strides, x.offset + s * x.strides[d]!), { dim: d, start: s, length });
}

/** Splits into pieces of `splitSize` (the last may be smaller) or of the given sizes. */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  checkTensor(x, "split");
  const d = normalizeDim(dim, x.ndim, "split");
  const size = x.shape[d]!;
  let sizes: number[];
  if (typeof splitSizeOrSections === "number") {
    if (!Number.isInteger(splitSizeOrSections) || splitSizeOrSections <= 0)
      throw new RangeError(`split: splitSize must be a positive integer, got ${splitSizeOrSections}`);
    sizes = [];
    for (let s = 0; s < size; s += splitSizeOrSections) sizes.push(Math.min(splitSizeOrSections, size - s));
    if (size === 0) sizes.push(0);
  } else {
    sizes = [...splitSizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== size) throw new Error(`split: sections ${formatShape(sizes)} sum to ${total}, but dim ${dim} has size ${size}`);
  }
  let start = 0;
  return sizes.map((n) => {
    const piece = narrow(x, d, start, n);
    start += n;
    return piece;
  });
}

/** Splits into `chunks` nearly equal pieces (PyTorch's rule: ceil(size / chunks) each). */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  checkTensor(x, "chunk");
  if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  const size = x.shape[normalizeDim(dim, x.ndim, "chunk")]!;
  return split(x, Math.max(1, Math.ceil(size / chunks)), dim);
}

/** Joins tensors of equal shape except along `dim` (mixed dtypes promote, as in PyTorch). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error("cat: expects a non-empty array of tensors");
  for (let i = 0; i < tensors.length; i++) checkTensor(tensors[i], "cat", `tensors[${i}]`);
  const first = tensors[0]!;
  const d = normalizeDim(dim, first.ndim, "cat");
  for (const part of tensors) {
    if (part.ndim !== first.ndim || part.shape.some((s: number, i: number) => i !== d && s !== first.shape[i]))
      throw new Error(`cat: shapes ${formatShape(first.shape)} and ${formatShape(part.shape)} differ outside dim ${dim}`);
  }
  if (tensors.length === 1) return first;
  // mixed dtypes promote, as in PyTorch (float32 with float64 gives float64); the casts are differentiable
  const dtype = tensors.reduce((dt, t) => promoteTypes(dt, t.dtype), first.dtype);
  const parts = tensors.map((t) => asTensor(t, dtype));
  const shape = [...first.shape];
  shape[d] = parts.reduce((n, t) => n + t.shape[d]!, 0);
  return record("cat", parts, fromKernel(kernels().cat(parts, d, shape), dtype, shape), { dim: d });
}

/** Joins equal-shape tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error("stack: expects a non-empty array of tensors");
  const first = tensors[0]!;
  tensors.forEach((t, i) => {
    checkTensor(t, "stack", `tensors[${i}]`);
    if (!shapesEqual(t.shape, first.shape))
      throw new Error(`stack: all tensors must have the same shape, got ${formatShape(first.shape)} and ${formatShape(t.shape)}`);
  });
  return cat(
    tensors.map((t) => unsqueeze(t, dim)),
    normalizeDim(dim, first.ndim + 1, "stack"),
  );
}

function checkIndex(index: Tensor, op: string): void {
  checkTensor(index, op, "index");
  if (index.dtype !== "int32") throw new TypeError(`${op}: index must be an int32 tensor, got dtype ${index.dtype}`);
}

/** out[i][j] = x[index[i][j]][j] for dim 0 (PyTorch's gather); `index` is int32 with x's rank. */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  checkTensor(x, "gather");
  checkIndex(index, "gather");
  const d = normalizeDim(dim, x.ndim, "gather");
  if (index.ndim !== x.ndim || index.shape.some((s, i) => i !== d && s > x.shape[i]!))
    throw new Error(`gather: index shape ${formatShape(index.shape)} does not fit input shape ${formatShape(x.shape)} along dim ${dim}`);
  return record("gather", [x, index], fromKernel(kernels().gather(x, d, index), x.dtype, index.shape), { dim: d });
}

/** A copy of `x` with `src` added at the positions `index` names along `dim` (PyTorch's scatter_add). */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  checkTensor(x, "scatterAdd");
  checkIndex(index, "scatterAdd");
  checkTensor(src, "scatterAdd", "src");
  const d = normalizeDim(dim, x.ndim, "scatterAdd");
  if (src.dtype !== x.dtype) throw new TypeError(`scatterAdd: src dtype ${src.dtype} differs from input dtype ${x.dtype}`);
  if (index.ndim !== x.ndim || index.shape.some((s, i) => s > src.shape[i]! || (i !== d && s > x.shape[i]!)))
    throw new Error(
      `scatterAdd: index shape ${formatShape(index.shape)} does not fit input ${formatShape(x.shape)} and src ${formatShape(src.shape)} along dim ${dim}`,
    );
  const data = kernels().scatterAdd(x, d, index, src);
  return record("scatterAdd", [x, index, src], fromKernel(data, x.dtype, x.shape), { dim: d });
}

/** An index argument: a number (selects, removing the dim), null (the whole dim), [start, end) (a range), or an int32 tensor (picks). */
export type IndexArg = number | null | readonly [number | null, number | null] | Tensor;

/**
 * NumPy-like basic indexing, one argument per leading dim.
 * @example x.index(0, null, [1, 3]) // x[0, :, 1:3]
 */
export function index(x: Tensor, ...indices: IndexArg[]): Tensor {
  checkTensor(x, "index");
  if (indices.length > x.ndim)
    throw new Error(`index: too many indices (${indices.length}) for a tensor of shape ${formatShape(x.shape)}`);
  let out = x;
  let dim = 0;
  for (const ix of indices) {
    const size = out.shape[dim]!;
    if (ix === null) {
      dim++;
    } else if (typeof ix === "number") {
      const i = ix < 0 ? ix + size : ix;
      if (!Number.isInteger(i) || i < 0 || i >= size)
        throw new RangeError(`index: index ${ix} is out of bounds for dim ${dim} with size ${size}`);
      out = squeeze(narrow(out, dim, i, 1), dim);
    } else if (ix instanceof Tensor) {
      checkIndex(ix, "index");
      if (ix.ndim !== 1) throw new Error(`index: a tensor index must be 1-D, got shape ${formatShape(ix.shape)}`);
      const shape = out.shape.map((s, i) => (i === dim ? ix.shape[0]! : s));
      const idx = reshape(ix, out.shape.map((_, i) => (i === dim ? ix.shape[0]! : 1))).expand(shape);
      out = gather(out, dim, idx.contiguous());
      dim++;
    } else if (Array.isArray(ix) && ix.length === 2) {
      const clampIdx = (v: number | null, dflt: number) => (v === null ? dflt : Math.min(Math.max(v < 0 ? v + size : v, 0), size));
      const s = clampIdx(ix[0], 0);
      const e = clampIdx(ix[1], size);
      out = narrow(out, dim, s, Math.max(0, e - s));
      dim++;
    } else {
      throw new TypeError(`index: unsupported index ${String(ix)} (expected a number, null, [start, end] or an int32 tensor)`);
    }
  }
  return out;
}

/** One-hot encoding of int32 class labels: shape [...labels.shape, numClasses], dtype int32. */
export function oneHot(labels: Tensor, numClasses = -1): Tensor {
  checkTensor(labels, "oneHot", "labels");
  if (labels.dtype !== "int32") throw new TypeError(`oneHot: labels must be an int32 tensor, got dtype ${labels.dtype}`);
  const flat = labels.dataSync();
  let max = -1;
  for (const v of flat) {
    if (v < 0) throw new RangeError(`oneHot: labels must be non-negative, got ${v}`);
    if (v > max) max = v;
  }
  const n = numClasses === -1 ? max + 1 : numClasses;
  if (max >= n) throw new RangeError(`oneHot: label ${max} is out of range for numClasses ${n}`);
  const out = new Int32Array(flat.length * n);
  for (let i = 0; i < flat.length; i++) out[i * n + flat[i]!] = 1;
  return fromKernel(out, "int32", [...labels.shape, n]);
}
