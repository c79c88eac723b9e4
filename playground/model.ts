/**
 * @file The playground's models as Keras-style definitions, and the safetensors metadata that lets a
 * saved model be rebuilt: a configuration with the same layers as a `tensorgrad train` preset is
 * saved under the preset's name ("mlp", "cnn"), so `tensorgrad predict` loads it too; any other as
 * "playground" with its configuration in `tensorgrad.playground`.
 */
import { MODELS } from "../src/cli/models.ts";
import * as tg from "../src/index.ts";
import type { TrainConfig } from "./protocol.ts";

type Layer = Parameters<typeof tg.keras.sequential>[0][number];

export function buildModel(c: TrainConfig): tg.keras.KerasSequential {
  const kernelInitializer = c.init === "he" ? "heNormal" : "glorotUniform";
  const act = c.activation ?? "relu";
  const hidden = (units: number): Layer[] => {
    const out: Layer[] = c.batchNorm
      ? [tg.keras.dense(units, { kernelInitializer }), tg.keras.batchNormalization(), tg.keras.activation(act)]
      : [tg.keras.dense(units, { activation: act, kernelInitializer })];
    if (c.dropout > 0) out.push(tg.keras.dropout(c.dropout));
    return out;
  };
  const layers: Layer[] = [];
  if (c.arch === "mlp") {
    layers.push(tg.keras.input([784]));
    for (const h of c.hidden) layers.push(...hidden(h));
  } else {
    layers.push(tg.keras.input([1, 28, 28]));
    for (const f of c.filters) {
      if (c.batchNorm) layers.push(tg.keras.conv2d(f, 3, { padding: "same", kernelInitializer }), tg.keras.batchNormalization(), tg.keras.activation(act));
      else layers.push(tg.keras.conv2d(f, 3, { padding: "same", activation: act, kernelInitializer }));
      layers.push(tg.keras.maxPooling2d(2));
    }
    layers.push(tg.keras.flatten(), ...hidden(c.dense));
  }
  layers.push(tg.keras.dense(10, { activation: "softmax", kernelInitializer }));
  return tg.keras.sequential(layers, { name: c.arch });
}

/** The `tensorgrad train` preset with exactly these layers, if any. */
function presetName(c: TrainConfig): string | null {
  if (c.batchNorm || c.dropout > 0 || (c.activation ?? "relu") !== "relu") return null;
  if (c.arch === "mlp" && c.hidden.length === 1 && c.hidden[0] === 128) return "mlp";
  if (c.arch === "cnn" && c.filters.join() === "8,16" && c.dense === 64) return "cnn";
  return null;
}

export function metadataFor(c: TrainConfig): Record<string, string> {
  return {
    "tensorgrad.model": presetName(c) ?? "playground",
    "tensorgrad.playground": JSON.stringify(c),
    "tensorgrad.image_size": "28x28",
    "tensorgrad.classes": "10",
    format: "pt",
  };
}

/** One line saying what the model is. */
export function describe(c: Pick<TrainConfig, "arch" | "hidden" | "filters" | "dense" | "batchNorm" | "dropout" | "activation">): string {
  const a = { relu: "ReLU", sigmoid: "sigmoid", tanh: "tanh" }[c.activation ?? "relu"];
  const extras = `${c.batchNorm ? ", batch norm" : ""}${c.dropout > 0 ? `, dropout ${c.dropout}` : ""}`;
  return c.arch === "mlp"
    ? `MLP 784 → ${c.hidden.map((h) => `${h} ${a} → `).join("")}10 softmax${extras}`
    : `CNN ${c.filters.map((f) => `conv3×3(${f}) ${a} pool2 → `).join("")}dense ${c.dense} ${a} → 10 softmax${extras}`;
}

/** Rebuilds the model a safetensors file describes and loads its weights; throws an Error that says what is wrong. */
export function modelFromFile(bytes: Uint8Array, name: string): { model: tg.keras.KerasSequential; description: string; metadata: Record<string, string> } {
  const { tensors, metadata } = tg.io.deserialize(bytes, { source: name });
  const arch = metadata["tensorgrad.model"];
  let model: tg.keras.KerasSequential;
  let description: string;
  if (arch === "playground" || (arch !== undefined && metadata["tensorgrad.playground"] !== undefined)) {
    let c: TrainConfig;
    try {
      c = JSON.parse(metadata["tensorgrad.playground"] ?? "");
    } catch {
      throw new Error(`${name}: its tensorgrad.playground metadata is not a valid model description`);
    }
    model = buildModel(c);
    description = describe(c);
  } else {
    const preset = arch === undefined ? undefined : MODELS[arch];
    if (!preset)
      throw new Error(
        `${name} holds ${Object.keys(tensors).length} tensors but was not written by tensorgrad train or this playground (its metadata names no known model: ${JSON.stringify(arch ?? null)})`,
      );
    if ((metadata["tensorgrad.image_size"] ?? "28x28") !== "28x28" || (metadata["tensorgrad.classes"] ?? "10") !== "10")
      throw new Error(`${name} is a model for ${metadata["tensorgrad.image_size"]} images and ${metadata["tensorgrad.classes"]} classes; this page draws 28×28 digits, 10 classes`);
    model = preset.build([28, 28], 10);
    description = `${preset.description} (tensorgrad train --model ${arch})`;
  }
  try {
    model.loadStateDict(tensors);
  } catch (e) {
    throw new Error(`${name}: the weights do not fit the model it names (${(e as Error).message})`);
  }
  return { model, description, metadata };
}
