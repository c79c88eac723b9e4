/**
 * @file `npm start` (until the training CLI lands): a 2-16-1 MLP learns a non-linear boundary
 * (two interleaved half-moons) with define-by-run autograd and plain gradient descent.
 */
import * as tg from "tensorgrad";

tg.manualSeed(0);
const n = 400;
// two interleaved half-moons with noise: not linearly separable
const t = tg.rand([n]).mul(Math.PI);
const label = tg.arange(n).ge(n / 2).to("float32");
const sign = label.mul(2).sub(1);
const x = tg.stack([t.cos().mul(sign.neg()).add(label), t.sin().mul(sign.neg()).add(label.mul(0.5))], 1).add(tg.randn([n, 2]).mul(0.1));
const y = label.reshape([n, 1]);

const w1 = tg.randn([2, 16]).mul(Math.sqrt(2 / 2)).requiresGrad_();
const b1 = tg.zeros([16], { requiresGrad: true });
const w2 = tg.randn([16, 1]).mul(Math.sqrt(1 / 16)).requiresGrad_();
const b2 = tg.zeros([1], { requiresGrad: true });
const params = [w1, b1, w2, b2];
const forward = (input) => input.matmul(w1).add(b1).tanh().matmul(w2).add(b2);

const lr = 0.5;
const started = performance.now();
for (let step = 0; step <= 2000; step++) {
  const logits = forward(x);
  // binary cross-entropy on logits, written with tensor ops: softplus(z) − y·z
  const loss = logits.exp().add(1).log().sub(y.mul(logits)).mean();
  for (const p of params) p.grad = null;
  loss.backward();
  tg.noGrad(() => {
    for (const p of params) p.sub_(p.grad.mul(lr));
  });
  if (step % 400 === 0) {
    const acc = tg.noGrad(() => forward(x).gt(0).to("float32").eq(y).to("float32").mean().item());
    console.log(`step ${String(step).padStart(4)}  loss ${loss.item().toFixed(4)}  accuracy ${(acc * 100).toFixed(1)}%`);
  }
}
console.log(`trained in ${((performance.now() - started) / 1000).toFixed(2)} s on backend "${tg.backend.current()}"`);
