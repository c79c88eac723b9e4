/** @file The messages between the page (app.ts) and the training Worker (worker.ts), and the training settings. */

export type Optimizer = "sgd" | "momentum" | "adagrad" | "rmsprop" | "adam";

/** What the form sets: the model and how to train it. */
export interface TrainConfig {
  arch: "mlp" | "cnn";
  /** MLP hidden layer sizes (e.g. [128]). */
  hidden: number[];
  /** CNN conv filters per 3×3 conv + 2×2 max-pool block (e.g. [8, 16]). */
  filters: number[];
  /** CNN dense layer size before the output. */
  dense: number;
  optimizer: Optimizer;
  lr: number;
  batchSize: number;
  epochs: number;
  init: "xavier" | "he";
  /** Hidden layers' activation (sigmoid shows the vanishing gradients of the lectures). */
  activation: "relu" | "sigmoid" | "tanh";
  batchNorm: boolean;
  /** Dropout rate after each hidden layer; 0 = off. */
  dropout: number;
  seed: number;
}

/** The test split's results after training or loading. */
export interface TestResult {
  accuracy: number;
  loss: number;
  /** confusion[true][predicted] counts. */
  confusion: number[][];
  /** Misclassified test digits, up to 4 of each class: 784 bytes (0–255) each. */
  wrong: { pixels: Uint8Array; label: number; predicted: number; confidence: number }[];
}

export type ToWorker =
  | { type: "train"; config: TrainConfig }
  | { type: "pause" }
  | { type: "resume" }
  | { type: "stop" }
  | { type: "predict"; id: number; pixels: Float32Array }
  | { type: "save" }
  | { type: "load"; name: string; bytes: Uint8Array }
  | { type: "paths" }
  | { type: "derive"; id: number; expr: string; x: number };

export type FromWorker =
  | { type: "ready"; backend: string; threads: number; isolated: boolean; train: number; val: number; test: number }
  | { type: "status"; text: string }
  | { type: "progress"; epoch: number; epochs: number; batch: number; steps: number; samplesPerSec: number; paused: boolean }
  | { type: "point"; series: "train" | "val"; x: number; loss: number; accuracy: number }
  | { type: "layers"; names: string[] }
  | { type: "grads"; x: number; norms: number[] }
  | { type: "inside"; weights: { shape: number[]; data: Float32Array }; graph: string }
  | { type: "done"; stopped: boolean; seconds: number; description: string; test: TestResult }
  | { type: "loaded"; name: string; description: string; test: TestResult }
  | { type: "probs"; id: number; probs: number[] | null; activations: { shape: number[]; data: number[] } | null }
  | { type: "saved"; bytes: Uint8Array }
  | { type: "derivative"; id: number; f: number; auto: number; numeric: number }
  | { type: "deriveError"; id: number; message: string }
  | { type: "paths"; paths: { name: string; lr: number; points: [number, number][] }[] }
  | { type: "error"; where: "train" | "load" | "save" | "init"; message: string };

export const DEFAULT_CONFIG: TrainConfig = {
  arch: "mlp",
  hidden: [128],
  filters: [8, 16],
  dense: 64,
  optimizer: "adam",
  lr: 0.001,
  batchSize: 64,
  epochs: 1,
  init: "xavier",
  activation: "relu",
  batchNorm: false,
  dropout: 0,
  seed: 0,
};
