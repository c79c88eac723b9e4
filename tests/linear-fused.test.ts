/**
 * @file The fused inference path of `F.linear` and of `nn.Sequential`'s Linear → ReLU pairs (the
 * backend's optional `linear` kernel, used when no graph is recorded): bit-identical to matmul,
 * add and relu on every backend, for 1-D, 2-D and 3-D inputs; hooks and gradients unchanged.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tg from "../src/index.ts";
import { onBackend, sameBits as sameBitsAs } from "./tensor-helpers.ts";

const sameBits = (got: tg.Tensor, want: tg.Tensor, what: string) => sameBitsAs(got, want, what, "composed ops give");

for (const backend of tg.backend.list()) {
  test(`${backend}: F.linear without a graph equals matmul + add (+ relu) bit for bit`, () => {
    onBackend(backend, () => {
      tg.manualSeed(3);
      for (const [inF, outF] of [
        [1, 1],
        [7, 5],
        [33, 17],
        [300, 65],
      ] as const) {
        const w = tg.randn([outF, inF]);
        const b = tg.randn([outF]);
        for (const shape of [[inF], [1, inF], [3, inF], [2, 5, inF]]) {
          const x = tg.randn(shape);
          const composed = x.matmul(w.t()).add(b);
          sameBits(tg.noGrad(() => tg.F.linear(x, w, b)), composed, `linear ${shape} → ${outF}`);
          sameBits(tg.F.linear(x, w), x.matmul(w.t()), `linear without bias ${shape}`);
          const seq = new tg.nn.Sequential(new tg.nn.Linear(inF, outF), new tg.nn.ReLU());
          const fc = seq.at(0) as tg.nn.Linear;
          const want = x.matmul(fc.weight.t()).add(fc.bias!).relu().detach();
          sameBits(tg.noGrad(() => seq.call(x) as tg.Tensor), want, `Linear → ReLU ${shape}`);
        }
      }
    });
  });
}

test("Sequential still runs hooks and records the same graph when gradients are needed", () => {
  tg.manualSeed(5);
  const seq = new tg.nn.Sequential(new tg.nn.Linear(6, 4), new tg.nn.ReLU(), new tg.nn.Linear(4, 2));
  const x = tg.randn([3, 6]);
  const seen: string[] = [];
  const remove = seq.at(1).registerForwardHook(() => {
    seen.push("relu");
  });
  tg.noGrad(() => seq.call(x));
  assert.deepEqual(seen, ["relu"], "a hooked ReLU is not fused away");
  remove();
  const loss = (seq.call(x) as tg.Tensor).square().sum();
  loss.backward();
  const fc = seq.at(0) as tg.nn.Linear;
  const fc2 = seq.at(2) as tg.nn.Linear;
  const g = fc.weight.grad!.clone();
  fc.weight.grad = null;
  fc2.weight.grad = null;
  x.matmul(fc.weight.t()).add(fc.bias!).relu().matmul(fc2.weight.t()).add(fc2.bias!).square().sum().backward();
  sameBits(g, fc.weight.grad!, "weight gradient through the Linear → ReLU pair");
});

for (const backend of tg.backend.list()) {
  test(`${backend}: with a graph, the fused linear (one recorded node) gives the separate ops' output and gradients bit for bit`, () => {
    onBackend(backend, () => {
      tg.manualSeed(11);
      for (const [inF, outF] of [
        [1, 1],
        [1, 6],
        [6, 1],
        [7, 5],
        [33, 17],
        [300, 65],
      ] as const)
        for (const shape of [[inF], [1, inF], [4, inF], [9, inF], [2, 5, inF]])
          for (const withBias of [true, false])
            for (const relu of [true, false]) {
              const what = `${shape} → ${outF}${withBias ? " + bias" : ""}${relu ? ", relu" : ""}`;
              const leaves = [tg.randn(shape), tg.randn([outF, inF]), tg.randn([outF])].map((t) => t.requiresGrad_(true));
              const [x, w, b] = leaves as [tg.Tensor, tg.Tensor, tg.Tensor];
              const seed = tg.randn([...shape.slice(0, -1), outF]);
              const fused = tg.F.linearAct(x, w, withBias ? b : null, relu);
              if (shape.length === 2 && tg.backend.current() !== "js") assert.equal(fused.gradFn?.op, "linear", what);
              const [fx, fw, fb] = tg.grad(fused.mul(seed).sum(), leaves, { allowUnused: true });
              let y = x.matmul(w.t());
              if (withBias) y = y.add(b);
              if (relu) y = y.relu();
              const [cx, cw, cb] = tg.grad(y.mul(seed).sum(), leaves, { allowUnused: true });
              sameBits(fused.detach(), y.detach(), `output ${what}`);
              sameBits(fx!, cx!, `input gradient ${what}`);
              sameBits(fw!, cw!, `weight gradient ${what}`);
              if (withBias) sameBits(fb!, cb!, `bias gradient ${what}`);
            }
    });
  });
}

test("the backends' linearBackward hook equals reluBackward, matmul, matmul and sum(0) bit for bit (strided g, odd shapes, 1 and 2 threads)", async () => {
  const { linearGradients } = await import("../src/fused/linear.ts");
  for (const backend of tg.backend.list()) {
    onBackend(backend, () => {
      if (tg.backend.current() !== backend) return;
      tg.manualSeed(11);
      const before = tg.backend.threads();
      for (const threads of backend === "js" ? [1] : [1, 2]) {
        tg.backend.setThreads(threads);
        for (const [M, K, N] of [
          [1, 7, 5],
          [3, 33, 17],
          [5, 300, 65],
          [128, 784, 64],
          [64, 40, 257],
        ] as const) {
          const x = tg.randn([M, K]);
          const w = tg.randn([N, K]);
          const y = tg.randn([M, N]).relu();
          // −0 and NaN where relu's mask and the sums can show them
          y.dataSync()[0] = 0;
          const gs = [tg.randn([M, N]), tg.randn([N, M]).t(), tg.randn([1, N]).expand([M, N])];
          gs[0]!.dataSync()[gs[0]!.numel() - 1] = -0;
          for (const [gi, g] of gs.entries())
            for (const relu of [false, true])
              for (const needs of [
                [true, true, true],
                [false, true, true],
                [true, false, false],
              ]) {
                const got = tg.noGrad(() => linearGradients(g, x, w, true, relu ? y : null, needs));
                const gy = relu ? tg.noGrad(() => y.gt(0).to("float32").mul(g)) : g;
                const want = [needs[0] ? gy.matmul(w) : null, needs[1] ? gy.mT.matmul(x) : null, needs[2] ? gy.sum(0) : null];
                want.forEach((t, i) => {
                  const what = `${backend}@${threads} [${M},${K}]→${N} g#${gi} relu=${relu} needs=${needs} grad ${i}`;
                  if (t === null) assert.equal(got[i], null, what);
                  else sameBits(got[i]!, t, what);
                });
              }
        }
      }
      tg.backend.setThreads(before);
    });
  }
});
