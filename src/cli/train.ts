/**
 * @file `tensorgrad train`: trains a model on the embedded MNIST subset (or IDX files) with a
 * progress display, checkpoints every epoch (so `--resume` continues exactly), evaluates on the
 * test split and writes history.json, learning-curve.svg/.png, model.safetensors and report.html.
 */
import { mkdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { current } from "../backend/registry.ts";
import { save, writeFileAtomic } from "../io/files.ts";
import type { KerasSequential } from "../keras/model.ts";
import { OPTIMIZER_NAMES, type OptimizerName, optimizerFactory } from "../keras/optimizers.ts";
import { tensor } from "../ops/creation.ts";
import { Generator, manualSeed } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type Callback, terminateOnNaN } from "../train/callbacks.ts";
import { loadCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { History } from "../train/history.ts";
import { confusionMatrix } from "../train/metrics.ts";
import { learningCurveSvg } from "../viz/learning-curve.ts";
import { svgToPng } from "../viz/png.ts";
import { type ReportSample, trainingReportHtml } from "../viz/report.ts";
import { choiceOption, intOption, numberOption, parse, stringOption, UsageError } from "./args.ts";
import { type LoadedData, loadDataset } from "./data.ts";
import { lockRunDir } from "./lock.ts";
import { defaultModel, MODELS } from "./models.ts";

export const TRAIN_USAGE = `usage: tensorgrad train [options]

Trains a model, shows progress, evaluates on the test split and writes the results to --out.

options:
  --model NAME           ${Object.keys(MODELS).join(" | ")} (default ${defaultModel()} on this backend)
${Object.values(MODELS)
  .map((m) => `                           ${m.name}: ${m.description}`)
  .join("\n")}
  --dataset D            "mnist" (the embedded subset, default) or a directory of MNIST-style IDX files
  --epochs N             epochs to train (default: the model's, ${Object.values(MODELS)
    .map((m) => `${m.name} ${m.epochs}`)
    .join(", ")})
  --batch-size N         samples per step (default 64)
  --optimizer NAME       ${OPTIMIZER_NAMES.join(" | ")} (default adam)
  --lr X                 learning rate (default: the optimizer's Keras default, adam 0.001)
  --validation-split F   fraction of the training set held out for validation curves (default 0.1; 0: none)
  --seed N               seed for initialisation, shuffling and dropout (default 0)
  --out DIR              where to write results (default runs/<timestamp>/)
  --resume DIR           continue an interrupted run from DIR/checkpoint (its settings; --epochs may raise the total)
  --quiet                no progress output
  -h, --help             this help`;

/** Everything that determines a run (saved in the checkpoint so --resume repeats it exactly). */
export interface TrainConfig {
  model: string;
  dataset: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  validationSplit: number;
  seed: number;
}

const OPTIONS = {
  model: { type: "string" },
  dataset: { type: "string" },
  epochs: { type: "string" },
  "batch-size": { type: "string" },
  optimizer: { type: "string" },
  lr: { type: "string" },
  "validation-split": { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  resume: { type: "string" },
  quiet: { type: "boolean" },
} as const;

function timestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "").replace(/:/g, "-");
}

/** Raised by the interrupt callback; the checkpoint of the last finished epoch stays on disk. */
class Interrupted extends Error {}

/** Splits off a seeded random validation set (deterministic in the seed, so a resumed run gets the same one). */
function splitValidation(x: Tensor, y: Tensor, fraction: number, seed: number): { x: Tensor; y: Tensor; val: [Tensor, Tensor] | null } {
  const n = x.shape[0]!;
  const nVal = Math.floor(n * fraction);
  if (nVal === 0) return { x, y, val: null };
  if (nVal >= n) throw new UsageError(`--validation-split ${fraction} leaves no training samples`);
  const perm = new Generator(seed + 0x5eed).permutation(n);
  const idx = (a: number, b: number) => tensor(perm.slice(a, b), { dtype: "int32" });
  const tr = idx(0, n - nVal);
  const va = idx(n - nVal, n);
  return { x: x.index(tr), y: y.index(tr), val: [x.index(va), y.index(va)] };
}

function resolveConfig(values: Record<string, string | boolean | undefined>): TrainConfig {
  const u = TRAIN_USAGE;
  const model = choiceOption(values.model, "model", Object.keys(MODELS), u) ?? defaultModel();
  const preset = MODELS[model]!;
  const optimizer = (choiceOption(values.optimizer, "optimizer", OPTIMIZER_NAMES, u) ?? preset.optimizer) as OptimizerName;
  const defaultLr = optimizer === preset.optimizer ? preset.lr : (optimizerFactory(optimizer) as { learningRate: number }).learningRate;
  return {
    model,
    dataset: stringOption(values.dataset) ?? "mnist",
    epochs: intOption(values.epochs, "epochs", u) ?? preset.epochs,
    batchSize: intOption(values["batch-size"], "batch-size", u) ?? preset.batchSize,
    optimizer,
    lr: numberOption(values.lr, "lr", u, (n) => n > 0, "a positive number") ?? defaultLr,
    validationSplit: numberOption(values["validation-split"], "validation-split", u, (n) => n >= 0 && n < 1, "in [0, 1)") ?? 0.1,
    seed: intOption(values.seed, "seed", u, { min: 0 }) ?? 0,
  };
}

/** Reads a run's checkpoint state to resume it. */
async function readResumeState(dir: string): Promise<{ config: TrainConfig; epoch: number }> {
  let text: string;
  try {
    text = await readFile(join(dir, "checkpoint", "state.json"), "utf8");
  } catch {
    throw new UsageError(`--resume ${dir}: no checkpoint there (expected ${join(dir, "checkpoint", "state.json")}, written after each epoch by tensorgrad train)`);
  }
  const extra = (JSON.parse(text) as { extra?: { config?: TrainConfig; epoch?: number } }).extra;
  if (!extra?.config || typeof extra.epoch !== "number") throw new UsageError(`--resume ${dir}: the checkpoint does not describe a tensorgrad train run`);
  return { config: extra.config, epoch: extra.epoch };
}

export async function train(argv: readonly string[]): Promise<number> {
  const { values } = parse(argv, OPTIONS, TRAIN_USAGE);
  if (values.help) {
    console.log(TRAIN_USAGE);
    return 0;
  }
  const quiet = values.quiet === true;
  const say = (s: string) => {
    if (!quiet) console.log(s);
  };
  const resumeDir = stringOption(values.resume);
  let config: TrainConfig;
  let outDir: string;
  if (resumeDir !== undefined) {
    const fixed = ["model", "dataset", "batch-size", "optimizer", "lr", "validation-split", "seed"].filter((k) => values[k] !== undefined);
    if (fixed.length > 0)
      throw new UsageError(`--resume continues the saved run with its own settings; --${fixed.join(", --")} cannot be changed (only --epochs and --out)`, TRAIN_USAGE);
    ({ config } = await readResumeState(resumeDir));
    config.epochs = intOption(values.epochs, "epochs", TRAIN_USAGE) ?? config.epochs;
    outDir = stringOption(values.out) ?? resumeDir;
  } else {
    config = resolveConfig(values);
    outDir = stringOption(values.out) ?? join("runs", timestamp());
  }
  const preset = MODELS[config.model];
  if (!preset) throw new UsageError(`unknown model ${JSON.stringify(config.model)} in the checkpoint`);

  const data = await loadDataset(config.dataset);
  manualSeed(config.seed);
  const model = preset.build(data.imageSize, data.classes);
  model.compile({
    optimizer: optimizerFactory(config.optimizer, { learningRate: config.lr }),
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
  });
  const split = splitValidation(data.train.x, data.train.y, config.validationSplit, config.seed);
  const shuffle = new Generator(config.seed);
  let history = new History();
  let initialEpoch = 0;
  let trainedSeconds = 0;
  if (resumeDir !== undefined) {
    const extra = await loadCheckpoint(join(resumeDir, "checkpoint"), { model, optimizer: model.optimizer!, generators: { shuffle } });
    history = History.fromJSON(extra.history as Parameters<typeof History.fromJSON>[0]);
    initialEpoch = extra.epoch as number;
    trainedSeconds = (extra.trainedSeconds as number | undefined) ?? 0;
    say(`Resuming ${resumeDir} after epoch ${initialEpoch} of ${config.epochs}.`);
  }
  await mkdir(outDir, { recursive: true });

  say(`tensorgrad train: model ${config.model} on ${data.source}; ${split.x.shape[0]} training, ${split.val?.[0].shape[0] ?? 0} validation, ${data.test.x.shape[0]} test samples`);
  say(
    `optimizer ${config.optimizer} (lr ${config.lr}), batch size ${config.batchSize}, ${config.epochs} epoch${config.epochs === 1 ? "" : "s"}, seed ${config.seed}, backend ${current()}; writing to ${outDir}`,
  );
  if (!quiet && initialEpoch === 0) model.summary();

  // Ctrl-C: stop after the current batch; the last epoch's checkpoint stays for --resume
  let interrupts = 0;
  const onSigint = () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
  };
  const unlock = await lockRunDir(outDir);
  process.on("SIGINT", onSigint);
  const checkpointDir = join(outDir, "checkpoint");
  let epochStarted = 0;
  const nan = terminateOnNaN(); // first, so that the checkpoint below knows of a divergence in its epoch
  const callbacks: Callback[] = [
    nan,
    {
      onEpochBegin() {
        epochStarted = performance.now();
      },
      onBatchEnd() {
        if (interrupts > 0) throw new Interrupted();
      },
      async onEpochEnd(epoch, logs, ctx) {
        trainedSeconds += (performance.now() - epochStarted) / 1000;
        if (nan.stopped) return;
        const h = History.fromJSON(ctx.history.toJSON());
        h.record(epoch, logs);
        await saveCheckpoint(checkpointDir, { model, optimizer: model.optimizer!, generators: { shuffle } }, {
          config,
          epoch: epoch + 1,
          history: h.toJSON(),
          trainedSeconds,
        });
      },
    },
  ];
  try {
    if (initialEpoch < config.epochs) {
      history = await model.fit(split.x, split.y, {
        batchSize: config.batchSize,
        epochs: config.epochs,
        initialEpoch,
        validationData: split.val ?? undefined,
        callbacks,
        verbose: quiet ? 0 : 1,
        shuffle: true,
        generator: shuffle,
      }).then((h) => mergeHistory(history, h));
    } else say(`The run already finished its ${config.epochs} epochs; evaluating it again.`);
    if (nan.stopped) {
      const { epoch, message } = nan.stopped;
      const kept = epoch > 0 ? `the checkpoint after epoch ${epoch} in ${checkpointDir} is kept` : "no checkpoint or model was written";
      throw new Error(`${message}. Non-finite weights are not saved: ${kept}.`);
    }
    await writeResults(model, data, config, history, outDir, trainedSeconds, say);
  } catch (e) {
    if (e instanceof Interrupted) {
      console.error(`\nInterrupted. The checkpoint after the last finished epoch is in ${checkpointDir}; continue with:\n  tensorgrad train --resume ${outDir}`);
      return 130;
    }
    throw e;
  } finally {
    process.off("SIGINT", onSigint);
    unlock();
  }
  return 0;
}

/** Appends the epochs of `next` (a resumed fit) to `base`. */
function mergeHistory(base: History, next: History): History {
  if (base.length === 0) return next;
  const merged = History.fromJSON(base.toJSON());
  next.epoch.forEach((e, i) => {
    const logs: Record<string, number> = {};
    for (const [k, v] of Object.entries(next.history)) logs[k] = v[i]!;
    merged.record(e, logs);
  });
  merged.params = next.params;
  return merged;
}

async function writeResults(
  model: KerasSequential,
  data: LoadedData,
  config: TrainConfig,
  history: History,
  outDir: string,
  trainedSeconds: number,
  say: (s: string) => void,
): Promise<void> {
  const [testLoss, testAccuracy] = await model.evaluate(data.test.x, data.test.y, { batchSize: 256 });
  const probs = model.predict(data.test.x, { batchSize: 256 });
  const matrix = confusionMatrix(probs, data.test.y, data.classes);
  say(
    `Test accuracy: ${(100 * testAccuracy!).toFixed(2)}% (loss ${testLoss!.toFixed(4)}) on ${data.test.x.shape[0]} test samples after ${history.length} epoch${history.length === 1 ? "" : "s"}; training took ${trainedSeconds.toFixed(1)} s`,
  );
  const results = {
    "test accuracy": `${(100 * testAccuracy!).toFixed(2)}%`,
    "test loss": testLoss!,
    epochs: history.length,
    "training time": `${trainedSeconds.toFixed(1)} s`,
  };
  const json = { ...history.toJSON(), config, test: { loss: testLoss, accuracy: testAccuracy }, trainedSeconds };
  const put = (name: string, data: string | Uint8Array) => writeFileAtomic(join(outDir, name), [typeof data === "string" ? Buffer.from(data) : data], "tensorgrad train");
  await put("history.json", `${JSON.stringify(json, null, 2)}\n`);
  const [h, w] = data.imageSize;
  await save(model.stateDict(), join(outDir, "model.safetensors"), {
    metadata: { "tensorgrad.model": config.model, "tensorgrad.image_size": `${h}x${w}`, "tensorgrad.classes": String(data.classes), format: "pt" },
  });
  const svg = await learningCurveSvg(history, { title: `Learning curves: ${config.model} on ${config.dataset}` });
  await put("learning-curve.svg", svg);
  let pngNote = "";
  try {
    await put("learning-curve.png", await svgToPng(svg));
  } catch (e) {
    pngNote = ` (no PNG: ${(e as Error).message})`;
  }
  const samples = pickSamples(data.test.x, data.test.y, probs, [h, w]);
  let summary = "";
  model.summary({ print: (s) => (summary = s) });
  const html = trainingReportHtml({
    title: `tensorgrad: ${config.model} on ${config.dataset}`,
    config: { ...config, dataset: data.source, "training samples": data.train.x.shape[0], "test samples": data.test.x.shape[0] },
    results,
    curvesSvg: svg,
    history: history.history,
    confusionMatrix: matrix,
    samples,
    modelText: summary,
  });
  await put("report.html", html);
  say(`Wrote ${resolve(outDir)}: history.json, learning-curve.svg, learning-curve.png${pngNote}, model.safetensors, checkpoint/, report.html`);
}

/** 16 test samples spread evenly over the (class-sorted) test split, and up to 16 misclassified ones, also spread. */
function pickSamples(x: Tensor, y: Tensor, probs: Tensor, [h, w]: [number, number]): ReportSample[] {
  const n = x.shape[0]!;
  const c = probs.shape[1]!;
  const p = probs.dataSync();
  const labels = y.dataSync();
  const predicted = probs.argmax(1).dataSync();
  const spread = (items: number[], k: number) => (items.length <= k ? items : Array.from({ length: k }, (_, i) => items[Math.floor((i * items.length) / k)]!));
  const all = Array.from({ length: n }, (_, i) => i);
  const wrong = all.filter((i) => predicted[i] !== labels[i]);
  const chosen = [...spread(all, 16), ...spread(wrong, 16)];
  const pixels = x.dataSync();
  return chosen.map((i) => ({
    pixels: pixels.subarray(i * h * w, (i + 1) * h * w),
    width: w,
    height: h,
    label: labels[i]!,
    predicted: predicted[i]!,
    confidence: p[i * c + predicted[i]!]!,
  }));
}
