/**
 * @file L-BFGS with an optional strong-Wolfe line search (cubic interpolation), a faithful
 * port of `torch.optim.LBFGS` (itself from minFunc / torch7's lbfgs.lua and lswolfe.lua).
 */
import { enableGrad, noGrad } from "../autograd/mode.ts";
import { cat, zeros } from "../ops/index.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, Optimizer, type ParamGroup, type ParamGroupInit, type Params, type ParamState, resolveOptions } from "./optimizer.ts";

export interface LBFGSOptions extends BaseOptions {
  /** Learning rate: the initial step length (default 1). */
  lr: number;
  /** Maximal number of iterations per `step()` (default 20). */
  maxIter: number;
  /** Maximal number of function evaluations per `step()` (default ⌊maxIter · 5/4⌋). */
  maxEval: number;
  /** Stop when max |gradient| ≤ this (default 1e-7). */
  toleranceGrad: number;
  /** Stop when the loss or the parameters change less than this (default 1e-9). */
  toleranceChange: number;
  /** Number of (s, y) pairs kept (default 100). */
  historySize: number;
  /** `"strongWolfe"` or null for a fixed step `lr` (default null). */
  lineSearchFn: "strongWolfe" | null;
}

/** The closure L-BFGS calls: re-evaluates the loss, runs `backward()` and returns the loss. */
export type LossClosure = () => Tensor | number;

/** Python's `max(a, b)` / `min(a, b)`: the first argument wins ties and NaN comparisons. */
const pyMax = (a: number, b: number): number => (b > a ? b : a);
const pyMin = (a: number, b: number): number => (b < a ? b : a);

const dot = (a: Tensor, b: Tensor): number => a.mul(b).sum().item();
const absMax = (a: Tensor): number => a.abs().amax().item();

/** Minimizer of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to `bounds`. */
export function cubicInterpolate(x1: number, f1: number, g1: number, x2: number, f2: number, g2: number, bounds?: [number, number]): number {
  const [xminBound, xmaxBound] = bounds ?? (x1 <= x2 ? [x1, x2] : [x2, x1]);
  // d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2);  d2 = √(d1² − g1 g2);  x2 − (x2 − x1)(g2 + d2 − d1)/(g2 − g1 + 2 d2)
  const d1 = g1 + g2 - (3 * (f1 - f2)) / (x1 - x2);
  const d2Square = d1 ** 2 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const minPos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2)) : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return pyMin(pyMax(minPos, xminBound), xmaxBound);
  }
  return (xminBound + xmaxBound) / 2;
}

type ObjFunc = (x: Tensor[], t: number, d: Tensor) => [number, Tensor];

/**
 * Strong-Wolfe line search along `d` from the point `x` (loss `f`, gradient `g`, directional
 * derivative `gtd`), starting at step `t`. Returns [loss, gradient, step, evaluations].
 */
function strongWolfe(
  objFunc: ObjFunc,
  x: Tensor[],
  t: number,
  d: Tensor,
  f: number,
  g: Tensor,
  gtd: number,
  c1 = 1e-4,
  c2 = 0.9,
  toleranceChange = 1e-9,
  maxLs = 25,
): [number, Tensor, number, number] {
  const dNorm = absMax(d);
  g = g.clone();
  let [fNew, gNew] = objFunc(x, t, d);
  let lsFuncEvals = 1;
  let gtdNew = dot(gNew, d);

  // bracket an interval containing a point satisfying the Wolfe criteria
  let tPrev = 0;
  let fPrev = f;
  let gPrev = g;
  let gtdPrev = gtd;
  let done = false;
  let lsIter = 0;
  let bracket: number[] = [];
  let bracketF: number[] = [];
  let bracketG: Tensor[] = [];
  let bracketGtd: number[] = [];
  while (lsIter < maxLs) {
    if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev)) {
      bracket = [tPrev, t];
      bracketF = [fPrev, fNew];
      bracketG = [gPrev, gNew.clone()];
      bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    if (Math.abs(gtdNew) <= -c2 * gtd) {
      bracket = [t];
      bracketF = [fNew];
      bracketG = [gNew];
      done = true;
      break;
    }
    if (gtdNew >= 0) {
      bracket = [tPrev, t];
      bracketF = [fPrev, fNew];
      bracketG = [gPrev, gNew.clone()];
      bracketGtd = [gtdPrev, gtdNew];
      break;
    }
    // interpolate
    const minStep = t + 0.01 * (t - tPrev);
    const maxStep = t * 10;
    const tmp = t;
    t = cubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, [minStep, maxStep]);
    // next step
    tPrev = tmp;
    fPrev = fNew;
    gPrev = gNew.clone();
    gtdPrev = gtdNew;
    [fNew, gNew] = objFunc(x, t, d);
    lsFuncEvals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;
  }
  // reached max number of iterations?
  if (lsIter === maxLs) {
    bracket = [0, t];
    bracketF = [f, fNew];
    bracketG = [g, gNew];
  }

  // zoom phase: refine the bracket until a point satisfies the criteria
  let insufProgress = false;
  let [lowPos, highPos] = bracketF[0]! <= bracketF[bracketF.length - 1]! ? [0, 1] : [1, 0];
  while (!done && lsIter < maxLs) {
    // line-search bracket is so small
    if (Math.abs(bracket[1]! - bracket[0]!) * dNorm < toleranceChange) break;
    // compute new trial value
    t = cubicInterpolate(bracket[0]!, bracketF[0]!, bracketGtd[0]!, bracket[1]!, bracketF[1]!, bracketGtd[1]!);
    // if t is too close to a boundary after insufficient progress (or on it), move it 0.1·width inside
    const bMax = pyMax(bracket[0]!, bracket[1]!);
    const bMin = pyMin(bracket[0]!, bracket[1]!);
    const eps = 0.1 * (bMax - bMin);
    if (pyMin(bMax - t, t - bMin) < eps) {
      if (insufProgress || t >= bMax || t <= bMin) {
        t = Math.abs(t - bMax) < Math.abs(t - bMin) ? bMax - eps : bMin + eps;
        insufProgress = false;
      } else {
        insufProgress = true;
      }
    } else {
      insufProgress = false;
    }
    // evaluate new point
    [fNew, gNew] = objFunc(x, t, d);
    lsFuncEvals += 1;
    gtdNew = dot(gNew, d);
    lsIter += 1;

    if (fNew > f + c1 * t * gtd || fNew >= bracketF[lowPos]!) {
      // Armijo condition not satisfied or not lower than the lowest point
      bracket[highPos] = t;
      bracketF[highPos] = fNew;
      bracketG[highPos] = gNew.clone();
      bracketGtd[highPos] = gtdNew;
      [lowPos, highPos] = bracketF[0]! <= bracketF[1]! ? [0, 1] : [1, 0];
    } else {
      if (Math.abs(gtdNew) <= -c2 * gtd) {
        done = true; // Wolfe conditions satisfied
      } else if (gtdNew * (bracket[highPos]! - bracket[lowPos]!) >= 0) {
        // old high becomes new low
        bracket[highPos] = bracket[lowPos]!;
        bracketF[highPos] = bracketF[lowPos]!;
        bracketG[highPos] = bracketG[lowPos]!;
        bracketGtd[highPos] = bracketGtd[lowPos]!;
      }
      // new point becomes new low
      bracket[lowPos] = t;
      bracketF[lowPos] = fNew;
      bracketG[lowPos] = gNew.clone();
      bracketGtd[lowPos] = gtdNew;
    }
  }
  return [bracketF[lowPos]!, bracketG[lowPos]!, bracket[lowPos]!, lsFuncEvals];
}

/**
 * L-BFGS, exactly as `torch.optim.LBFGS`: each `step(closure)` runs up to `maxIter`
 * quasi-Newton iterations, calling `closure` (which must zero the gradients, compute the
 * loss, call `backward()` and return the loss) as often as needed. One param group only.
 * Its state (history, last direction, …) lives under the first parameter, as in PyTorch.
 * Scalars (step lengths, directional derivatives) are JS numbers, so float32 parameters
 * see float64 scalar arithmetic where PyTorch uses float32 0-d tensors.
 *
 * @example
 * const opt = new tg.optim.LBFGS([w], { lineSearchFn: "strongWolfe" });
 * opt.step(() => { opt.zeroGrad(); const loss = f(w); loss.backward(); return loss; });
 */
export class LBFGS extends Optimizer<LBFGSOptions> {
  constructor(params: Params<LBFGSOptions>, options: Partial<LBFGSOptions> = {}) {
    const maxIter = options.maxIter ?? 20;
    const defaults = resolveOptions(
      "LBFGS",
      {
        lr: 1,
        maxIter,
        maxEval: Math.floor((maxIter * 5) / 4),
        toleranceGrad: 1e-7,
        toleranceChange: 1e-9,
        historySize: 100,
        lineSearchFn: null as LBFGSOptions["lineSearchFn"],
      },
      options,
    );
    super(params, defaults);
    if (this.paramGroups.length !== 1) throw new Error("LBFGS: doesn't support per-parameter options (parameter groups)");
  }

  protected override validateGroup(group: ParamGroup<LBFGSOptions>): void {
    super.validateGroup(group);
    for (const key of ["maxIter", "maxEval", "historySize"] as const) {
      const v = group[key];
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`LBFGS: ${key} must be a positive integer, got ${JSON.stringify(v)}`);
    }
    this.checkNonNegative("toleranceGrad", group.toleranceGrad);
    this.checkNonNegative("toleranceChange", group.toleranceChange);
    const ls = group.lineSearchFn as unknown;
    if (ls === "strong_wolfe") group.lineSearchFn = "strongWolfe";
    else if (ls !== null && ls !== "strongWolfe")
      throw new Error(`LBFGS: only lineSearchFn "strongWolfe" (or null for a fixed step) is supported, got ${JSON.stringify(ls)}`);
  }

  override addParamGroup(group: ParamGroupInit<LBFGSOptions>): void {
    if (this.paramGroups.length > 0) throw new Error("LBFGS: doesn't support per-parameter options (parameter groups)");
    super.addParamGroup(group);
  }

  protected override scalarStateKeys(): ReadonlySet<string> {
    return LBFGS_SCALARS;
  }

  protected updateGroup(): void {
    throw new Error("LBFGS: step() needs a closure that re-evaluates the loss");
  }

  private get params(): Tensor[] {
    return this.paramGroups[0]!.params;
  }

  /** All gradients as one flat vector (zeros for parameters without a gradient); a fresh copy. */
  private gatherFlatGrad(): Tensor {
    const views = this.params.map((p) => (p.grad === null ? zeros([p.numel()], { dtype: p.dtype }) : p.grad.reshape([-1])));
    return views.length === 1 ? views[0]!.clone() : cat(views, 0);
  }

  /** θ ← θ + stepSize · update (update is flat). */
  private addGrad(stepSize: number, update: Tensor): void {
    let offset = 0;
    for (const p of this.params) {
      const n = p.numel();
      p.add_(update.narrow(0, offset, n).reshape(p.shape), stepSize);
      offset += n;
    }
  }

  private cloneParams(): Tensor[] {
    return this.params.map((p) => p.detach().clone());
  }

  private setParams(values: Tensor[]): void {
    this.params.forEach((p, i) => {
      p.copy_(values[i]!);
    });
  }

  private directionalEvaluate(closure: LossClosure, x: Tensor[], t: number, d: Tensor): [number, Tensor] {
    this.addGrad(t, d);
    const loss = Number(evaluate(closure));
    const flatGrad = this.gatherFlatGrad();
    this.setParams(x);
    return [loss, flatGrad];
  }

  /** Runs up to `maxIter` L-BFGS iterations; returns the loss `closure` gave at the starting point. */
  override step<L>(closure?: () => L): L {
    if (typeof closure !== "function") throw new TypeError("LBFGS: step() needs a closure that re-evaluates the loss, e.g. opt.step(() => { ... })");
    const fn = closure as unknown as LossClosure;
    return noGrad(() => this.run(fn)) as L;
  }

  private run(closure: LossClosure): Tensor | number {
    const group = this.paramGroups[0]!;
    const { lr, maxIter, maxEval, toleranceGrad, toleranceChange, lineSearchFn, historySize } = group;
    // L-BFGS has only global state, registered under the first parameter (as PyTorch does)
    const state: ParamState = this.stateOf(this.params[0]!);
    state.func_evals ??= 0;
    state.n_iter ??= 0;

    // evaluate initial f(x) and df/dx
    const origLoss = enableGrad(closure);
    let loss = Number(toNumber(origLoss));
    let currentEvals = 1;
    state.func_evals = (state.func_evals as number) + 1;
    let flatGrad = this.gatherFlatGrad();
    let optCond = absMax(flatGrad) <= toleranceGrad;
    if (optCond) return origLoss;

    // state carried between steps
    let d = (state.d ?? null) as Tensor | null;
    let t = (state.t ?? 0) as number;
    let oldDirs = (state.old_dirs ?? []) as Tensor[];
    let oldStps = (state.old_stps ?? []) as Tensor[];
    let ro = (state.ro ?? []) as number[];
    let hDiag = (state.H_diag ?? 1) as number;
    let prevFlatGrad = (state.prev_flat_grad ?? null) as Tensor | null;
    let prevLoss = (state.prev_loss ?? null) as number | null;

    let nIter = 0;
    while (nIter < maxIter) {
      nIter += 1;
      state.n_iter = (state.n_iter as number) + 1;

      // compute the descent direction
      if (state.n_iter === 1) {
        d = flatGrad.neg();
        oldDirs = [];
        oldStps = [];
        ro = [];
        hDiag = 1;
      } else {
        // update the memory with the last step s and gradient change y
        const y = flatGrad.sub(prevFlatGrad!);
        const s = d!.mul(t);
        const ys = dot(y, s);
        if (ys > 1e-10) {
          if (oldDirs.length === historySize) {
            // shift history by one (limited memory)
            oldDirs.shift();
            oldStps.shift();
            ro.shift();
          }
          oldDirs.push(y);
          oldStps.push(s);
          ro.push(1 / ys);
          // scale of the initial Hessian approximation
          hDiag = ys / dot(y, y);
        }
        // two-loop recursion: d = −H·g with the approximate inverse Hessian H
        const numOld = oldDirs.length;
        if (state.al === undefined) state.al = new Array<number | null>(historySize).fill(null);
        const al = state.al as (number | null)[];
        const q = flatGrad.neg();
        for (let i = numOld - 1; i >= 0; i--) {
          al[i] = dot(oldStps[i]!, q) * ro[i]!;
          q.add_(oldDirs[i]!, -al[i]!);
        }
        const r = q.mul(hDiag);
        for (let i = 0; i < numOld; i++) {
          const beI = dot(oldDirs[i]!, r) * ro[i]!;
          r.add_(oldStps[i]!, al[i]! - beI);
        }
        d = r;
      }

      if (prevFlatGrad === null) prevFlatGrad = flatGrad.clone();
      else prevFlatGrad.copy_(flatGrad);
      prevLoss = loss;

      // step length: the first iteration ever is scaled by 1/‖g‖₁
      t = state.n_iter === 1 ? pyMin(1, 1 / flatGrad.abs().sum().item()) * lr : lr;

      // directional derivative; stop if it is below tolerance
      const gtd = dot(flatGrad, d);
      if (gtd > -toleranceChange) break;

      let lsFuncEvals = 0;
      if (lineSearchFn !== null) {
        const xInit = this.cloneParams();
        const objFunc: ObjFunc = (x, tt, dd) => this.directionalEvaluate(closure, x, tt, dd);
        [loss, flatGrad, t, lsFuncEvals] = strongWolfe(objFunc, xInit, t, d, loss, flatGrad, gtd);
        this.addGrad(t, d);
        optCond = absMax(flatGrad) <= toleranceGrad;
      } else {
        // fixed step; re-evaluate except in the last iteration
        this.addGrad(t, d);
        if (nIter !== maxIter) {
          loss = Number(evaluate(closure));
          flatGrad = this.gatherFlatGrad();
          optCond = absMax(flatGrad) <= toleranceGrad;
          lsFuncEvals = 1;
        }
      }
      currentEvals += lsFuncEvals;
      state.func_evals = (state.func_evals as number) + lsFuncEvals;

      // check conditions
      if (nIter === maxIter) break;
      if (currentEvals >= maxEval) break;
      if (optCond) break;
      if (absMax(d.mul(t)) <= toleranceChange) break; // lack of progress
      if (Math.abs(loss - prevLoss) < toleranceChange) break;
    }

    Object.assign(state, { d, t, old_dirs: oldDirs, old_stps: oldStps, ro, H_diag: hDiag, prev_flat_grad: prevFlatGrad, prev_loss: prevLoss });
    return origLoss;
  }
}

const LBFGS_SCALARS: ReadonlySet<string> = new Set(["step", "func_evals", "n_iter", "t", "ro", "al", "H_diag", "prev_loss"]);

function toNumber(loss: Tensor | number): number {
  return typeof loss === "number" ? loss : loss.item();
}

function evaluate(closure: LossClosure): number {
  return toNumber(enableGrad(closure));
}
