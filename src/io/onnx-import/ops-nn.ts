/**
 * @file ONNX's layer ops: Gemm / MatMul, Conv and ConvTranspose (1-D and 2-D, groups, dilations,
 * auto_pad, asymmetric pads), max and average pooling, and the normalisations, on tensorgrad's
 * `linear`, `conv2d`, `col2im`, pooling and `batchNorm`. A Gemm that is a linear layer and a Conv
 * with symmetric pads run through the same functions as nn.Linear and nn.Conv2d, so they get the
 * fused kernels where the backend has them.
 */
import { isFloating } from "../../base/dtype.ts";
import { formatShape } from "../../base/shape.ts";
import { avgPool2d, batchNorm, conv2dAct, conv2dReluMaxPool, linearAct, maxPool2dWithIndices } from "../../nn/functional/index.ts";
import { col2im } from "../../ops/conv.ts";
import * as ops from "../../ops/index.ts";
import { Tensor } from "../../tensor/tensor.ts";
import type { Attrs, OpRule } from "./attrs.ts";
import { numbers, req } from "./attrs.ts";
import { checkShapeValues, pad } from "./ops-shape.ts";

/** A 1-D or 2-D window op's geometry, with 1-D seen as 2-D of height 1. */
interface Window {
  x: Tensor;
  oneD: boolean;
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** [top, left, bottom, right]: ONNX's begin pads, then end pads. */
  pads: [number, number, number, number];
}

/** ONNX's SAME_UPPER / SAME_LOWER padding of one axis: the output is ⌈in / stride⌉. */
function samePads(size: number, k: number, s: number, d: number, upper: boolean): [number, number] {
  const total = Math.max(0, (Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size);
  const small = Math.floor(total / 2);
  return upper ? [small, total - small] : [total - small, small];
}

function windowOf(op: string, input: Tensor, a: Attrs, kernelShape: readonly number[] | undefined): Window {
  const r = input.ndim - 2;
  if (r !== 1 && r !== 2)
    throw new Error(`${op}: ${r}-D windows are not supported, only 1-D and 2-D (input [N, C, L] or [N, C, H, W]); got input shape ${formatShape(input.shape)}`);
  const k = a.ints("kernel_shape") ?? kernelShape;
  if (k === undefined || k.length !== r) throw new Error(`${op}: kernel_shape must have ${r} values, got ${JSON.stringify(k)}`);
  const per = (name: string, dflt: number) => {
    const v = a.ints(name) ?? new Array<number>(r).fill(dflt);
    if (v.length !== r) throw new Error(`${op}: ${name} must have ${r} values, got ${formatShape(v)}`);
    return r === 1 ? [dflt === 0 ? 0 : 1, v[0]!] : v;
  };
  const kernel = (r === 1 ? [1, k[0]!] : [...k]) as [number, number];
  const stride = per("strides", 1) as [number, number];
  const dilation = per("dilations", 1) as [number, number];
  const x = r === 1 ? input.unsqueeze(2) : input;
  const autoPad = a.string("auto_pad", "NOTSET");
  let pads: [number, number, number, number];
  if (autoPad === "SAME_UPPER" || autoPad === "SAME_LOWER") {
    const [t, b] = samePads(x.shape[2]!, kernel[0], stride[0], dilation[0], autoPad === "SAME_UPPER");
    const [l, rr] = samePads(x.shape[3]!, kernel[1], stride[1], dilation[1], autoPad === "SAME_UPPER");
    pads = [t, l, b, rr];
  } else if (autoPad === "VALID") pads = [0, 0, 0, 0];
  else if (autoPad === "NOTSET") {
    const p = a.ints("pads") ?? new Array<number>(2 * r).fill(0);
    if (p.length !== 2 * r) throw new Error(`${op}: pads must have ${2 * r} values, got ${formatShape(p)}`);
    pads = (r === 1 ? [0, p[0]!, 0, p[1]!] : [...p]) as [number, number, number, number];
  } else throw new Error(`${op}: unknown auto_pad "${autoPad}"`);
  return { x, oneD: r === 1, kernel, stride, dilation, pads };
}

const symmetric = (p: Window["pads"]) => p[0] === p[2] && p[1] === p[3];
/** Pads an NCHW tensor by [top, left, bottom, right] with `value`. */
const padHW = (x: Tensor, p: Window["pads"], value: number) => pad(x, [0, 0, p[0], p[1], 0, 0, p[2], p[3]], "constant", value);
const back = (w: Window, y: Tensor) => (w.oneD ? y.squeeze(2) : y);

/**
 * Conv; with `relu`, Conv → Relu as one conv2dAct (fused where the backend can), and with a
 * `__pool` attribute (set by the importer's fusion) also the MaxPool after it, as nn.Sequential runs them.
 */
const convRule =
  (relu: boolean): OpRule =>
  (x, a) => {
    const input = req(x, 0);
    let weight = req(x, 1);
    const w = windowOf("Conv", input, a, weight.shape.slice(2));
    if (w.oneD) weight = weight.unsqueeze(2);
    const bias = x[2] ?? null;
    const opts = { stride: w.stride, dilation: w.dilation, groups: a.int("group", 1), padding: [w.pads[0], w.pads[1]] as [number, number] };
    const src = symmetric(w.pads) ? w.x : padHW(w.x, w.pads, 0);
    if (!symmetric(w.pads)) opts.padding = [0, 0];
    const pool = a.ints("__pool");
    if (pool !== undefined && !w.oneD) return conv2dReluMaxPool(src, weight, bias, opts, pool as [number, number]);
    return back(w, conv2dAct(src, weight, bias, opts, relu));
  };

/** Gemm; with `relu`, Gemm → Relu as one linearAct where the Gemm is a linear layer. */
const gemmRule =
  (relu: boolean): OpRule =>
  (x, a) => {
    const [A, B, C] = [req(x, 0), req(x, 1), x[2]];
    const [transA, transB] = [a.int("transA", 0), a.int("transB", 0)];
    const [alpha, beta] = [a.float("alpha", 1), a.float("beta", 1)];
    const linearBias = C === undefined || (beta === 1 && C.ndim === 1 && C.shape[0] === B.shape[0]);
    if (transA === 0 && transB === 1 && alpha === 1 && linearBias && A.dtype !== "int32") return linearAct(A, B, C ?? null, relu);
    let y = (transA ? A.t() : A).matmul(transB ? B.t() : B);
    if (alpha !== 1) y = y.mul(alpha);
    if (C !== undefined && beta !== 0) y = y.add(beta === 1 ? C : C.mul(beta));
    return relu ? y.relu() : y;
  };

/** Node pairs (and Conv → Relu → MaxPool) that the importer runs as one fused op; see fuse() in model.ts. */
export const FUSED_OPS: Record<string, OpRule> = { "Conv+Relu": convRule(true), "Gemm+Relu": gemmRule(true), "Conv+Relu+MaxPool": convRule(true) };

/** ConvTranspose as the adjoint of convolution: weightᵀ · x gives columns, col2im sums them into the (uncropped) output. */
const convTranspose: OpRule = (x, a) => {
  const input = req(x, 0);
  let weight = req(x, 1); // [C_in, C_out / groups, kh, kw]
  const r = input.ndim - 2;
  const w = windowOf("ConvTranspose", input, a, weight.shape.slice(2));
  if (w.oneD) weight = weight.unsqueeze(2);
  const groups = a.int("group", 1);
  const [n, cin, h, wd] = w.x.shape as [number, number, number, number];
  const [, coutG, kh, kw] = weight.shape as [number, number, number, number];
  const outPad = a.ints("output_padding") ?? new Array<number>(r).fill(0);
  const op2 = r === 1 ? [0, outPad[0]!] : outPad;
  const full = [0, 1].map((i) => (w.x.shape[2 + i]! - 1) * w.stride[i]! + (w.kernel[i]! - 1) * w.dilation[i]! + 1 + op2[i]!) as [number, number];
  let pads = w.pads;
  const outputShape = a.ints("output_shape");
  if (outputShape !== undefined) {
    // pads follow from the requested size (SAME_UPPER puts the odd one at the end); a larger size pads zeros at the end
    const want = r === 1 ? [1, outputShape.at(-1)!] : outputShape.slice(-2);
    for (const i of [0, 1]) full[i] = Math.max(full[i]!, want[i]!);
    const total = [0, 1].map((i) => full[i]! - want[i]!);
    const upper = a.string("auto_pad", "NOTSET") !== "SAME_LOWER";
    const begin = total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pads = [begin[0]!, begin[1]!, total[0]! - begin[0]!, total[1]! - begin[1]!];
  } else if (a.string("auto_pad", "NOTSET").startsWith("SAME")) {
    const total = [0, 1].map((i) => full[i]! - w.x.shape[2 + i]! * w.stride[i]!);
    const upper = a.string("auto_pad", "NOTSET") === "SAME_UPPER";
    const begin = total.map((t) => (upper ? Math.floor(t / 2) : t - Math.floor(t / 2)));
    pads = [begin[0]!, begin[1]!, total[0]! - begin[0]!, total[1]! - begin[1]!];
  }
  checkShapeValues([n, coutG * groups, ...full], "ConvTranspose");
  const cinG = cin / groups;
  const xs = w.x.reshape([n, groups, cinG, h * wd]);
  const ws = weight.reshape([groups, cinG, coutG * kh * kw]).transpose(1, 2); // [g, coutG·kh·kw, cinG]
  const cols = ws.unsqueeze(0).matmul(xs).reshape([n, groups * coutG * kh * kw, h * wd]);
  const win = { kernel: w.kernel, stride: w.stride, padding: [0, 0] as [number, number], dilation: w.dilation, outSize: [h, wd] as [number, number] };
  let out = col2im(cols.contiguous(), win, full);
  out = out.narrow(2, pads[0], full[0] - pads[0] - pads[2]).narrow(3, pads[1], full[1] - pads[1] - pads[3]);
  if (x[2] !== undefined) out = out.add(x[2].reshape([1, -1, 1, 1]));
  return back(w, out);
};

/** Plane indices of the padded [Hp, Wp] input → ONNX's flat indices into the unpadded [N, C, H, W] input. */
function flatIndices(planeIdx: Tensor, w: Window, unpadded: readonly number[], padded: boolean, columnMajor: boolean): Tensor {
  const [n, c, h, wd] = unpadded as [number, number, number, number];
  const wp = padded ? wd + w.pads[1] + w.pads[3] : wd;
  const src = planeIdx.contiguous().dataSync();
  const out = new Int32Array(src.length);
  const per = src.length / (n * c);
  for (let i = 0; i < src.length; i++) {
    const row = Math.floor(src[i]! / wp) - (padded ? w.pads[0] : 0);
    const col = (src[i]! % wp) - (padded ? w.pads[1] : 0);
    out[i] = Math.floor(i / per) * h * wd + (columnMajor ? col * h + row : row * wd + col);
  }
  return new Tensor(out, "int32", planeIdx.shape);
}

const maxPool: OpRule = (x, a, _opset, outputs) => {
  const input = req(x, 0);
  const w = windowOf("MaxPool", input, a, undefined);
  const ceilMode = a.int("ceil_mode", 0) === 1;
  const fits = symmetric(w.pads) && [0, 1].every((i) => w.pads[i]! <= Math.floor((w.dilation[i]! * (w.kernel[i]! - 1) + 1) / 2));
  const src = fits ? w.x : padHW(w.x, w.pads, Number.NEGATIVE_INFINITY);
  const opts = { stride: w.stride, dilation: w.dilation, ceilMode, padding: fits ? ([w.pads[0], w.pads[1]] as [number, number]) : 0 };
  const integer = !isFloating(src.dtype);
  const r = maxPool2dWithIndices(integer ? src.to("float64") : src, w.kernel, opts);
  const values = integer ? r.values.to(src.dtype) : r.values;
  const indices = r.indices;
  if (outputs < 2) return back(w, values);
  return [back(w, values), back(w, flatIndices(indices, w, w.x.shape, !fits, a.int("storage_order", 0) === 1))];
};

const averagePool: OpRule = (x, a) => {
  const input = req(x, 0);
  const w = windowOf("AveragePool", input, a, undefined);
  if (w.dilation.some((d) => d !== 1)) throw new Error("AveragePool: dilations other than 1 are not supported");
  const ceilMode = a.int("ceil_mode", 0) === 1;
  const countIncludePad = a.int("count_include_pad", 0) === 1;
  const fits = symmetric(w.pads) && [0, 1].every((i) => w.pads[i]! <= Math.floor(w.kernel[i]! / 2));
  if (fits) return back(w, avgPool2d(w.x, w.kernel, { stride: w.stride, ceilMode, countIncludePad, padding: [w.pads[0], w.pads[1]] }));
  const opts = { stride: w.stride, ceilMode, countIncludePad: true };
  const sums = avgPool2d(padHW(w.x, w.pads, 0), w.kernel, opts);
  if (countIncludePad) return back(w, sums);
  const counts = avgPool2d(padHW(ops.onesLike(w.x), w.pads, 0), w.kernel, opts);
  return back(w, sums.div(counts));
};

const spatial = (x: Tensor) => x.shape.map((_, i) => i).slice(2);

function batchNormalization(x: readonly (Tensor | undefined)[], a: Attrs): Tensor | Tensor[] {
  const input = req(x, 0);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => req(x, i));
  const eps = a.float("epsilon", 1e-5);
  if (a.int("training_mode", 0) === 0) return batchNorm(input, mean!, variance!, scale, bias, false, 0, eps);
  const momentum = a.float("momentum", 0.9);
  const axes = input.shape.map((_, i) => i).filter((i) => i !== 1);
  const bshape = input.shape.map((d, i) => (i === 1 ? d : 1));
  const m = input.mean(axes, true);
  const v = input.sub(m).square().mean(axes, true);
  const y = input.sub(m).mul(v.add(eps).rsqrt()).mul(scale!.reshape(bshape)).add(bias!.reshape(bshape));
  const running = (old: Tensor, cur: Tensor) => old.mul(momentum).add(cur.reshape([-1]).mul(1 - momentum));
  return [y, running(mean!, m), running(variance!, v)];
}

/** (x − mean) / √(var + eps) over `axes`, with the mean and 1/std kept for LayerNormalization's optional outputs. */
function normalize(x: Tensor, axes: number[], eps: number): { y: Tensor; mean: Tensor; invStd: Tensor } {
  const mean = x.mean(axes, true);
  const centered = x.sub(mean);
  const invStd = centered.square().mean(axes, true).add(eps).rsqrt();
  return { y: centered.mul(invStd), mean, invStd };
}

/** ONNX's NegativeLogLikelihoodLoss on log-probabilities [N, C, d…] and int targets [N, d…], with class weights and ignore_index. */
function nllLoss(logp: Tensor, target: Tensor, weight: Tensor | undefined, a: Attrs): Tensor {
  const ignore = a.int("ignore_index");
  const mask = ignore === undefined ? null : target.ne(ignore);
  const safe = mask === null ? target : ops.where(mask, target, 0).to("int32");
  const picked = logp.gather(1, safe.unsqueeze(1).contiguous()).squeeze(1);
  let w: Tensor | null = weight === undefined ? null : weight.index(safe.reshape([-1]).contiguous()).reshape(safe.shape);
  if (mask !== null) w = w === null ? mask.to(logp.dtype) : w.mul(mask.to(logp.dtype));
  const loss = w === null ? picked.neg() : picked.mul(w).neg();
  const reduction = a.string("reduction", "mean");
  if (reduction === "none") return loss;
  if (reduction === "sum") return loss.sum();
  if (reduction !== "mean") throw new Error(`unknown reduction "${reduction}"`);
  return w === null ? loss.mean() : loss.sum().div(w.sum());
}

export const NN_OPS: Record<string, OpRule> = {
  MaxUnpool: (x, a) => {
    const [values, indices] = [req(x, 0), req(x, 1)];
    const k = a.ints("kernel_shape") ?? [];
    const r = values.ndim - 2;
    const strides = a.ints("strides") ?? new Array<number>(r).fill(1);
    const pads = a.ints("pads") ?? new Array<number>(2 * r).fill(0);
    const spatial = values.shape.slice(2).map((d, i) => (d - 1) * strides[i]! + k[i]! - pads[i]! - pads[i + r]!);
    // indices address the default output; a larger output_shape pads it at the end (ONNX's reference)
    const shape = checkShapeValues([...values.shape.slice(0, 2), ...spatial], "MaxUnpool");
    const flat = ops.zeros([shape.reduce((p, d) => p * d, 1)], { dtype: values.dtype });
    const out = flat.scatterAdd(0, indices.reshape([-1]).contiguous(), values.reshape([-1])).reshape(shape);
    if (x[2] === undefined) return out;
    const want = checkShapeValues(numbers(x[2], "output_shape"), "MaxUnpool");
    return pad(out, [...shape.map(() => 0), ...want.map((d, i) => d - shape[i]!)], "constant", 0);
  },
  LRN: (x, a) => {
    // x / (bias + alpha / size · Σ x² over the `size` channels around c)^beta, the sum as an average pool over C
    const input = req(x, 0);
    const size = a.int("size", 1);
    const [n, c] = input.shape as [number, number];
    const sq = input.square().reshape([n, 1, c, -1]);
    const padded = pad(sq, [0, 0, Math.floor((size - 1) / 2), 0, 0, 0, Math.ceil((size - 1) / 2), 0], "constant", 0);
    const mean = avgPool2d(padded, [size, 1], { stride: 1 }).reshape(input.shape);
    return input.div(mean.mul(a.float("alpha", 1e-4)).add(a.float("bias", 1)).pow(a.float("beta", 0.75)));
  },
  NegativeLogLikelihoodLoss: (x, a) => nllLoss(req(x, 0), req(x, 1), x[2], a),
  SoftmaxCrossEntropyLoss: (x, a) => {
    const logp = ops.logSoftmax(req(x, 0), 1);
    return [nllLoss(logp, req(x, 1), x[2], a), logp];
  },
  MatMul: (x) => ops.matmul(req(x, 0), req(x, 1)),
  Gemm: gemmRule(false),
  Conv: convRule(false),
  ConvTranspose: convTranspose,
  MaxPool: maxPool,
  AveragePool: averagePool,
  GlobalAveragePool: (x) => req(x, 0).mean(spatial(req(x, 0)), true),
  GlobalMaxPool: (x) => ops.amax(req(x, 0), spatial(req(x, 0)), true),
  BatchNormalization: batchNormalization,
  InstanceNormalization: (x, a) => {
    const input = req(x, 0);
    const bshape = input.shape.map((d, i) => (i === 1 ? d : 1));
    const { y } = normalize(input, spatial(input), a.float("epsilon", 1e-5));
    return y.mul(req(x, 1).reshape(bshape)).add(req(x, 2).reshape(bshape));
  },
  LayerNormalization: (x, a) => {
    const input = req(x, 0);
    const axis = a.int("axis", -1);
    const start = axis < 0 ? axis + input.ndim : axis;
    const axes = input.shape.map((_, i) => i).slice(start);
    const { y, mean, invStd } = normalize(input, axes, a.float("epsilon", 1e-5));
    let out = y.mul(req(x, 1));
    if (x[2] !== undefined) out = out.add(x[2]);
    return [out, mean, invStd];
  },
};
