/**
 * @file `tensorgrad graph`: writes the computational graph of one training step of a model — the
 * forward pass and the cross-entropy loss on one sample — as an SVG (tg.viz.graphToSvg), with
 * parameters labelled by their state-dict names.
 */
import { writeFileAtomic } from "../io/files.ts";
import { crossEntropy } from "../nn/functional/classification.ts";
import { tensor, zeros } from "../ops/creation.ts";
import { manualSeed } from "../tensor/random.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { graphToSvg } from "../viz/svg.ts";
import { choiceOption, parse, stringOption } from "./args.ts";
import { defaultModel, MODELS } from "./models.ts";

export const GRAPH_USAGE = `usage: tensorgrad graph [--model ${Object.keys(MODELS).join("|")}] [--out FILE]

Writes the autograd graph of one training step (forward pass + cross-entropy loss) as SVG.

options:
  --model NAME           ${Object.keys(MODELS).join(" | ")} (default ${defaultModel()} on this backend)
  --out FILE             the SVG file to write (default <model>-graph.svg)
  -h, --help             this help`;

export async function graph(argv: readonly string[]): Promise<number> {
  const { values } = parse(argv, { model: { type: "string" }, out: { type: "string" } }, GRAPH_USAGE);
  if (values.help) {
    console.log(GRAPH_USAGE);
    return 0;
  }
  const name = choiceOption(values.model, "model", Object.keys(MODELS), GRAPH_USAGE) ?? defaultModel();
  const out = stringOption(values.out) ?? `${name}-graph.svg`;
  manualSeed(0);
  const model = MODELS[name]!.build([28, 28], 10);
  const x = zeros([1, 784]);
  const y = tensor([0], { dtype: "int32" });
  const logits = model.forwardLogits(x);
  const loss = crossEntropy(logits, y);
  const names = new Map<Tensor, string>([
    [x, "image"],
    [y, "label"],
    [loss, "loss"],
  ]);
  for (const [k, p] of model.namedParameters()) names.set(p, k);
  await writeFileAtomic(out, [Buffer.from(graphToSvg(loss, { names }))], "tensorgrad graph");
  console.log(`Wrote the graph of ${name}'s training step (${model.parameters().length} parameter tensors) to ${out}`);
  return 0;
}
