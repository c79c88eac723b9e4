/**
 * @file The `tensorgrad` command's dispatcher: `train`, `predict`, `graph`, `bench`, `onnx`, `playground`. Mistakes in the call get a
 * message and exit code 2; failures a one-line error and exit code 1 (the stack trace only with
 * TENSORGRAD_DEBUG=1); an interrupted training run exits 130.
 */
import { UsageError } from "./args.ts";
import { BENCH_USAGE, bench } from "./bench.ts";
import { GRAPH_USAGE, graph } from "./graph.ts";
import { ONNX_USAGE, onnx } from "./onnx.ts";
import { PLAYGROUND_USAGE, playground } from "./playground.ts";
import { PREDICT_USAGE, predict } from "./predict.ts";
import { TRAIN_USAGE, train } from "./train.ts";

const COMMANDS: Record<string, { run: (argv: readonly string[]) => Promise<number>; usage: string; summary: string }> = {
  train: { run: train, usage: TRAIN_USAGE, summary: "train a model (default: the embedded MNIST digits) and write curves, weights and a report" },
  predict: { run: predict, usage: PREDICT_USAGE, summary: "classify IDX / PNG / JPEG images with a saved model" },
  graph: { run: graph, usage: GRAPH_USAGE, summary: "write the computational graph of a model's training step as SVG" },
  bench: { run: bench, usage: BENCH_USAGE, summary: "run the benchmark suite (npm run bench)" },
  onnx: { run: onnx, usage: ONNX_USAGE, summary: "inspect an ONNX model: opset, inputs, outputs, ops, parameters" },
  playground: { run: playground, usage: PLAYGROUND_USAGE, summary: "serve the browser playground on 127.0.0.1 (npm run playground)" },
};

export const USAGE = `usage: tensorgrad <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([k, c]) => `  ${k.padEnd(9)}${c.summary}`)
  .join("\n")}

Run "tensorgrad <command> --help" for a command's options.`;

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === "--version" || command === "-v") {
    const { readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { packageRoot } = await import("./bench.ts");
    console.log(JSON.parse(await readFile(join(packageRoot(), "package.json"), "utf8")).version);
    return 0;
  }
  const cmd = COMMANDS[command];
  try {
    if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(command)}`, USAGE);
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`tensorgrad${cmd ? ` ${command}` : ""}: ${e.message}`);
      console.error(cmd ? `Run "tensorgrad ${command} --help" for the options.` : `\n${USAGE}`);
      return 2;
    }
    const err = e as Error;
    console.error(`tensorgrad${cmd ? ` ${command}` : ""}: error: ${err?.message ?? String(e)}`);
    if (process.env.TENSORGRAD_DEBUG) console.error(err?.stack);
    return 1;
  }
}
