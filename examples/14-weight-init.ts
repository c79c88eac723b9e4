/**
 * @file Lecture: 重みの初期値 (weight initialisation, seed 001, seed 004 lecture 5). Push 1 000 random
 * inputs through 5 layers of 100 units and look at each layer's activations: with N(0, 1) weights
 * sigmoid saturates at 0 and 1 (gradients vanish), with N(0, 0.01²) every unit outputs the same
 * value; Xavier (randn/√n) keeps sigmoid's spread, and He (randn·√(2/n)) keeps ReLU's, which
 * Xavier lets shrink layer by layer. Histograms per layer, like the lecture's figures.
 *
 *   npx tsx examples/14-weight-init.ts      → examples/out/14-weight-init/*.svg
 */
import * as tg from "../src/index.ts";
import { example } from "./_lib.ts";

const ex = example(import.meta.url);

const nodes = 100; // units per layer
const layers = 5;
const samples = ex.quick ? 500 : 1000;

// #region inits
// The lecture's initialisations, as functions of the fan-in n:
const inits = {
  "N(0, 1)": (n: number, m: number) => tg.randn([n, m]),
  "N(0, 0.01²)": (n: number, m: number) => tg.randn([n, m]).mul(0.01),
  "Xavier": (n: number, m: number) => tg.randn([n, m]).div(Math.sqrt(n)), //          np.random.randn(n, m) / np.sqrt(n)
  "He": (n: number, m: number) => tg.randn([n, m]).div(Math.sqrt(n)).mul(Math.sqrt(2)), // ... * np.sqrt(2)
};
type InitName = keyof typeof inits;

/** The activations of every layer for random inputs. */
function activations(init: InitName, f: (u: tg.Tensor) => tg.Tensor): tg.Tensor[] {
  tg.manualSeed(0);
  let z = tg.randn([samples, nodes]);
  const out: tg.Tensor[] = [];
  for (let l = 0; l < layers; l++) {
    z = f(z.matmul(inits[init](nodes, nodes)));
    out.push(z);
  }
  return out;
}
// #endregion

// #region library
// The same in tensorgrad's nn.init, on a Linear layer's weight [out, in]:
const fc = new tg.nn.Linear(nodes, nodes);
tg.nn.init.xavierNormal(fc.weight); //                       std √(2/(n_in + n_out)) — Glorot's
tg.nn.init.kaimingNormal(fc.weight, { nonlinearity: "relu" }); // std √(2/n_in)           — He's
console.log("He-initialised weight std:", fc.weight.std().item(), " (√(2/100) =", Math.sqrt(2 / nodes), ")");
// #endregion

const stats: Record<string, number[]> = {};
async function figureFor(activation: "sigmoid" | "relu", names: InitName[]) {
  const f = activation === "sigmoid" ? tg.sigmoid : tg.relu;
  const range: [number, number] = activation === "sigmoid" ? [0, 1] : [0, 3];
  const panels: string[] = [];
  for (const name of names) {
    const acts = activations(name, f);
    stats[`${activation} ${name}`] = acts.map((a) => a.std().item());
    acts.forEach((a, l) => {
      // ReLU outputs exactly 0 for about half the inputs: histogram the positive ones (as the lecture's ylim does)
      const values = activation === "relu" ? a.dataSync().filter((v) => v > 0) : a.dataSync();
      panels.push(tg.viz.histogram(values, { bins: 30, range, title: `${name}: layer ${l + 1}`, width: 230, height: 170 }));
    });
  }
  await ex.save(`${activation}-activations`, tg.viz.figure(panels, { columns: layers, title: `${activation} activations per layer (${samples} inputs, ${nodes} units)${activation === "relu" ? ", outputs > 0" : ""}` }));
}

await figureFor("sigmoid", ["N(0, 1)", "N(0, 0.01²)", "Xavier"]);
await figureFor("relu", ["N(0, 0.01²)", "Xavier", "He"]);
for (const [k, s] of Object.entries(stats)) console.log(`${k.padEnd(22)} std per layer: ${s.map((v) => v.toExponential(2)).join("  ")}`);

// saturation: the share of sigmoid outputs within 0.02 of 0 or 1 (where σ' ≈ 0)
const saturated = (name: InitName) => {
  const last = activations(name, tg.sigmoid).at(-1)!;
  return last.lt(0.02).logicalOr(last.gt(0.98)).to("float32").mean().item();
};
ex.report({ stats, saturatedStd1: saturated("N(0, 1)"), saturatedXavier: saturated("Xavier"), heWeightStd: fc.weight.std().item() });
