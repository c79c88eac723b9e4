/**
 * @file tensorgrad's side of W2–W4: the MLP and the CNN of BENCHMARKS.md and their adapters to the
 * shared loops in ../lib/mnist-train.ts. Mirrors peers/pytorch_w2.py, pytorch_w3.py and tfjs.ts.
 */
import * as tg from "../../src/index.ts";
import { CLASSES, type InferAdapter, PIXELS, type TrainAdapter } from "../lib/mnist-train.ts";

const nn = tg.nn;

/** W2 / W4: 784→512 ReLU→256 ReLU→10 (logits). */
export function mlp(): tg.nn.Sequential {
  return new nn.Sequential(new nn.Linear(PIXELS, 512), new nn.ReLU(), new nn.Linear(512, 256), new nn.ReLU(), new nn.Linear(256, CLASSES));
}

/** W3: Conv2d(1→16, 3×3, pad 1) ReLU MaxPool 2 → Conv2d(16→32, 3×3, pad 1) ReLU MaxPool 2 → Flatten → Linear(1568→128) ReLU → Linear(128→10). */
export function cnn(): tg.nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 16, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(16, 32, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(32 * 7 * 7, 128),
    new nn.ReLU(),
    new nn.Linear(128, CLASSES),
  );
}

/**
 * Runs the active backend at `threads` and returns the count it really uses (the figure's
 * `threads`): js is single-threaded; the multi-threaded backends (wasm, native) are set with
 * `tg.backend.setThreads` and checked with `tg.backend.threads()`.
 */
export function useThreads(backend: string, threads: number): number {
  if (backend === "js") {
    if (threads !== 1) throw new Error("the js backend is single-threaded");
    return 1;
  }
  tg.backend.setThreads(threads);
  const actual = tg.backend.threads();
  if (actual !== threads) throw new Error(`the ${backend} backend runs ${actual} thread(s), not ${threads}`);
  return actual;
}

/** Adam lr 1e-3, softmax cross-entropy; inputs as [n, 784] (MLP) or [n, 1, 28, 28] (CNN). */
export function trainAdapter(model: tg.nn.Module, image: boolean): TrainAdapter {
  const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
  const input = (x: Float32Array, n: number) => tg.tensor(x).reshape(image ? [n, 1, 28, 28] : [n, PIXELS]);
  return {
    step(x, y, n) {
      model.train();
      const loss = tg.F.crossEntropy(model.call(input(x, n)) as tg.Tensor, tg.tensor(y, { dtype: "int32" }));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    },
    predict(x, n) {
      model.eval();
      return Int32Array.from(tg.noGrad(() => (model.call(input(x, n)) as tg.Tensor).argmax(1)).dataSync());
    },
  };
}

/** One inference call: input from the floats, forward under noGrad, the logits read back. */
export function inferAdapter(model: tg.nn.Module): InferAdapter {
  model.eval();
  return { infer: (x, n) => tg.noGrad(() => (model.call(tg.tensor(x).reshape([n, PIXELS])) as tg.Tensor).dataSync()) };
}
