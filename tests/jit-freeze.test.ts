/**
 * @file `tg.jit.freeze`: a frozen model (Linear weights snapshotted and pre-packed by the backend)
 * gives exactly the bits of the eval-mode model under noGrad on every backend, for any batch
 * size, layer size, bias / relu combination, thread count and micro-kernel; it keeps its snapshot
 * when the original changes, and runs in eval mode without touching the original's mode.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { poisonNativeOutputs } from "../src/backend/native/alloc.ts";
import { nativeAddon } from "../src/backend/native/index.ts";
import * as tg from "../src/index.ts";
import { onBackend, sameBits as sameBitsAs } from "./tensor-helpers.ts";

const nn = tg.nn;
// native outputs come NaN-filled: an element linearPacked skips fails a comparison
poisonNativeOutputs(true);

const sameBits = (got: tg.Tensor, want: tg.Tensor, what: string) => sameBitsAs(got, want, what, "the model gives");

/** Linear layers of these sizes, with a ReLU between consecutive ones (and after the last when `lastRelu`). */
function mlp(sizes: readonly number[], bias: boolean, lastRelu = false): tg.nn.Sequential {
  const layers: tg.nn.Module[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    layers.push(new nn.Linear(sizes[i]!, sizes[i + 1]!, { bias }));
    if (i + 2 < sizes.length || lastRelu) layers.push(new nn.ReLU());
  }
  return new nn.Sequential(...layers);
}


const eager = (model: tg.nn.Module, x: tg.Tensor) => tg.noGrad(() => model.eval().call(x) as tg.Tensor);

for (const backend of tg.backend.list()) {
  test(`${backend}: a frozen model equals the eval-mode model bit for bit (batches 1–256, odd sizes, bias and relu or not)`, () => {
    onBackend(backend, () => {
      tg.manualSeed(7);
      for (const [sizes, bias, lastRelu] of [
        [[784, 512, 256, 10], true, false],
        [[33, 17, 5], true, true],
        [[33, 17, 5], false, false],
        [[300, 65, 1], true, false],
        [[1, 40, 3], false, true],
        [[600, 31], true, false],
      ] as const) {
        const model = mlp(sizes, bias, lastRelu);
        const frozen = tg.jit.freeze(model);
        for (const n of [1, 3, 4, 5, 7, 256]) {
          const x = tg.randn([n, sizes[0]!]);
          sameBits(frozen.call(x), eager(model, x), `${sizes.join("→")}${bias ? "" : " (no bias)"}, batch ${n}`);
        }
        // 1-D and 3-D inputs, and a strided (transposed) view as the input
        const v = tg.randn([sizes[0]!]);
        sameBits(frozen.call(v), eager(model, v), `${sizes.join("→")}, 1-D input`);
        const x3 = tg.randn([2, 3, sizes[0]!]);
        sameBits(frozen.call(x3), eager(model, x3), `${sizes.join("→")}, 3-D input`);
        const xt = tg.randn([sizes[0]!, 6]).t();
        sameBits(frozen.call(xt), eager(model, xt), `${sizes.join("→")}, transposed input`);
      }
    });
  });

  test(`${backend}: a frozen custom Module (Linear layers called from forward) equals the model`, () => {
    onBackend(backend, () => {
      tg.manualSeed(8);
      class Net extends nn.Module {
        fc1 = new nn.Linear(50, 20);
        drop = new nn.Dropout(0.5);
        fc2 = new nn.Linear(20, 4, { bias: false });
        override forward(x: tg.Tensor): tg.Tensor {
          return this.fc2.call(this.drop.call(this.fc1.call(x).tanh()));
        }
      }
      const model = new Net();
      const frozen = tg.jit.freeze(model);
      for (const n of [1, 5, 64]) {
        const x = tg.randn([n, 50]);
        model.train();
        // eval mode inside the call (no dropout), the original left in training mode
        sameBits(frozen.call(x), eager(model, x), `Net, batch ${n}`);
        model.train();
        frozen.call(x);
        assert.equal(model.training, true, "the original keeps its mode");
        assert.equal(model.drop.training, true, "the original's children keep their mode");
      }
    });
  });

  if (backend !== "js")
    test(`${backend}: frozen results do not depend on the thread count`, () => {
      onBackend(backend, () => {
        const before = tg.backend.threads();
        try {
          tg.manualSeed(9);
          const model = mlp([784, 512, 256, 10], true);
          const frozen = tg.jit.freeze(model);
          for (const n of [1, 2, 4, 5, 256]) {
            const x = tg.randn([n, 784]);
            tg.backend.setThreads(1);
            const one = frozen.call(x) as tg.Tensor;
            tg.backend.setThreads(2);
            const two = frozen.call(x) as tg.Tensor;
            sameBits(two, one, `batch ${n}, 2 threads vs 1`);
            sameBits(one, eager(model, x), `batch ${n}, frozen vs model`);
          }
        } finally {
          tg.backend.setThreads(before);
        }
      });
    });
}

test("native: weights packed for one micro-kernel still give the model's bits when another is selected", { skip: nativeAddon() === null }, () => {
  const addon = nativeAddon()!;
  onBackend("native", () => {
    const before = addon.kernelName();
    try {
      tg.manualSeed(10);
      for (const packedWith of addon.kernels())
        for (const runWith of addon.kernels()) {
          addon.setKernel(packedWith);
          const model = mlp([70, 45, 9], true);
          const frozen = tg.jit.freeze(model);
          addon.setKernel(runWith);
          for (const n of [1, 4, 6, 30]) {
            const x = tg.randn([n, 70]);
            sameBits(frozen.call(x), eager(model, x), `packed for ${packedWith}, run with ${runWith}, batch ${n}`);
          }
        }
    } finally {
      addon.setKernel(before);
    }
  });
});

test("a frozen model keeps its snapshot: later changes to the original show only after freezing again", () => {
  tg.manualSeed(11);
  const model = mlp([12, 8, 3], true);
  const x = tg.randn([4, 12]);
  const frozen = tg.jit.freeze(model);
  const before = eager(model, x);
  const old = mlp([12, 8, 3], true);
  old.loadStateDict(Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()])));
  // an optimizer step writes the parameters in place
  const opt = new tg.optim.SGD(model.parameters(), { lr: 0.5 });
  model.train();
  (model.call(x) as tg.Tensor).square().sum().backward();
  opt.step();
  const after = eager(model, x);
  assert.notDeepEqual(after.dataSync(), before.dataSync(), "the step changed the model");
  sameBits(frozen.call(x), before, "the frozen model still computes with the old weights");
  // switching backends keeps the snapshot too (packed again, or the ordinary kernels, on the snapshot)
  for (const backend of tg.backend.list()) onBackend(backend, () => sameBits(frozen.call(x), eager(old, x), `${backend}: snapshot`));
  sameBits(tg.jit.freeze(model).call(x), after, "freezing again sees the new weights");
});

test("a frozen model is inference-only: no graph, no parameters, train() refused", () => {
  tg.manualSeed(12);
  const model = mlp([6, 4, 2], true);
  const frozen = tg.jit.freeze(model);
  const x = tg.randn([3, 6], { requiresGrad: true });
  const y = frozen.call(x) as tg.Tensor;
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  assert.deepEqual(frozen.parameters(), []);
  assert.equal(frozen.original, model);
  assert.equal(frozen.training, false);
  assert.doesNotThrow(() => frozen.eval());
  assert.throws(() => frozen.train(), /inference-only/);
  assert.match(frozen.toString(), /^FrozenModule\(Sequential/);
  assert.throws(() => tg.jit.freeze({} as tg.nn.Module), /must be a tg.nn.Module/);
  // a wrong input shape names the op as the unfrozen layer does
  assert.throws(() => frozen.call(tg.randn([3, 5])), /linear: input shape \[3,5\]/);
});

for (const backend of tg.backend.list()) {
  test(`${backend}: empty layers and empty batches freeze too`, () => {
    onBackend(backend, () => {
      tg.manualSeed(13);
      for (const [inF, outF] of [
        [0, 3],
        [3, 0],
      ] as const) {
        const model = new nn.Sequential(new nn.Linear(inF, outF), new nn.ReLU());
        const frozen = tg.jit.freeze(model);
        for (const n of [0, 1, 5]) {
          const x = tg.randn([n, inF]);
          sameBits(frozen.call(x), eager(model, x), `Linear(${inF}, ${outF}), batch ${n}`);
        }
      }
      const model = mlp([9, 4], true);
      sameBits(tg.jit.freeze(model).call(tg.zeros([0, 9])), eager(model, tg.zeros([0, 9])), "batch 0");
    });
  });
}
