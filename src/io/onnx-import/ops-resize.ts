/**
 * @file ONNX's Resize (opsets 10–18) and Upsample: nearest, linear and cubic interpolation with
 * every coordinate_transformation_mode, as ONNX's reference computes them. Interpolation is
 * separable, so each resized axis is a weighted sum of a few gathers along that axis (the taps
 * and weights are worked out once per call from the sizes), which keeps it differentiable.
 */
import { formatShape } from "../../base/shape.ts";
import * as ops from "../../ops/index.ts";
import type { Tensor } from "../../tensor/tensor.ts";
import { type Attrs, numbers, type OpRule, req } from "./attrs.ts";
import { checkShapeValues } from "./ops-shape.ts";

interface Options {
  mode: string;
  transform: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
}

function nearestCoeffs(ratio: number, mode: string): number[] {
  if (Number.isInteger(ratio)) return [0, 1];
  if (mode === "round_prefer_floor") return [ratio <= 0.5 ? 1 : 0, ratio > 0.5 ? 1 : 0];
  if (mode === "round_prefer_ceil") return [ratio < 0.5 ? 1 : 0, ratio >= 0.5 ? 1 : 0];
  if (mode === "floor") return [1, 0];
  if (mode === "ceil") return [0, 1];
  throw new Error(`unknown nearest_mode "${mode}"`);
}

function cubicCoeffs(r: number, A: number): number[] {
  const s = 1 - r;
  return [
    ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
    ((A + 2) * r - (A + 3)) * r * r + 1,
    ((A + 2) * s - (A + 3)) * s * s + 1,
    ((A * (s + 1) - 5 * A) * (s + 1) + 8 * A) * (s + 1) - 4 * A,
  ];
}

/** Output position `x` in input coordinates (ONNX's coordinate_transformation_mode), or null for extrapolation. */
function source(x: number, size: number, scale: number, roi: [number, number], o: Options): number | null {
  const outWidth = scale * size;
  switch (o.transform) {
    case "align_corners":
      return outWidth === 1 ? 0 : (x * (size - 1)) / (outWidth - 1);
    case "asymmetric":
      return x / scale;
    case "pytorch_half_pixel":
      return outWidth === 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case "half_pixel":
      return (x + 0.5) / scale - 0.5;
    case "tf_half_pixel_for_nn":
      return (x + 0.5) / scale;
    case "tf_crop_and_resize": {
      const v = (outWidth === 1 ? ((roi[1] - roi[0]) * (size - 1)) / 2 : (x * (roi[1] - roi[0]) * (size - 1)) / (outWidth - 1)) + roi[0] * (size - 1);
      return v < 0 || v > size - 1 ? null : v;
    }
    default:
      throw new Error(`unknown coordinate_transformation_mode "${o.transform}"`);
  }
}

/** The taps of one axis: for each output position, input indices (clamped: edge padding) and weights. */
function taps(size: number, out: number, scale: number, roi: [number, number], o: Options): { idx: number[][]; w: number[][]; outside: number[] } {
  const n = o.mode === "cubic" ? 4 : 2;
  const pad = Math.ceil(n / 2);
  const idx: number[][] = Array.from({ length: n }, () => []);
  const w: number[][] = Array.from({ length: n }, () => []);
  const outside: number[] = [];
  for (let x = 0; x < out; x++) {
    const src = source(x, size, scale, roi, o);
    outside.push(src === null ? 1 : 0);
    const at = src ?? 0;
    const base = Math.floor(at);
    const ratio = Number.isInteger(at) ? 1 : at - base;
    let coeffs = o.mode === "nearest" ? nearestCoeffs(ratio, o.nearest) : o.mode === "linear" ? [1 - ratio, ratio] : cubicCoeffs(ratio, o.cubicA);
    // the n positions nearest to `at` (ties to the lower one) within the edge-padded range, in order
    const near: number[] = [];
    for (let i = base - n; i <= base + n; i++) if (i >= -pad && i <= size - 1 + pad) near.push(i);
    const chosen = near.sort((p, q) => Math.abs(at - p) - Math.abs(at - q) || p - q).slice(0, n).sort((p, q) => p - q);
    if (o.excludeOutside) {
      coeffs = coeffs.map((c, k) => (chosen[k]! < 0 || chosen[k]! >= size ? 0 : c));
      const total = coeffs.reduce((s, c) => s + c, 0);
      coeffs = coeffs.map((c) => c / total);
    }
    for (let k = 0; k < n; k++) {
      idx[k]!.push(Math.min(Math.max(chosen[k]!, 0), size - 1));
      w[k]!.push(src === null ? 0 : coeffs[k]!);
    }
  }
  return { idx, w, outside };
}

/** Resamples `x` along `axis` to `out` positions. */
function resizeAxis(x: Tensor, axis: number, out: number, scale: number, roi: [number, number], o: Options): Tensor {
  const size = x.shape[axis]!;
  const t = taps(size, out, scale, roi, o);
  const bshape = x.shape.map((_, i) => (i === axis ? out : 1));
  const pick = (idx: number[]) => {
    const args: (null | Tensor)[] = x.shape.slice(0, axis + 1).map(() => null);
    args[axis] = ops.tensor(idx, { dtype: "int32" });
    return x.index(...args);
  };
  const identity = out === size && t.w.every((ws, k) => ws.every((v, i) => v === 0 || (v === 1 && t.idx[k]![i] === i)));
  if (identity && t.outside.every((v) => v === 0)) return x;
  let y: Tensor | null = null;
  for (let k = 0; k < t.idx.length; k++) {
    if (t.w[k]!.every((v) => v === 0)) continue;
    const term = t.w[k]!.every((v) => v === 1 || v === 0) && o.mode === "nearest" && t.w.every((ws, j) => j === k || ws.every((v) => v === 0))
      ? pick(t.idx[k]!)
      : pick(t.idx[k]!).mul(ops.tensor(t.w[k]!, { dtype: x.dtype }).reshape(bshape));
    y = y === null ? term : y.add(term);
  }
  y ??= ops.zeros(x.shape.map((d, i) => (i === axis ? out : d)), { dtype: x.dtype });
  if (t.outside.some((v) => v === 1)) y = y.add(ops.tensor(t.outside, { dtype: x.dtype }).reshape(bshape).mul(o.extrapolation));
  return y;
}

function resize(x: Tensor, scales: number[] | undefined, sizes: number[] | undefined, roi: number[] | undefined, o: Options): Tensor {
  const r = x.ndim;
  if (sizes !== undefined && sizes.length !== r) throw new Error(`sizes must have ${r} values for input shape ${formatShape(x.shape)}, got ${sizes.length}`);
  if (scales !== undefined && scales.length !== r) throw new Error(`scales must have ${r} values for input shape ${formatShape(x.shape)}, got ${scales.length}`);
  if (sizes === undefined && scales === undefined) throw new Error("one of scales and sizes is required");
  const targets = checkShapeValues(
    x.shape.map((size, d) => sizes?.[d] ?? Math.floor(size * scales![d]!)),
    "Resize",
  );
  let out = x;
  for (let d = 0; d < r; d++) {
    const size = x.shape[d]!;
    const target = targets[d]!;
    const scale = sizes !== undefined ? target / size : scales![d]!;
    const box: [number, number] = roi !== undefined && roi.length === 2 * r ? [roi[d]!, roi[d + r]!] : [0, 1];
    if (target === size && scale === 1 && o.transform !== "tf_crop_and_resize") continue;
    out = resizeAxis(out, d, target, scale, box, o);
  }
  return out;
}

function options(a: Attrs, opset: number): Options {
  const mode = a.string("mode", "nearest");
  if (mode !== "nearest" && mode !== "linear" && mode !== "cubic" && mode !== "bilinear") throw new Error(`unknown mode "${mode}"`);
  if (a.int("antialias", 0) !== 0) throw new Error("antialias is not supported");
  return {
    mode: mode === "bilinear" ? "linear" : mode,
    transform: opset < 11 ? "asymmetric" : a.string("coordinate_transformation_mode", "half_pixel"),
    nearest: opset < 11 ? "floor" : a.string("nearest_mode", "round_prefer_floor"),
    cubicA: a.float("cubic_coeff_a", -0.75),
    excludeOutside: a.int("exclude_outside", 0) === 1,
    extrapolation: a.float("extrapolation_value", 0),
  };
}

const given = (t: Tensor | undefined) => (t === undefined || t.numel() === 0 ? undefined : numbers(t, "Resize"));

export const RESIZE_OPS: Record<string, OpRule> = {
  Resize: (x, a, opset) => {
    const input = req(x, 0);
    if (opset < 11) return resize(input, given(x[1]), undefined, undefined, options(a, opset));
    return resize(input, given(x[2]), given(x[3]), given(x[1]), options(a, opset));
  },
  Upsample: (x, a, opset) => resize(req(x, 0), a.floats("scales") ?? given(x[1]), undefined, undefined, options(a, Math.min(opset, 10))),
};
