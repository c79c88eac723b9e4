/**
 * @file Data augmentation and normalisation for image tensors. Each transform maps a tensor whose
 * last two dims are H×W — one image [H,W] / [C,H,W], or a batch [N,C,H,W] (each image gets its
 * own random draw) — to a tensor, and draws from the seeded generator, so runs repeat.
 */
import { cat, narrow } from "../ops/shape.ts";
import { randn, tensor, zeros } from "../ops/creation.ts";
import { defaultGenerator, type Generator } from "../tensor/random.ts";
import { formatShape } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

export type Transform = (x: Tensor) => Tensor;

/** Applies transforms left to right. */
export function compose(transforms: readonly Transform[]): Transform {
  return (x) => transforms.reduce((acc, t) => t(acc), x);
}

/** (x − mean) / std, per channel (dim −3) when arrays are given, else for all values. */
export function normalize(mean: number | readonly number[], std: number | readonly number[]): Transform {
  const asChannel = (v: number | readonly number[]) => (typeof v === "number" ? v : tensor([...v]).reshape([-1, 1, 1]));
  const m = asChannel(mean);
  const s = asChannel(std);
  return (x) => x.sub(m).div(s);
}

function checkImage(x: Tensor, op: string): void {
  if (x.ndim < 2) throw new Error(`${op}: expects an image with at least 2 dims (H, W), got shape ${formatShape(x.shape)}`);
}

/** Splits a batch [N, ...] into images when ndim = 4, applies `f` to each, and stacks back. */
function perImage(x: Tensor, f: (img: Tensor) => Tensor): Tensor {
  if (x.ndim < 4) return f(x);
  const out: Tensor[] = [];
  for (let i = 0; i < x.shape[0]!; i++) out.push(f(narrow(x, 0, i, 1)));
  return cat(out, 0);
}

/** Zero-pads `padding` pixels on every side of the last two dims. */
function pad2d(x: Tensor, p: number): Tensor {
  if (p === 0) return x;
  const h = x.shape[x.ndim - 2]!;
  const side = (w: number) => zeros([...x.shape.slice(0, -2), h, w], { dtype: x.dtype });
  const wide = cat([side(p), x, side(p)], -1);
  const top = zeros([...wide.shape.slice(0, -2), p, wide.shape[wide.ndim - 1]!], { dtype: x.dtype });
  return cat([top, wide, top], -2);
}

/** A random size×size crop (after zero-padding by `padding`), as torchvision's RandomCrop. */
export function randomCrop(size: number | readonly [number, number], opts: { padding?: number; generator?: Generator } = {}): Transform {
  const [ch, cw] = typeof size === "number" ? [size, size] : size;
  const g = opts.generator ?? defaultGenerator;
  return (x) => {
    checkImage(x, "randomCrop");
    return perImage(x, (img) => {
      const padded = pad2d(img, opts.padding ?? 0);
      const h = padded.shape[padded.ndim - 2]!;
      const w = padded.shape[padded.ndim - 1]!;
      if (ch > h || cw > w) throw new Error(`randomCrop: crop ${ch}×${cw} is larger than the padded image ${h}×${w}`);
      const top = g.integer(0, h - ch + 1);
      const left = g.integer(0, w - cw + 1);
      return narrow(narrow(padded, -2, top, ch), -1, left, cw).contiguous();
    });
  };
}

/** Mirrors an image left–right with probability p. */
export function randomHorizontalFlip(p = 0.5, opts: { generator?: Generator } = {}): Transform {
  const g = opts.generator ?? defaultGenerator;
  return (x) => {
    checkImage(x, "randomHorizontalFlip");
    return perImage(x, (img) => {
      if (g.uniform() >= p) return img;
      const w = img.shape[img.ndim - 1]!;
      const reversed = tensor(Int32Array.from({ length: w }, (_, i) => w - 1 - i), { dtype: "int32" });
      return img.index(...new Array(img.ndim - 1).fill(null), reversed);
    });
  };
}

/** Adds N(0, std²) noise. */
export function gaussianNoise(std: number, opts: { generator?: Generator } = {}): Transform {
  return (x) => x.add(randn(x.shape, { dtype: x.dtype === "float64" ? "float64" : "float32", generator: opts.generator }).mul(std));
}
