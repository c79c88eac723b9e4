/**
 * @file Optimizers by name for `compile`: "adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamw".
 * A name gives the tensorgrad optimizer (PyTorch's update rule and defaults) with Keras' default
 * learning rate for that name: sgd 0.01, all others 0.001. `tg.keras.optimizers.adam({ learningRate })`
 * and friends set the rate (and any tg.optim option); an optimizer instance is used as it is.
 */
import type { Tensor } from "../tensor/tensor.ts";
import { Adadelta } from "../optim/adadelta.ts";
import { Adagrad } from "../optim/adagrad.ts";
import { Adam, AdamW } from "../optim/adam.ts";
import { Optimizer } from "../optim/optimizer.ts";
import { RMSprop } from "../optim/rmsprop.ts";
import { SGD } from "../optim/sgd.ts";

export type OptimizerName = "adam" | "sgd" | "rmsprop" | "adagrad" | "adadelta" | "adamw";

/** Builds an optimizer for a model's parameters once they exist (what `tg.keras.optimizers.*()` return). */
export interface OptimizerFactory {
  readonly name: OptimizerName;
  readonly learningRate: number;
  create(params: Tensor[]): Optimizer;
}

/** What `compile({ optimizer })` accepts. */
export type OptimizerLike = OptimizerName | string | Optimizer | OptimizerFactory;

/** Keras' default learning rates. */
export const KERAS_LEARNING_RATES: Record<OptimizerName, number> = { adam: 1e-3, sgd: 1e-2, rmsprop: 1e-3, adagrad: 1e-3, adadelta: 1e-3, adamw: 1e-3 };

/** Any tg.optim option (PyTorch's names: momentum, betas, eps, weightDecay, …) plus Keras' `learningRate`. */
export type OptimizerOptions = { learningRate?: number; lr?: number } & Record<string, unknown>;

function factory(name: OptimizerName, opts: OptimizerOptions = {}): OptimizerFactory {
  const { learningRate, lr, ...rest } = opts;
  const rate = learningRate ?? lr ?? KERAS_LEARNING_RATES[name];
  if (typeof rate !== "number" || !(rate >= 0)) throw new RangeError(`optimizers.${name}: learningRate must be a number ≥ 0, got ${String(rate)}`);
  const options = { ...rest, lr: rate };
  return {
    name,
    learningRate: rate,
    create(params) {
      switch (name) {
        case "adam":
          return new Adam(params, options);
        case "adamw":
          return new AdamW(params, options);
        case "sgd":
          return new SGD(params, options);
        case "rmsprop":
          return new RMSprop(params, options);
        case "adagrad":
          return new Adagrad(params, options);
        case "adadelta":
          return new Adadelta(params, options);
      }
    },
  };
}

/** @example model.compile({ optimizer: tg.keras.optimizers.adam({ learningRate: 3e-4 }), loss: "mse" }) */
export const adam = (opts?: OptimizerOptions) => factory("adam", opts);
export const adamw = (opts?: OptimizerOptions) => factory("adamw", opts);
/** @example tg.keras.optimizers.sgd({ learningRate: 0.1, momentum: 0.9 }) */
export const sgd = (opts?: OptimizerOptions) => factory("sgd", opts);
export const rmsprop = (opts?: OptimizerOptions) => factory("rmsprop", opts);
export const adagrad = (opts?: OptimizerOptions) => factory("adagrad", opts);
export const adadelta = (opts?: OptimizerOptions) => factory("adadelta", opts);

/** The names `compile` and the CLI accept. */
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ["adam", "sgd", "rmsprop", "adagrad", "adadelta", "adamw"];

/** Resolves a name (case-insensitive), factory or instance. */
export function optimizerFactory(opt: OptimizerLike, opts: OptimizerOptions = {}): OptimizerFactory | Optimizer {
  if (opt instanceof Optimizer) return opt;
  if (typeof opt === "string") {
    const name = opt.toLowerCase() as OptimizerName;
    if (!OPTIMIZER_NAMES.includes(name)) throw new Error(`unknown optimizer ${JSON.stringify(opt)}; known: ${OPTIMIZER_NAMES.join(", ")}, or pass a tg.optim instance`);
    return factory(name, opts);
  }
  if (opt !== null && typeof opt === "object" && typeof (opt as OptimizerFactory).create === "function") return opt as OptimizerFactory;
  throw new TypeError(`compile: optimizer must be a name such as "adam", a tg.keras.optimizers.* factory or a tg.optim instance, got ${String(opt)}`);
}
