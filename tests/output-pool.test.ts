/**
 * @file Recycled output storage (src/backend/output-pool.ts): backward hands the storage of the
 * gradients it is done with back to the pool, and later outputs reuse it. Checked here: the pool
 * takes back only what it issued since the mark, once; and on every backend that uses it, no
 * gradient, retained gradient, `tg.grad` result or caller's array is ever reused while it is
 * still reachable — after more passes that churn the pool, each still holds its bits, and they
 * equal the bits computed with recycling off.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { issueF32, outputSerial, POOL_MIN_ELEMENTS, recycle, setOutputPooling, takeF32 } from "../src/backend/output-pool.ts";
import * as tg from "../src/index.ts";
import { onBackend, sameBits } from "./tensor-helpers.ts";

const pooled = tg.backend.list().filter((b) => b === "wasm" || b === "native");

test("the pool takes back only arrays issued after the mark, each once, and hands them out again", () => {
  setOutputPooling(true);
  const n = POOL_MIN_ELEMENTS * 3 + 5;
  const old = issueF32(new Float32Array(n));
  const since = outputSerial();
  const fresh = issueF32(new Float32Array(n));
  const stranger = new Float32Array(n);
  recycle(old, since);
  recycle(stranger, since);
  assert.equal(takeF32(n), null, "neither an array issued before the mark nor one never issued is taken back");
  recycle(fresh, since);
  recycle(fresh, since);
  assert.equal(takeF32(n), fresh);
  assert.equal(takeF32(n), null, "a second recycle of the same issue is ignored");
  const view = issueF32(new Float32Array(new ArrayBuffer(4 * (n + 8)), 16, n));
  recycle(view, since);
  assert.equal(takeF32(n), null, "a view into a larger buffer is never pooled");
  assert.equal(takeF32(7), null, "small arrays are not pooled");
});

/** Every case: builds a graph from `seed`'s data and returns the tensors whose bits must survive. */
type Case = (seed: number) => tg.Tensor[];

const rand = (shape: number[], seed: number, requiresGrad = false) => {
  tg.manualSeed(seed);
  return tg.randn(shape, { requiresGrad });
};

const cases: Record<string, Case> = {
  "an MLP (Linear → ReLU fused), cross-entropy, parameter gradients": (seed) => {
    tg.manualSeed(1);
    const model = new tg.nn.Sequential(new tg.nn.Linear(64, 96), new tg.nn.ReLU(), new tg.nn.Linear(96, 48), new tg.nn.ReLU(), new tg.nn.Linear(48, 10));
    const x = rand([40, 64], seed);
    const y = tg.tensor(Int32Array.from({ length: 40 }, (_, i) => (i * 7 + seed) % 10), { dtype: "int32" });
    tg.F.crossEntropy(model.call(x) as tg.Tensor, y).backward();
    return model.parameters().map((p) => p.grad!);
  },
  "a CNN (Conv2d → ReLU → MaxPool), parameter gradients": (seed) => {
    tg.manualSeed(2);
    const model = new tg.nn.Sequential(
      new tg.nn.Conv2d(2, 8, 3, { padding: 1 }),
      new tg.nn.ReLU(),
      new tg.nn.MaxPool2d(2),
      new tg.nn.Flatten(),
      new tg.nn.Linear(8 * 8 * 8, 5),
    );
    const x = rand([6, 2, 16, 16], seed);
    (model.call(x) as tg.Tensor).square().mean().backward();
    return model.parameters().map((p) => p.grad!);
  },
  "one tensor reaching the loss by several paths (add passes g to both sides; a reshape shares storage)": (seed) => {
    const x = rand([48, 64], seed, true);
    const a = x.reshape([64, 48]).reshape([48, 64]);
    const y = a.add(x).mul(x).add(x.relu());
    const z = y.reshape([3072]);
    z.sum().backward();
    return [x.grad!];
  },
  "retained gradients of intermediates": (seed) => {
    const x = rand([32, 64], seed, true);
    const h = x.mul(2).relu();
    h.retainGrad();
    const k = h.exp().reshape([64, 32]);
    k.retainGrad();
    k.mul(k).sum().backward();
    return [x.grad!, h.grad!, k.grad!];
  },
  "tg.grad with a non-leaf input": (seed) => {
    const x = rand([40, 50], seed, true);
    const h = x.tanh().mul(3);
    const out = h.sigmoid().mul(h).sum();
    return tg.grad(out, [h, x]).map((g) => g!);
  },
  "a caller's gradient tensor and broadcast sums": (seed) => {
    const x = rand([30, 64], seed, true);
    const b = rand([64], seed + 1, true);
    const y = x.mul(b).add(b);
    const upstream = rand([30, 64], seed + 2);
    y.backward(upstream);
    return [x.grad!, b.grad!, upstream];
  },
  "gradients accumulated over two backward calls": (seed) => {
    const x = rand([32, 48], seed, true);
    const y = x.mul(x).relu();
    y.sum().backward({ retainGraph: true }); // options first: no upstream gradient
    y.mul(3).sum().backward();
    return [x.grad!];
  },
};

/** Runs `body` with recycling on or off, then turns it back on. */
function pooling<T>(on: boolean, body: () => T): T {
  setOutputPooling(on);
  try {
    return body();
  } finally {
    setOutputPooling(true);
  }
}

for (const backend of pooled)
  test(`${backend}: recycled gradients never overwrite one still reachable, and match recycling off bit for bit`, () => {
    onBackend(backend, () => {
      for (const [name, build] of Object.entries(cases)) {
        const want = pooling(false, () => build(10).map((t) => t.clone()));
        const got = pooling(true, () => build(10));
        const snapshot = got.map((t) => t.clone());
        // more passes of every case reuse whatever storage the first one gave back
        pooling(true, () => {
          for (let s = 0; s < 3; s++) for (const other of Object.values(cases)) other(20 + s);
        });
        got.forEach((t, i) => {
          sameBits(t, snapshot[i]!, `${name}, tensor ${i}, after later passes`, "right after its backward it was");
          sameBits(t, want[i]!, `${name}, tensor ${i}`, "with recycling off it is");
        });
      }
    });
  });

test("a training loop on a pooled backend reuses storage: its parameters match recycling off bit for bit", () => {
  for (const backend of pooled)
    onBackend(backend, () => {
      const train = () => {
        tg.manualSeed(3);
        const model = new tg.nn.Sequential(new tg.nn.Conv2d(1, 4, 3, { padding: 1 }), new tg.nn.ReLU(), new tg.nn.MaxPool2d(2), new tg.nn.Flatten(), new tg.nn.Linear(4 * 7 * 7, 10));
        const opt = new tg.optim.Adam(model.parameters(), { lr: 1e-2 });
        for (let step = 0; step < 4; step++) {
          const x = rand([16, 1, 14, 14], 40 + step);
          const y = tg.tensor(Int32Array.from({ length: 16 }, (_, i) => (i + step) % 10), { dtype: "int32" });
          opt.zeroGrad();
          tg.F.crossEntropy(model.call(x) as tg.Tensor, y).backward();
          opt.step();
        }
        return model.parameters();
      };
      const want = pooling(false, train);
      const got = pooling(true, train);
      got.forEach((p, i) => {
        sameBits(p, want[i]!, `${backend}: parameter ${i} after 4 steps`, "with recycling off it is");
      });
    });
});

test("zeroGrad recycles a parameter's gradient only when nobody read it: a gradient the caller kept keeps its bits", () => {
  for (const backend of pooled)
    onBackend(backend, () => {
      tg.manualSeed(5);
      const model = new tg.nn.Sequential(new tg.nn.Linear(64, 128), new tg.nn.ReLU(), new tg.nn.Linear(128, 10));
      const opt = new tg.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
      const w = model.parameters()[0]!;
      const pass = (seed: number) => {
        const x = rand([32, 64], seed);
        const y = tg.tensor(Int32Array.from({ length: 32 }, (_, i) => (i + seed) % 10), { dtype: "int32" });
        tg.F.crossEntropy(model.call(x) as tg.Tensor, y).backward();
      };
      pass(1);
      const unseen = w._grad!.data;
      opt.step();
      opt.zeroGrad();
      pass(2);
      assert.equal(w._grad!.data, unseen, `${backend}: the next backward reuses the storage of a gradient nobody read`);
      const kept = w.grad!; // read by the caller: must survive later passes
      const bits = kept.clone();
      opt.step();
      opt.zeroGrad();
      for (let s = 3; s < 6; s++) {
        pass(s);
        opt.step();
        model.zeroGrad();
      }
      sameBits(kept, bits, `${backend}: a gradient the caller read before zeroGrad, after later steps`, "when it was read it was");
      assert.notEqual(w._grad, kept);
    });
});

test("gradient clipping and every optimizer's step leave the recycling safe: training matches recycling off bit for bit", () => {
  const makers: [string, (ps: tg.nn.Parameter[]) => tg.optim.Optimizer][] = [
    ["SGD", (ps) => new tg.optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3 })],
    ["Adam", (ps) => new tg.optim.Adam(ps, { lr: 1e-2, amsgrad: true })],
    ["AdamW", (ps) => new tg.optim.AdamW(ps, { lr: 1e-2 })],
    ["RMSprop", (ps) => new tg.optim.RMSprop(ps, { lr: 1e-3, momentum: 0.5 })],
    ["Adagrad", (ps) => new tg.optim.Adagrad(ps, { lr: 1e-2 })],
    ["Adadelta", (ps) => new tg.optim.Adadelta(ps)],
  ];
  for (const backend of pooled)
    onBackend(backend, () => {
      for (const [name, make] of makers) {
        const train = () => {
          tg.manualSeed(9);
          const model = new tg.nn.Sequential(new tg.nn.Linear(48, 64), new tg.nn.ReLU(), new tg.nn.Linear(64, 32), new tg.nn.ReLU(), new tg.nn.Linear(32, 10));
          const opt = make(model.parameters());
          for (let step = 0; step < 5; step++) {
            const x = rand([40, 48], 60 + step);
            const y = tg.tensor(Int32Array.from({ length: 40 }, (_, i) => (i * 3 + step) % 10), { dtype: "int32" });
            opt.zeroGrad();
            tg.F.crossEntropy(model.call(x) as tg.Tensor, y).backward();
            if (step % 2 === 0) tg.optim.clipGradNorm(model.parameters(), 0.5);
            else tg.optim.clipGradValue(model.parameters(), 0.01);
            opt.step();
          }
          return model.parameters();
        };
        const want = pooling(false, train);
        const got = pooling(true, train);
        got.forEach((p, i) => {
          sameBits(p, want[i]!, `${backend} ${name}: parameter ${i} after 5 steps`, "with recycling off it is");
        });
      }
    });
});
