/**
 * @file The models `tensorgrad train --model …` knows, as Keras-style definitions, with the
 * training settings that suit each (overridable from the command line). A saved model records its
 * architecture's name in the safetensors metadata, so `predict` can rebuild it.
 */
import { current } from "../backend/registry.ts";
import * as keras from "../keras/index.ts";
import type { KerasSequential } from "../keras/model.ts";
import type { OptimizerName } from "../keras/optimizers.ts";

export interface ModelPreset {
  readonly name: string;
  readonly description: string;
  /** Builds the model for `features` inputs per sample (784 for 28×28 images) and `classes` outputs. */
  build(imageSize: [number, number], classes: number): KerasSequential;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerName;
  readonly lr: number;
}

export const MODELS: Record<string, ModelPreset> = {
  mlp: {
    name: "mlp",
    description: "multi-layer perceptron: 784 → 128 ReLU → 10 softmax (the lectures' network)",
    build: ([h, w], classes) =>
      keras.sequential([keras.input([h * w]), keras.dense(128, { activation: "relu" }), keras.dense(classes, { activation: "softmax" })], { name: "mlp" }),
    epochs: 25,
    batchSize: 64,
    optimizer: "adam",
    lr: 1e-3,
  },
  cnn: {
    name: "cnn",
    description: "small CNN: conv 3×3 (8) ReLU, max-pool 2, conv 3×3 (16) ReLU, max-pool 2, dense 64 ReLU, dense 10 softmax",
    build: ([h, w], classes) =>
      keras.sequential(
        [
          keras.input([1, h, w]),
          keras.conv2d(8, 3, { padding: "same", activation: "relu" }),
          keras.maxPooling2d(2),
          keras.conv2d(16, 3, { padding: "same", activation: "relu" }),
          keras.maxPooling2d(2),
          keras.flatten(),
          keras.dense(64, { activation: "relu" }),
          keras.dense(classes, { activation: "softmax" }),
        ],
        { name: "cnn" },
      ),
    epochs: 10,
    batchSize: 64,
    optimizer: "adam",
    lr: 1e-3,
  },
};

/**
 * The model `tensorgrad train` (and so `npm start`) uses when --model is not given: the one that
 * reaches the best test accuracy within about 90 s of training on a 2-core machine. On the fast
 * backends (wasm, native) that is the CNN (≈ 96 % after 10 epochs); on the plain-JavaScript js
 * backend convolutions are too slow for that budget and the MLP (≈ 94 %) wins.
 */
export function defaultModel(): string {
  return current() === "js" ? "mlp" : "cnn";
}
