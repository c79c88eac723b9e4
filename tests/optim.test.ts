/**
 * @file tg.optim against PyTorch: optimizer trajectories, L-BFGS end points, scheduler lr
 * sequences and gradient clipping replayed from tests/golden/optim.json (generate_optim.py),
 * plus state-dict round trips, param groups, penalties and error messages.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as tg from "../src/index.ts";
import * as nnUtils from "../src/nn/utils.ts";

type Nested = number | Nested[];
type Options = Record<string, unknown>;

interface OptimizerCase {
  name: string;
  optimizer: "SGD" | "Adagrad" | "RMSprop" | "Adadelta" | "Adam" | "AdamW";
  problem: "mix" | "rosenbrock";
  options: Options;
  groups?: (Options & { params: number[] })[];
  steps: number;
  losses: number[];
  trajectory: number[][];
  torchStateKeys: Record<string, string[]>;
  torchParamGroupKeys: string[];
}

interface LbfgsCase {
  name: string;
  problem: "mix" | "rosenbrock";
  options: Options;
  steps: number;
  points: number[][];
  returnedLosses: number[];
  funcEvals: number[];
  nIter: number[];
  closureCalls: number[];
  finalLoss: number;
}

interface SchedulerCase {
  name: string;
  scheduler: "StepLR" | "ExponentialLR" | "CosineAnnealingLR" | "ReduceLROnPlateau";
  lrs: number[];
  options: Options;
  metrics: number[] | null;
  steps: number;
  lrSequence: number[][];
}

interface ClipCase {
  name: string;
  dtype: "float32" | "float64";
  grads: Nested[];
  normType: number | "inf";
  maxNorm: number;
  total: number;
  clipped: number[][];
}

interface Golden {
  torch: string;
  problems: Record<string, { init: Nested[]; x?: number[] }>;
  optimizers: OptimizerCase[];
  lbfgs: LbfgsCase[];
  schedulers: SchedulerCase[];
  clipGradNorm: ClipCase[];
  clipGradValue: { grads: Nested[]; clipValue: number; clipped: number[][] };
}

const golden = JSON.parse(readFileSync(new URL("./golden/optim.json", import.meta.url), "utf8")) as Golden;
const TOL = 1e-9;

// ---------------------------------------------------------------------------- helpers

function makeParams(problem: string, dtype: tg.DType = "float64"): tg.Tensor[] {
  return golden.problems[problem]!.init.map((v) => tg.tensor(v as number[], { dtype, requiresGrad: true }));
}

const X = tg.tensor(golden.problems.mix!.x!, { dtype: "float64" });

/** The same formulas as generate_optim.py, op for op. */
const LOSSES: Record<string, (ps: tg.Tensor[]) => tg.Tensor> = {
  mix: ([w1, w2]) => {
    const z = w1!.mul(X).sum(1);
    return w1!.sin().mul(w2!.mul(w2!)).sum().add(z.exp().add(1).log().sum()).add(w2!.pow(4).sum().mul(0.1));
  },
  rosenbrock: ([p]) => {
    const a = p!.narrow(0, 0, 1);
    const b = p!.narrow(0, 1, 1);
    const u = tg.sub(1, a);
    const v = b.sub(a.mul(a));
    return u.mul(u).add(v.mul(v).mul(100)).sum();
  },
};

function flat(ps: tg.Tensor[]): number[] {
  return ps.flatMap((p) => Array.from(p.dataSync() as Float64Array, Number));
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = -1;
  actual.forEach((a, i) => {
    const d = Math.abs(a - expected[i]!);
    if (!(d <= worst) || Number.isNaN(d)) {
      worst = d;
      at = i;
    }
  });
  assert.ok(worst <= tol, `${what}: |diff| ${worst} > ${tol} at ${at} (got ${actual[at]}, torch ${expected[at]})`);
}

const OPTIMIZERS = {
  SGD: tg.optim.SGD,
  Adagrad: tg.optim.Adagrad,
  RMSprop: tg.optim.RMSprop,
  Adadelta: tg.optim.Adadelta,
  Adam: tg.optim.Adam,
  AdamW: tg.optim.AdamW,
} as const;

function makeOptimizer(name: keyof typeof OPTIMIZERS, params: tg.Tensor[], options: Options, groups?: (Options & { params: number[] })[]): tg.optim.Optimizer {
  const Ctor = OPTIMIZERS[name] as unknown as new (p: unknown, o: Options) => tg.optim.Optimizer;
  const arg = groups === undefined ? params : groups.map((g) => ({ ...g, params: g.params.map((i) => params[i]!) }));
  return new Ctor(arg, options);
}

/** One training step as in the generator: zero, loss, backward, step. Returns the loss. */
function trainStep(opt: tg.optim.Optimizer, params: tg.Tensor[], problem: string): number {
  opt.zeroGrad();
  const loss = LOSSES[problem]!(params);
  loss.backward();
  opt.step();
  return loss.item();
}

function lbfgsClosure(opt: tg.optim.Optimizer, params: tg.Tensor[], problem: string, counter?: { n: number }): () => tg.Tensor {
  return () => {
    if (counter) counter.n++;
    opt.zeroGrad();
    const loss = LOSSES[problem]!(params);
    loss.backward();
    return loss;
  };
}

// ---------------------------------------------------------------------------- golden: optimizers

describe(`optimizers reproduce PyTorch ${golden.torch} trajectories (float64, |diff| ≤ ${TOL})`, () => {
  for (const c of golden.optimizers) {
    test(c.name, () => {
      const params = makeParams(c.problem);
      const opt = makeOptimizer(c.optimizer, params, c.options, c.groups);
      for (let s = 0; s < c.steps; s++) {
        const loss = trainStep(opt, params, c.problem);
        assertClose([loss], [c.losses[s]!], TOL, `${c.name} loss before step ${s + 1}`);
        assertClose(flat(params), c.trajectory[s]!, TOL, `${c.name} parameters after step ${s + 1}`);
      }
      // the state dict has PyTorch's layout
      const sd = opt.stateDict();
      for (const [i, keys] of Object.entries(c.torchStateKeys)) assert.deepEqual(Object.keys(sd.state[Number(i)]!).sort(), keys, `state keys of param ${i}`);
      assert.deepEqual(Object.keys(sd.param_groups[0]!).sort(), c.torchParamGroupKeys);
    });
  }
});

describe("LBFGS reproduces PyTorch (strong Wolfe and fixed step)", () => {
  for (const c of golden.lbfgs) {
    test(c.name, () => {
      const params = makeParams(c.problem);
      const opt = new tg.optim.LBFGS(params, c.options as Partial<tg.optim.LBFGSOptions>);
      const counter = { n: 0 };
      const closure = lbfgsClosure(opt, params, c.problem, counter);
      for (let s = 0; s < c.steps; s++) {
        const returned = opt.step(closure);
        assertClose([returned.item()], [c.returnedLosses[s]!], TOL, `${c.name} loss returned by step ${s + 1}`);
        assertClose(flat(params), c.points[s]!, TOL, `${c.name} point after step ${s + 1}`);
        const st = opt.state.get(params[0]!)!;
        assert.equal(st.func_evals, c.funcEvals[s], `func_evals after step ${s + 1}`);
        assert.equal(st.n_iter, c.nIter[s], `n_iter after step ${s + 1}`);
        assert.equal(counter.n, c.closureCalls[s], `closure calls after step ${s + 1}`);
      }
      assertClose([LOSSES[c.problem]!(params).item()], [c.finalLoss], TOL, "final loss");
    });
  }

  test("strong Wolfe reaches Rosenbrock's minimum (1, 1) from (−1.5, 2)", () => {
    const [p] = makeParams("rosenbrock");
    const opt = new tg.optim.LBFGS([p!], { lineSearchFn: "strongWolfe", maxIter: 100 });
    opt.step(lbfgsClosure(opt, [p!], "rosenbrock"));
    assertClose(flat([p!]), [1, 1], 1e-5, "minimum");
  });
});

// ---------------------------------------------------------------------------- golden: schedulers

const SCHEDULERS = {
  StepLR: (o: tg.optim.Optimizer, opts: Options) => new tg.optim.lrScheduler.StepLR(o, opts as { stepSize: number }),
  ExponentialLR: (o: tg.optim.Optimizer, opts: Options) => new tg.optim.lrScheduler.ExponentialLR(o, opts as { gamma: number }),
  CosineAnnealingLR: (o: tg.optim.Optimizer, opts: Options) => new tg.optim.lrScheduler.CosineAnnealingLR(o, opts as { tMax: number }),
  ReduceLROnPlateau: (o: tg.optim.Optimizer, opts: Options) => new tg.optim.lrScheduler.ReduceLROnPlateau(o, opts),
};

function schedulerOptimizer(lrs: number[]): tg.optim.SGD {
  return new tg.optim.SGD(
    lrs.map((lr) => ({ params: [tg.zeros([2], { dtype: "float64", requiresGrad: true })], lr })),
    { lr: lrs[0]! },
  );
}

describe("lr schedulers reproduce PyTorch's lr sequences", () => {
  for (const c of golden.schedulers) {
    test(c.name, () => {
      const opt = schedulerOptimizer(c.lrs);
      const sched = SCHEDULERS[c.scheduler](opt, c.options);
      const seq = [opt.paramGroups.map((g) => g.lr)];
      for (let i = 0; i < c.steps; i++) {
        opt.step();
        if (sched instanceof tg.optim.lrScheduler.ReduceLROnPlateau) sched.step(c.metrics![i]!);
        else sched.step();
        assert.deepEqual(sched.getLastLr(), opt.paramGroups.map((g) => g.lr));
        seq.push(sched.getLastLr());
      }
      assertClose(seq.flat(), c.lrSequence.flat(), 1e-12, c.name);
    });
  }

  test("positional and options-object constructors agree", () => {
    const a = schedulerOptimizer([0.1]);
    const b = schedulerOptimizer([0.1]);
    const s1 = new tg.optim.lrScheduler.CosineAnnealingLR(a, 5, { etaMin: 0.01 });
    const s2 = new tg.optim.lrScheduler.CosineAnnealingLR(b, { tMax: 5, etaMin: 0.01 });
    for (let i = 0; i < 8; i++) {
      s1.step();
      s2.step();
    }
    assert.deepEqual(s1.getLastLr(), s2.getLastLr());
    const s3 = new tg.optim.lrScheduler.StepLR(schedulerOptimizer([1]), 2);
    s3.step();
    s3.step();
    assert.deepEqual(s3.getLastLr(), [0.1]);
  });

  test("state dicts use PyTorch's names and round-trip mid-schedule", () => {
    const opt = schedulerOptimizer([0.1, 0.05]);
    const sched = new tg.optim.lrScheduler.CosineAnnealingLR(opt, 10, { etaMin: 0.001 });
    for (let i = 0; i < 4; i++) sched.step();
    const sd = sched.stateDict();
    assert.deepEqual(Object.keys(sd).sort(), ["T_max", "_last_lr", "_step_count", "base_lrs", "eta_min", "last_epoch"]);
    assert.equal(sd.last_epoch, 4);
    assert.equal(opt.stateDict().param_groups[0]!.initial_lr, 0.1);
    // resume: a new optimizer with the saved state (which holds initial_lr) and a new scheduler
    const opt2 = schedulerOptimizer([0.1, 0.05]);
    opt2.loadStateDict(opt.stateDict());
    const sched2 = new tg.optim.lrScheduler.CosineAnnealingLR(opt2, 10, { etaMin: 0.001 });
    sched2.loadStateDict(sd);
    opt2.loadStateDict(opt.stateDict());
    for (let i = 0; i < 12; i++) {
      sched.step();
      sched2.step();
      assert.deepEqual(sched2.getLastLr(), sched.getLastLr());
    }

    const p1 = new tg.optim.lrScheduler.ReduceLROnPlateau(schedulerOptimizer([0.1]), { patience: 1 });
    const p2 = new tg.optim.lrScheduler.ReduceLROnPlateau(p1.optimizer, { patience: 7, mode: "max" });
    for (const m of [1, 0.9, 0.95]) p1.step(m);
    p2.loadStateDict(JSON.parse(JSON.stringify(p1.stateDict())) as Record<string, unknown>);
    assert.equal(p2.mode, "min");
    assert.equal(p2.patience, 1);
    assert.equal(p2.best, 0.9);
    const fresh = new tg.optim.lrScheduler.ReduceLROnPlateau(schedulerOptimizer([0.1]));
    const viaJson = new tg.optim.lrScheduler.ReduceLROnPlateau(schedulerOptimizer([0.1]));
    viaJson.loadStateDict(JSON.parse(JSON.stringify(fresh.stateDict())) as Record<string, unknown>);
    assert.equal(viaJson.best, Number.POSITIVE_INFINITY, "best: Infinity survives JSON (null) as 'none yet'");
  });

  test("a metric may be a 0-d tensor; getLastLr before the first step is the current lr", () => {
    const opt = schedulerOptimizer([0.2]);
    const s = new tg.optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 0 });
    assert.deepEqual(s.getLastLr(), [0.2]);
    s.step(tg.tensor(1));
    s.step(tg.tensor(2));
    assertClose(s.getLastLr(), [0.02], 1e-15, "reduced once");
  });
});

// ---------------------------------------------------------------------------- golden: clipping

describe("gradient clipping matches torch.nn.utils", () => {
  for (const c of golden.clipGradNorm) {
    test(c.name, () => {
      const params = c.grads.map((g) => {
        const p = tg.zeros(tg.tensor(g as number[]).shape, { dtype: c.dtype, requiresGrad: true });
        p.grad = tg.tensor(g as number[], { dtype: c.dtype });
        return p;
      });
      const total = tg.optim.clipGradNorm(params, c.maxNorm, c.normType);
      assert.equal(total.dtype, c.dtype);
      assert.deepEqual(total.shape, []);
      const tol = c.dtype === "float64" ? 1e-12 : 1e-5;
      assertClose([total.item()], [c.total], tol * Math.max(1, c.total), "total norm");
      params.forEach((p, i) => {
        assertClose(Array.from(p.grad!.dataSync(), Number), c.clipped[i]!, tol, `clipped grad ${i}`);
      });
    });
  }

  test("clipGradValue", () => {
    const c = golden.clipGradValue;
    const params = c.grads.map((g) => {
      const p = tg.zeros(tg.tensor(g as number[]).shape, { dtype: "float64", requiresGrad: true });
      p.grad = tg.tensor(g as number[], { dtype: "float64" });
      return p;
    });
    tg.optim.clipGradValue(params, c.clipValue);
    params.forEach((p, i) => {
      assert.deepEqual(Array.from(p.grad!.dataSync(), Number), c.clipped[i]);
    });
  });

  test("no gradients → total 0; also available as nn.utils.clipGradNorm; errorIfNonfinite", () => {
    const p = tg.zeros([3], { requiresGrad: true });
    assert.equal(tg.optim.clipGradNorm([p], 1).item(), 0);
    assert.equal(nnUtils.clipGradNorm, tg.optim.clipGradNorm);
    p.grad = tg.tensor([3, 4, 0]);
    assertClose([nnUtils.clipGradNorm(p, 1).item()], [5], 1e-6, "single tensor");
    assertClose(Array.from(p.grad.dataSync(), Number), [0.6, 0.8, 0], 1e-6, "clipped to norm 1");
    p.grad = tg.tensor([Number.POSITIVE_INFINITY, 1, 0]);
    assert.throws(() => tg.optim.clipGradNorm([p], 1, 2, { errorIfNonfinite: true }), /non-finite/);
  });
});

// ---------------------------------------------------------------------------- state dicts

const ROUND_TRIP: [string, (ps: tg.Tensor[]) => tg.optim.Optimizer][] = [
  ["SGD nesterov", (ps) => new tg.optim.SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ["Adagrad", (ps) => new tg.optim.Adagrad(ps, { lr: 0.2, lrDecay: 0.1, initialAccumulatorValue: 0.1 })],
  ["RMSprop centered momentum", (ps) => new tg.optim.RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 })],
  ["Adadelta", (ps) => new tg.optim.Adadelta(ps, { weightDecay: 0.1 })],
  ["Adam amsgrad", (ps) => new tg.optim.Adam(ps, { lr: 0.05, amsgrad: true, weightDecay: 0.1 })],
  ["AdamW", (ps) => new tg.optim.AdamW(ps, { lr: 0.05, betas: [0.8, 0.9] })],
];

describe("stateDict / loadStateDict", () => {
  for (const [name, make] of ROUND_TRIP) {
    test(`${name}: save mid-training, load into a new optimizer, continue → identical trajectory`, () => {
      const params = makeParams("mix");
      const opt = make(params);
      for (let s = 0; s < 4; s++) trainStep(opt, params, "mix");
      const params2 = params.map((p) => p.detach().clone().requiresGrad_());
      const opt2 = make(params2);
      // defaults differ on purpose: everything must come from the state dict
      for (const g of opt2.paramGroups) g.lr = 123;
      opt2.loadStateDict(opt.stateDict());
      for (let s = 0; s < 5; s++) {
        trainStep(opt, params, "mix");
        trainStep(opt2, params2, "mix");
        assert.deepEqual(flat(params2), flat(params), `step ${s + 1} after loading`);
      }
    });
  }

  test("LBFGS: save after one step, load, continue → identical points", () => {
    const params = makeParams("rosenbrock");
    const make = (ps: tg.Tensor[]) => new tg.optim.LBFGS(ps, { lineSearchFn: "strongWolfe", maxIter: 4, historySize: 3 });
    const opt = make(params);
    opt.step(lbfgsClosure(opt, params, "rosenbrock"));
    const params2 = params.map((p) => p.detach().clone().requiresGrad_());
    const opt2 = make(params2);
    const sd = opt.stateDict();
    assert.equal(sd.param_groups[0]!.line_search_fn, "strong_wolfe");
    assert.equal(sd.param_groups[0]!.history_size, 3);
    opt2.loadStateDict(sd);
    assert.equal(opt2.paramGroups[0]!.lineSearchFn, "strongWolfe");
    for (let s = 0; s < 3; s++) {
      opt.step(lbfgsClosure(opt, params, "rosenbrock"));
      opt2.step(lbfgsClosure(opt2, params2, "rosenbrock"));
      assert.deepEqual(flat(params2), flat(params));
    }
  });

  test("PyTorch layout: snake_case group options, parameter indices across groups, shared state tensors", () => {
    const [w1, w2] = makeParams("mix");
    const opt = new tg.optim.Adam([{ params: [w1!] }, { params: [w2!], lr: 0.1, weightDecay: 0.5 }], { lr: 0.01 });
    trainStep(opt, [w1!, w2!], "mix");
    const sd = opt.stateDict();
    assert.deepEqual(sd.param_groups.map((g) => g.params), [[0], [1]]);
    assert.deepEqual(sd.param_groups[1], { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.5, amsgrad: false, maximize: false, params: [1] });
    assert.equal(sd.state[1]!.step, 1);
    assert.equal(sd.state[1]!.exp_avg, opt.state.get(w2!)!.exp_avg, "shared, like PyTorch");
  });

  test("loads a PyTorch-shaped dict: 0-d tensor step, float32 state cast to the param dtype, extra torch flags", () => {
    const p = tg.tensor([1, 2], { dtype: "float64", requiresGrad: true });
    const opt = new tg.optim.Adam([p]);
    opt.loadStateDict({
      state: { 0: { step: tg.tensor(3), exp_avg: tg.tensor([0.1, 0.2]), exp_avg_sq: tg.tensor([0.01, 0.04]) } },
      param_groups: [{ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0, amsgrad: false, maximize: false, foreach: null, capturable: false, differentiable: false, fused: false, params: [0] }],
    });
    const st = opt.state.get(p)!;
    assert.equal(st.step, 3);
    assert.equal((st.exp_avg as tg.Tensor).dtype, "float64");
    assert.equal(opt.paramGroups[0]!.lr, 0.01);
    p.grad = tg.tensor([1, 1], { dtype: "float64" });
    opt.step();
    assert.equal(st.step, 4);
  });

  test("loaded state is a copy: training the original afterwards does not change it", () => {
    const params = makeParams("mix");
    const opt = new tg.optim.SGD(params, { lr: 0.01, momentum: 0.9 });
    trainStep(opt, params, "mix");
    const opt2 = new tg.optim.SGD(
      params.map((p) => p.detach().clone().requiresGrad_()),
      { lr: 0.01, momentum: 0.9 },
    );
    opt2.loadStateDict(opt.stateDict());
    const before = flat([opt2.state.get(opt2.paramGroups[0]!.params[0]!)!.momentum_buffer as tg.Tensor]);
    trainStep(opt, params, "mix");
    assert.deepEqual(flat([opt2.state.get(opt2.paramGroups[0]!.params[0]!)!.momentum_buffer as tg.Tensor]), before);
  });

  test("mismatched dicts are rejected", () => {
    const a = new tg.optim.SGD(makeParams("mix"), { lr: 0.1 });
    const b = new tg.optim.SGD(makeParams("rosenbrock"), { lr: 0.1 });
    assert.throws(() => b.loadStateDict(a.stateDict()), /doesn't match the size/);
    const [w1, w2] = makeParams("mix");
    const c = new tg.optim.SGD([{ params: [w1!] }, { params: [w2!] }], { lr: 0.1 });
    assert.throws(() => c.loadStateDict(a.stateDict()), /1 parameter groups, the optimizer has 2/);
    assert.throws(() => a.loadStateDict({} as tg.optim.OptimizerStateDict), /expects \{ state, param_groups \}/);
  });
});

// ---------------------------------------------------------------------------- param groups and behaviour

describe("optimizer behaviour", () => {
  test("groups keep their own lr; changing group.lr changes the next step (what schedulers do)", () => {
    const a = tg.tensor([1], { dtype: "float64", requiresGrad: true });
    const b = tg.tensor([1], { dtype: "float64", requiresGrad: true });
    const opt = new tg.optim.SGD([{ params: [a], lr: 0.5 }, { params: [b] }], { lr: 0.1 });
    assert.deepEqual(opt.paramGroups.map((g) => g.lr), [0.5, 0.1]);
    a.grad = tg.tensor([1], { dtype: "float64" });
    b.grad = tg.tensor([1], { dtype: "float64" });
    opt.step();
    assert.deepEqual([a.item(), b.item()], [0.5, 0.9]);
    opt.paramGroups[1]!.lr = 0.4;
    opt.step();
    assert.deepEqual([a.item(), b.item()], [0, 0.5]);
    const c = tg.tensor([1], { dtype: "float64", requiresGrad: true });
    opt.addParamGroup({ params: [c], lr: 1, momentum: 0.9 });
    assert.equal(opt.paramGroups[2]!.momentum, 0.9);
    assert.equal(opt.paramGroups[2]!.dampening, 0);
  });

  test("parameters without a gradient are skipped; step(closure) returns the loss", () => {
    const [w1, w2] = makeParams("mix");
    const opt = new tg.optim.Adam([w1!, w2!], { lr: 0.1 });
    const before = flat([w2!]);
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = w1!.sin().sum();
      l.backward();
      return l;
    });
    assert.ok(loss instanceof tg.Tensor);
    assert.deepEqual(flat([w2!]), before);
    assert.equal(opt.state.has(w2!), false);
    assert.notDeepEqual(flat([w1!]), flat(makeParams("mix").slice(0, 1)));
  });

  test("zeroGrad sets grads to null, or zeros them in place with setToNone = false", () => {
    const p = tg.tensor([1, 2], { requiresGrad: true });
    const opt = new tg.optim.SGD([p], { lr: 0.1 });
    p.mul(p).sum().backward();
    opt.zeroGrad(false);
    assert.deepEqual(p.grad?.toArray(), [0, 0]);
    opt.zeroGrad();
    assert.equal(p.grad, null);
  });

  test("state buffers are allocated once and updated in place", () => {
    const params = makeParams("mix");
    const opt = new tg.optim.Adam(params, { amsgrad: true });
    trainStep(opt, params, "mix");
    const st = opt.state.get(params[0]!)!;
    const [m, v, vmax] = [st.exp_avg, st.exp_avg_sq, st.max_exp_avg_sq];
    trainStep(opt, params, "mix");
    assert.equal(st.exp_avg, m);
    assert.equal(st.exp_avg_sq, v);
    assert.equal(st.max_exp_avg_sq, vmax);
    assert.equal(st.step, 2);
  });

  test("strided parameters and gradients (transposed views) are updated like contiguous ones", () => {
    const base = tg.tensor([[0.5, -1], [2, 0.25], [-0.75, 1.5]], { dtype: "float64" });
    assert.equal(base.t().isContiguous(), false);
    for (const make of [(p: tg.Tensor) => new tg.optim.Adam([p], { lr: 0.1, amsgrad: true }), (p: tg.Tensor) => new tg.optim.SGD([p], { lr: 0.1, momentum: 0.9 })]) {
      const a = base.clone().t().requiresGrad_(); // a leaf view with strides [1, 2]
      const b = base.t().contiguous().requiresGrad_();
      const oa = make(a);
      const ob = make(b);
      for (let s = 0; s < 3; s++) {
        oa.zeroGrad();
        ob.zeroGrad();
        a.sin().mul(a).sum().backward();
        b.sin().mul(b).sum().backward();
        a.grad = a.grad!.t().contiguous().t(); // a non-contiguous gradient too
        oa.step();
        ob.step();
      }
      assert.deepEqual(a.toArray(), b.toArray());
    }
  });

  test("float32 parameters keep float32 state and follow the float64 trajectory closely", () => {
    const p64 = makeParams("mix");
    const p32 = makeParams("mix", "float32");
    const o64 = new tg.optim.Adam(p64, { lr: 0.05 });
    const o32 = new tg.optim.Adam(p32, { lr: 0.05 });
    const x32 = X.to("float32");
    for (let s = 0; s < 10; s++) {
      trainStep(o64, p64, "mix");
      o32.zeroGrad();
      const [w1, w2] = p32;
      w1!.sin().mul(w2!.mul(w2!)).sum().add(w1!.mul(x32).sum(1).exp().add(1).log().sum()).add(w2!.pow(4).sum().mul(0.1)).backward();
      o32.step();
    }
    assert.equal((o32.state.get(p32[0]!)!.exp_avg as tg.Tensor).dtype, "float32");
    assert.equal(p32[0]!.dtype, "float32");
    assertClose(flat(p32), flat(p64), 1e-4, "float32 vs float64");
  });

  test("curriculum §2: gradient descent x ← x − η f'(x) with optim.SGD", () => {
    const x = tg.tensor(3, { dtype: "float64", requiresGrad: true });
    const opt = new tg.optim.SGD([x], { lr: 0.1 });
    for (let i = 0; i < 100; i++) {
      opt.zeroGrad();
      x.mul(x).backward();
      opt.step();
    }
    assertClose([x.item()], [6.1111e-10], 1e-14, "f = x², x0 = 3, η = 0.1, x100");
    const y = tg.tensor(3, { dtype: "float64", requiresGrad: true });
    const opt2 = new tg.optim.SGD([y], { lr: 0.01 });
    for (let i = 0; i < 1000; i++) {
      opt2.zeroGrad();
      y.mul(y).add(y.neg().exp()).backward();
      opt2.step();
    }
    assertClose([y.item()], [0.3517337], 1e-7, "f = x² + e^(−x), 1000 steps");
  });

  test("trains an nn model from model.parameters(), with a per-layer param group", () => {
    tg.manualSeed(0);
    const model = new tg.nn.Sequential(new tg.nn.Linear(1, 8), new tg.nn.Tanh(), new tg.nn.Linear(8, 1));
    const [first, , last] = [...model.children()] as tg.nn.Module[];
    const opt = new tg.optim.Adam([{ params: first!.parameters() }, { params: last!.parameters(), lr: 0.04 }], { lr: 0.1 });
    const sched = new tg.optim.lrScheduler.StepLR(opt, 50, { gamma: 0.5 });
    const x = tg.linspace(-1, 1, 16).reshape([16, 1]);
    const y = x.mul(2).add(1);
    let loss = Number.POSITIVE_INFINITY;
    for (let epoch = 0; epoch < 120; epoch++) {
      opt.zeroGrad();
      const l = model.call(x).sub(y).square().mean();
      l.backward();
      opt.step();
      sched.step();
      loss = l.item();
    }
    assert.ok(loss < 1e-2, `loss ${loss}`);
    assert.deepEqual(sched.getLastLr(), [0.1 / 4, 0.04 / 4]);
  });

  test("toString lists the groups' options", () => {
    const opt = new tg.optim.SGD([tg.zeros([1], { requiresGrad: true })], { lr: 0.1 });
    assert.match(opt.toString(), /^SGD \(\nParameter Group 0\n {4}dampening: 0\n/);
  });
});

// ---------------------------------------------------------------------------- penalties

describe("penalty helpers (E + λ/p ‖w‖ₚᵖ)", () => {
  test("l2 = λ/2 Σw² with gradient λw; l1 = λ Σ|w| with gradient λ·sign(w); lp", () => {
    const w = tg.tensor([[1, -2], [0, 3]], { dtype: "float64", requiresGrad: true });
    const b = tg.tensor([-1.5], { dtype: "float64", requiresGrad: true });
    const l2 = tg.optim.penalty.l2([w, b], 0.1);
    assertClose([l2.item()], [(0.1 / 2) * (1 + 4 + 0 + 9 + 2.25)], 1e-15, "l2 value");
    l2.backward();
    assertClose(flat([w.grad!, b.grad!]), [0.1, -0.2, 0, 0.3, -0.15], 1e-15, "l2 gradient");
    w.grad = null;
    const l1 = tg.optim.penalty.l1(w, 0.5);
    assertClose([l1.item()], [3], 1e-15, "l1 value");
    l1.backward();
    assertClose(flat([w.grad!]), [0.5, -0.5, 0, 0.5], 1e-15, "l1 gradient");
    assertClose([tg.optim.penalty.lp([w], 0.3, 3).item()], [(0.3 / 3) * (1 + 8 + 27)], 1e-14, "lp value");
    assertClose([tg.optim.penalty.lp([w], 0.3, 2).item()], [tg.optim.penalty.l2([w], 0.3).item()], 0, "lp(2) = l2");
    assert.throws(() => tg.optim.penalty.l2([w], -1), /lambda must be a number ≥ 0/);
    assert.throws(() => tg.optim.penalty.lp([w], 1, 0), /p must be a finite number > 0/);
  });

  test("SGD on E + l2(λ) follows the same path as SGD with weightDecay λ", () => {
    const pa = makeParams("mix");
    const pb = makeParams("mix");
    const oa = new tg.optim.SGD(pa, { lr: 0.05, weightDecay: 0.2 });
    const ob = new tg.optim.SGD(pb, { lr: 0.05 });
    for (let s = 0; s < 10; s++) {
      trainStep(oa, pa, "mix");
      ob.zeroGrad();
      LOSSES.mix!(pb).add(tg.optim.penalty.l2(pb, 0.2)).backward();
      ob.step();
    }
    assertClose(flat(pb), flat(pa), 1e-12, "penalty vs weightDecay");
  });
});

// ---------------------------------------------------------------------------- errors

describe("clear errors", () => {
  const p = () => tg.zeros([2], { requiresGrad: true });

  test("bad options", () => {
    assert.throws(() => new tg.optim.SGD([p()], { lr: -0.1 }), /SGD: invalid learning rate \(lr\): -0.1 \(must be ≥ 0\)/);
    assert.throws(() => new tg.optim.SGD([p()]), /SGD: lr is required/);
    assert.throws(() => new tg.optim.Adam([p()], { betas: [1, 0.999] }), /Adam: invalid beta parameter at index 0: 1 \(must be in \[0, 1\)\)/);
    assert.throws(() => new tg.optim.AdamW([p()], { betas: [0.9, -0.1] }), /AdamW: invalid beta parameter at index 1: -0.1/);
    assert.throws(() => new tg.optim.Adam([p()], { betas: 0.9 as unknown as [number, number] }), /betas must be a pair/);
    assert.throws(() => new tg.optim.SGD([p()], { lr: 0.1, nesterov: true }), /Nesterov momentum requires a momentum > 0 and zero dampening/);
    assert.throws(() => new tg.optim.RMSprop([p()], { momentum: -1 }), /RMSprop: invalid momentum value: -1/);
    assert.throws(() => new tg.optim.Adadelta([p()], { rho: 1.5 }), /Adadelta: invalid rho value: 1.5 \(must be in \[0, 1\]\)/);
    assert.throws(() => new tg.optim.Adagrad([p()], { eps: -1 }), /Adagrad: invalid epsilon value \(eps\): -1/);
    assert.throws(() => new tg.optim.SGD([p()], { lr: "0.1" as unknown as number }), /SGD: learning rate \(lr\) must be a number, got "0.1"/);
    assert.throws(() => new tg.optim.Adam([p()], { weight_decay: 0.1 } as Options), /Adam: unknown option "weight_decay" \(did you mean "weightDecay"\?\)/);
    assert.throws(() => new tg.optim.Adam([{ params: [p()], weight_decay: 0.1 }]), /param group option "weight_decay" should be spelled "weightDecay"/);
    assert.throws(() => new tg.optim.LBFGS([p()], { lineSearchFn: "armijo" as "strongWolfe" }), /only lineSearchFn "strongWolfe"/);
    assert.throws(() => new tg.optim.LBFGS([p()], { maxIter: 0 }), /maxIter must be a positive integer/);
  });

  test("bad parameters", () => {
    assert.throws(() => new tg.optim.SGD([], { lr: 0.1 }), /SGD: got an empty parameter list/);
    assert.throws(() => new tg.optim.SGD([tg.zeros([2])], { lr: 0.1 }), /param 0 of group 0 does not require grad/);
    assert.throws(() => new tg.optim.SGD([tg.zeros([2], { dtype: "int32" })], { lr: 0.1 }), /can only optimize floating-point tensors, but param 0 of group 0 has dtype int32/);
    const shared = p();
    assert.throws(() => new tg.optim.Adam([{ params: [shared] }, { params: [p(), shared] }]), /some parameters appear in more than one parameter group/);
    assert.throws(() => new tg.optim.Adam([shared, shared]), /appears twice in the same param group/);
    assert.throws(() => new tg.optim.Adam([shared.mul(2)]), /can't optimize a non-leaf tensor/);
    assert.throws(() => new tg.optim.Adam(shared as unknown as tg.Tensor[]), /got a single Tensor \(wrap it: \[t\]\)/);
    assert.throws(() => new tg.optim.Adam([{ params: [p()] }, { params: [p()] }].map((g) => ({ ...g, lr: -1 }))), /invalid learning rate/);
  });

  test("L-BFGS needs a closure and a single group", () => {
    const opt = new tg.optim.LBFGS([p()]);
    assert.throws(() => opt.step(), /LBFGS: step\(\) needs a closure/);
    assert.throws(() => new tg.optim.LBFGS([{ params: [p()] }, { params: [p()] }]), /LBFGS: doesn't support per-parameter options/);
    assert.throws(() => opt.addParamGroup({ params: [p()] }), /doesn't support per-parameter options/);
  });

  test("schedulers", () => {
    const opt = new tg.optim.SGD([p()], { lr: 0.1 });
    assert.throws(() => new tg.optim.lrScheduler.StepLR(opt, 0), /StepLR: stepSize must be a positive integer, got 0/);
    assert.throws(() => new tg.optim.lrScheduler.StepLR(opt, {} as { stepSize: number }), /StepLR: stepSize is required/);
    assert.throws(() => new tg.optim.lrScheduler.ExponentialLR(opt, 0.9, { lastEpoch: 3 }), /'initialLr' is not specified in paramGroups\[0\]/);
    assert.throws(() => new tg.optim.lrScheduler.ReduceLROnPlateau(opt, { factor: 1 }), /factor should be < 1.0/);
    assert.throws(() => new tg.optim.lrScheduler.ReduceLROnPlateau(opt, { mode: "up" as "min" }), /mode "up" is unknown/);
    assert.throws(() => new tg.optim.lrScheduler.ReduceLROnPlateau(opt, { minLr: [0, 0] }), /expected 1 minLr values/);
    assert.throws(() => new tg.optim.lrScheduler.StepLR({} as tg.optim.Optimizer, 1), /expects an Optimizer/);
  });

  test("updates in place on parameters are guarded outside noGrad (sanity for the optimizer's own use)", () => {
    const w = p();
    assert.throws(() => w.add_(1), /wrap the update in tg.noGrad/);
  });
});
