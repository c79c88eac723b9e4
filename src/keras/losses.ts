/**
 * @file Keras-style losses by name. Cross entropies on probabilities follow Keras (clip to
 * [1e-7, 1 − 1e-7], rows renormalised); when the model ends in softmax (or sigmoid for binary
 * cross entropy) the model fuses the activation into the loss and computes it from logits
 * instead (log-sum-exp: exact where clipping would saturate).
 */
import { binaryCrossEntropyWithLogits, huberLoss, l1Loss, mseLoss } from "../nn/functional/loss.ts";
import { crossEntropy } from "../nn/functional/classification.ts";
import { Module } from "../nn/module.ts";
import { isFloating } from "../base/dtype.ts";
import { formatShape, shapesEqual } from "../base/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** Keras' epsilon for clipping probabilities. */
export const EPSILON = 1e-7;

export type LossKind =
  | "meanSquaredError"
  | "meanAbsoluteError"
  | "huber"
  | "binaryCrossentropy"
  | "categoricalCrossentropy"
  | "sparseCategoricalCrossentropy";

/** A named Keras loss with its options (what `tg.keras.losses.*()` returns). */
export interface KerasLoss {
  readonly kind: LossKind;
  /** The model's outputs are logits, not probabilities (default false). */
  readonly fromLogits: boolean;
  /** Huber's delta (default 1). */
  readonly delta?: number;
}

/** A loss function in PyTorch's argument order: (prediction, target) → scalar. */
export type LossFn = (pred: Tensor, target: Tensor) => Tensor;

/** What `compile({ loss })` accepts. */
export type LossLike = LossKind | string | KerasLoss | LossFn | Module;

const NAMES: Record<string, LossKind> = {
  meanSquaredError: "meanSquaredError",
  mean_squared_error: "meanSquaredError",
  mse: "meanSquaredError",
  meanAbsoluteError: "meanAbsoluteError",
  mean_absolute_error: "meanAbsoluteError",
  mae: "meanAbsoluteError",
  huber: "huber",
  huberLoss: "huber",
  huber_loss: "huber",
  binaryCrossentropy: "binaryCrossentropy",
  binary_crossentropy: "binaryCrossentropy",
  categoricalCrossentropy: "categoricalCrossentropy",
  categorical_crossentropy: "categoricalCrossentropy",
  sparseCategoricalCrossentropy: "sparseCategoricalCrossentropy",
  sparse_categorical_crossentropy: "sparseCategoricalCrossentropy",
};

export const meanSquaredError = (): KerasLoss => ({ kind: "meanSquaredError", fromLogits: false });
export const meanAbsoluteError = (): KerasLoss => ({ kind: "meanAbsoluteError", fromLogits: false });
export const huber = (opts: { delta?: number } = {}): KerasLoss => ({ kind: "huber", fromLogits: false, delta: opts.delta ?? 1 });
/** @example tg.keras.losses.binaryCrossentropy({ fromLogits: true }) */
export const binaryCrossentropy = (opts: { fromLogits?: boolean } = {}): KerasLoss => ({ kind: "binaryCrossentropy", fromLogits: opts.fromLogits ?? false });
export const categoricalCrossentropy = (opts: { fromLogits?: boolean } = {}): KerasLoss => ({
  kind: "categoricalCrossentropy",
  fromLogits: opts.fromLogits ?? false,
});
/** @example model.compile({ optimizer: "adam", loss: tg.keras.losses.sparseCategoricalCrossentropy({ fromLogits: true }) }) */
export const sparseCategoricalCrossentropy = (opts: { fromLogits?: boolean } = {}): KerasLoss => ({
  kind: "sparseCategoricalCrossentropy",
  fromLogits: opts.fromLogits ?? false,
});

/** Resolves a loss name or KerasLoss; null for functions and modules (used as they are). */
export function kerasLoss(loss: LossLike): KerasLoss | null {
  if (typeof loss === "string") {
    const kind = NAMES[loss];
    if (!kind) throw new Error(`compile: unknown loss ${JSON.stringify(loss)}; known: ${Object.keys(NAMES).join(", ")}, or pass a function (pred, target) => Tensor`);
    return { kind, fromLogits: false, delta: kind === "huber" ? 1 : undefined };
  }
  if (typeof loss === "function" || loss instanceof Module) return null;
  if (loss !== null && typeof loss === "object" && typeof (loss as KerasLoss).kind === "string" && Object.values(NAMES).includes((loss as KerasLoss).kind))
    return loss as KerasLoss;
  throw new TypeError(`compile: loss must be a name such as "sparseCategoricalCrossentropy", a tg.keras.losses.* object, a function or an nn.Module, got ${String(loss)}`);
}

/** Float targets with the prediction's shape ([N] targets fit [N, 1] predictions, as in Keras). */
function denseTarget(pred: Tensor, target: Tensor, op: string): Tensor {
  let t = isFloating(target.dtype) ? target : target.to(pred.dtype === "float64" ? "float64" : "float32");
  if (!shapesEqual(t.shape, pred.shape)) {
    if (t.numel() !== pred.numel()) throw new Error(`${op}: targets ${formatShape(target.shape)} do not fit predictions ${formatShape(pred.shape)}`);
    t = t.reshape(pred.shape);
  }
  return t.dtype === pred.dtype ? t : t.to(pred.dtype);
}

/** int32 class indices [N] (accepts float labels and [N, 1] columns, as Keras does). */
function indexTarget(pred: Tensor, target: Tensor, op: string): Tensor {
  let t = target.dtype === "int32" ? target : target.to("int32");
  if (t.ndim === 2 && t.shape[1] === 1) t = t.reshape([t.shape[0]!]);
  if (t.ndim !== 1 || t.shape[0] !== pred.shape[0])
    throw new Error(`${op}: expects class indices [N] for predictions ${formatShape(pred.shape)}, got targets ${formatShape(target.shape)} (one-hot targets: use categoricalCrossentropy)`);
  return t;
}

/** Probabilities renormalised over the class dim and clipped to [ε, 1 − ε] (Keras' backend.categorical_crossentropy). */
function clippedProbabilities(p: Tensor): Tensor {
  return p.div(p.sum(1, true)).clamp(EPSILON, 1 - EPSILON);
}

/**
 * The loss of a KerasLoss as a function of the model's raw output. `logits` says whether that
 * output is pre-activation (fused softmax/sigmoid, or fromLogits).
 */
export function lossFunction(loss: KerasLoss, logits: boolean): LossFn {
  switch (loss.kind) {
    case "meanSquaredError":
      return (p, t) => mseLoss(p, denseTarget(p, t, "meanSquaredError"));
    case "meanAbsoluteError":
      return (p, t) => l1Loss(p, denseTarget(p, t, "meanAbsoluteError"));
    case "huber":
      return (p, t) => huberLoss(p, denseTarget(p, t, "huber"), { delta: loss.delta ?? 1 });
    case "binaryCrossentropy":
      if (logits) return (z, t) => binaryCrossEntropyWithLogits(z, denseTarget(z, t, "binaryCrossentropy"));
      return (p, t) => {
        const y = denseTarget(p, t, "binaryCrossentropy");
        const q = p.clamp(EPSILON, 1 - EPSILON);
        return y.mul(q.log()).add(y.neg().add(1).mul(q.neg().add(1).log())).neg().mean();
      };
    case "categoricalCrossentropy":
      if (logits) return (z, t) => crossEntropy(z, denseTarget(z, t, "categoricalCrossentropy"));
      return (p, t) => {
        const y = denseTarget(p, t, "categoricalCrossentropy");
        return y.mul(clippedProbabilities(p).log()).sum(1).neg().mean();
      };
    case "sparseCategoricalCrossentropy":
      if (logits) return (z, t) => crossEntropy(z, indexTarget(z, t, "sparseCategoricalCrossentropy"));
      return (p, t) => {
        const y = indexTarget(p, t, "sparseCategoricalCrossentropy");
        return clippedProbabilities(p).gather(1, y.unsqueeze(1)).log().neg().mean();
      };
  }
}
