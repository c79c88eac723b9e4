/**
 * @file Reverse-mode differentiation: topological order over the recorded graph, the gradient
 * rules in reverse, broadcasting undone once here (not in each rule), and accumulation into `.grad`.
 */
import { outputPoolingEnabled, outputSerial, recycle } from "../backend/registry.ts";
import { cast } from "../ops/core.ts";
import type { TypedArray } from "../base/dtype.ts";
import { formatShape, shapesEqual } from "../base/shape.ts";
import { Tensor, type TensorLike } from "../tensor/tensor.ts";
import { withGradMode } from "./mode.ts";
import { type PrimOp, type RuleContext, vjpRule } from "./rules.ts";

export interface BackwardOptions {
  /** Keep the graph so `backward` can run through it again. */
  retainGraph?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated again. */
  createGraph?: boolean;
}

/** Sums a gradient over the axes that broadcasting added or stretched, back to `shape`. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  const summed = axes.length > 0 ? g.sum(axes, true) : g;
  return summed.reshape(shape);
}

/** Tensors with a producing node, reachable from `roots` through inputs that require grad, in topological order. */
function topologicalOrder(roots: readonly Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS (deep graphs, e.g. long loops, must not overflow the stack); two parallel
  // stacks (tensor, next input to visit) rather than a tuple per node, to keep per-op overhead low
  const stack: Tensor[] = [];
  const next: number[] = [];
  for (const r of roots) {
    if (seen.has(r) || r._node === null) continue;
    seen.add(r);
    stack.push(r);
    next.push(0);
    while (stack.length > 0) {
      const top = stack.length - 1;
      const t = stack[top]!;
      const i = next[top]!;
      const inputs = t._node!.inputs;
      if (i < inputs.length) {
        next[top] = i + 1;
        const child = inputs[i]!;
        if (child._requiresGrad && child._node !== null && !seen.has(child)) {
          seen.add(child);
          stack.push(child);
          next.push(0);
        }
      } else {
        stack.pop();
        next.pop();
        order.push(t);
      }
    }
  }
  return order;
}

/**
 * Counts, per storage array, the gradients in `propagate`'s map that refer to it, so storage the
 * engine has finished with can go back to the backends' output pool (../backend/output-pool.ts).
 * Every tensor the engine can still hand out (a kept gradient, a gradient not yet consumed) is in
 * the map, and no rule keeps what it returns or receives (there are no hooks and no user
 * functions in backward), so storage with no map entry left is dead unless something older than
 * this backward holds it, and the pool only takes back arrays issued since `since`.
 */
class StorageRefs {
  private readonly refs = new Map<TypedArray, number>();
  private readonly dropped = new Set<TypedArray>();
  readonly since = outputSerial();

  hold(g: Tensor): void {
    this.refs.set(g.data, (this.refs.get(g.data) ?? 0) + 1);
  }

  /** One map entry fewer for `g`'s storage, which the next `flush` returns if no entry is left. */
  drop(g: Tensor): void {
    const n = (this.refs.get(g.data) ?? 1) - 1;
    if (n > 0) this.refs.set(g.data, n);
    else this.refs.delete(g.data);
    this.dropped.add(g.data);
  }

  /** A tensor the engine made and let go of without putting it in the map (a rule's output that was summed or cast). */
  candidate(g: Tensor): void {
    this.dropped.add(g.data);
  }

  /** Returns every dropped storage no map entry refers to. */
  flush(): void {
    for (const data of this.dropped) if (!this.refs.has(data)) recycle(data, this.since);
    this.dropped.clear();
  }
}

/**
 * Runs the rules from `roots` (seeded with `seeds`) and returns the gradient of every tensor
 * reached. The gradients of tensors for which `keep` is true stay in the result; every other
 * non-leaf's is dropped once its rule has run, and its storage recycled when nothing else the
 * engine holds shares it (not under `createGraph`, whose gradients are recorded in a new graph).
 */
function propagate(roots: readonly Tensor[], seeds: readonly Tensor[], opts: BackwardOptions, keep: (t: Tensor) => boolean): Map<Tensor, Tensor> {
  const grads = new Map<Tensor, Tensor>();
  const refs = opts.createGraph || !outputPoolingEnabled() ? null : new StorageRefs();
  for (let i = 0; i < roots.length; i++) accumulate(grads, roots[i]!, seeds[i]!, refs);
  const order = topologicalOrder(roots);
  withGradMode(opts.createGraph === true, () => {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k]!;
      const g = grads.get(t);
      const node = t._node!;
      if (g === undefined) continue;
      const rule = vjpRule(node.op) as { saves: boolean; vjp: (g: Tensor, ctx: RuleContext<PrimOp>) => (Tensor | null)[] };
      if (node.freed && rule.saves)
        throw new Error(
          `backward: trying to backward through the graph a second time (${node.name} has already freed its saved values); pass { retainGraph: true } to the first backward() call`,
        );
      const inputs = node.inputs;
      const needs = new Array<boolean>(inputs.length);
      for (let i = 0; i < inputs.length; i++) needs[i] = inputs[i]!._requiresGrad;
      const inputGrads = rule.vjp(g, { inputs, out: t, params: node.params, needs });
      for (let i = 0; i < inputs.length; i++) {
        const x = inputs[i]!;
        const gi = inputGrads[i];
        if (gi === null || gi === undefined) continue;
        refs?.candidate(gi);
        if (!needs[i]) continue;
        const shaped = sumToShape(gi, x.shape);
        const cast_ = shaped.dtype === x.dtype ? shaped : cast(shaped, x.dtype);
        if (cast_ !== shaped) refs?.candidate(shaped);
        accumulate(grads, x, cast_, refs);
      }
      if (!opts.retainGraph) node.freed = true;
      if (refs !== null && !keep(t)) {
        grads.delete(t);
        refs.drop(g);
      }
      refs?.flush();
    }
  });
  return grads;
}

function accumulate(grads: Map<Tensor, Tensor>, t: Tensor, g: Tensor, refs: StorageRefs | null): void {
  const prev = grads.get(t);
  const next = prev === undefined ? g : prev.add(g);
  grads.set(t, next);
  refs?.hold(next);
  if (prev !== undefined) {
    refs?.drop(prev);
    refs?.candidate(g);
  }
}

function seedFor(t: Tensor, grad: TensorLike | undefined, op: string): Tensor {
  if (grad === undefined) {
    if (t.numel() !== 1)
      throw new Error(
        `${op}: grad can be implicitly created only for scalar outputs, got shape ${formatShape(t.shape)}; pass a gradient of that shape`,
      );
    return new Tensor(t.dtype === "float64" ? new Float64Array([1]) : new Float32Array([1]), t.dtype === "float64" ? "float64" : "float32", t.shape);
  }
  const g = grad instanceof Tensor ? grad : new Tensor(new Float64Array([Number(grad)]), "float64", []).to(t.dtype).expand(t.shape);
  if (!shapesEqual(g.shape, t.shape))
    throw new Error(`${op}: gradient shape ${formatShape(g.shape)} does not match output shape ${formatShape(t.shape)}`);
  return g.dtype === t.dtype ? g : g.to(t.dtype);
}

/** `y.backward(grad?)`: accumulates d(y·grad)/dx into `x.grad` for every leaf x that requires grad. */
export function backward(root: Tensor, grad?: TensorLike, opts: BackwardOptions = {}): void {
  if (!root._requiresGrad)
    throw new Error("backward: the tensor does not require grad and has no gradFn (did you create it with requiresGrad: true, or inside noGrad?)");
  const grads = propagate([root], [seedFor(root, grad, "backward")], opts, (t) => t._retainGrad);
  // Storage that more than one stored gradient would share, or that the caller handed in, is
  // copied; a gradient the engine just made for this tensor alone is kept as it is (PyTorch
  // steals it too), which saves a weight-sized copy per parameter and step.
  const kept = [...grads].filter(([t]) => t._node === null || t._retainGrad);
  const uses = new Map<unknown, number>();
  for (const [, g] of kept) uses.set(g.data, (uses.get(g.data) ?? 0) + 1);
  const callers = grad instanceof Tensor ? grad.data : null;
  // `_grad` directly: reading `grad` would mark the gradient as seen by the caller (see Tensor._clearGrad)
  for (const [t, g] of kept) {
    if (t._grad === null) {
      // own the storage: later accumulation happens in place
      const owned = uses.get(g.data) === 1 && g.data !== callers && g.offset === 0 && g.numel() === g.data.length && g.isContiguous();
      t._grad = opts.createGraph ? g : owned ? g.detach() : g.detach().clone();
      // in a graph it is shared with the graph; otherwise this tensor alone holds it
      t._gradShared = opts.createGraph === true;
    } else if (opts.createGraph || t._grad._requiresGrad) {
      t._grad = t._grad.add(g);
      t._gradShared = true;
    } else {
      t._grad.add_(g.detach());
    }
  }
}

export interface GradOptions extends BackwardOptions {
  /** Upstream gradients, one per output (required for non-scalar outputs). */
  gradOutputs?: (TensorLike | undefined)[];
  /** Return null for inputs the outputs do not depend on, instead of throwing. */
  allowUnused?: boolean;
}

/**
 * Gradients of `outputs` with respect to `inputs`, returned instead of accumulated into `.grad`.
 * With `createGraph: true` the results are themselves differentiable (higher-order gradients).
 *
 * @example
 * const x = tg.tensor(2, { requiresGrad: true });
 * const [dy] = tg.grad(x.pow(3), [x], { createGraph: true }); // 12
 * const [d2y] = tg.grad(dy!, [x]);                              // 12 (= 6x)
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  const outs = outputs instanceof Tensor ? [outputs] : [...outputs];
  const ins = inputs instanceof Tensor ? [inputs] : [...inputs];
  outs.forEach((o, i) => {
    if (!o._requiresGrad) throw new Error(`grad: outputs[${i}] does not require grad and has no gradFn`);
  });
  ins.forEach((x, i) => {
    if (!x._requiresGrad) throw new Error(`grad: inputs[${i}] does not require grad`);
  });
  const seeds = outs.map((o, i) => seedFor(o, opts.gradOutputs?.[i], "grad"));
  const wanted = new Set(ins);
  const grads = propagate(outs, seeds, { retainGraph: opts.retainGraph ?? opts.createGraph, createGraph: opts.createGraph }, (t) => wanted.has(t));
  return ins.map((x, i) => {
    const g = grads.get(x);
    if (g === undefined && !opts.allowUnused)
      throw new Error(`grad: inputs[${i}] was not used to compute the outputs; pass { allowUnused: true } to get null for it`);
    return g ?? null;
  });
}
