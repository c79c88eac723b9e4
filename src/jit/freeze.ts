/**
 * @file `tg.jit.freeze`: an inference-only form of a model whose Linear layers keep a snapshot of
 * their weights pre-packed by the backend, in the spirit of `torch.jit.freeze` and of an ONNX
 * Runtime session (which packs weights once, when the session is created).
 */
import { noGrad } from "../autograd/mode.ts";
import { type FrozenLinear, freezeLinears, withFrozenLinears } from "../fused/frozen-linear.ts";
import { Linear } from "../nn/layers/linear.ts";
import { Module } from "../nn/module.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * What `tg.jit.freeze(model)` returns: call it like the model (`frozen.call(x)`); it always runs
 * in eval mode without recording a graph. It has no parameters of its own; `original` is the
 * model it was frozen from.
 */
export class FrozenModule<M extends Module = Module> extends Module {
  private readonly _model: M;
  private readonly _linears: ReadonlyMap<Tensor, FrozenLinear>;
  private readonly _all: readonly Module[];

  constructor(model: M) {
    super();
    if (!(model instanceof Module)) throw new TypeError("jit.freeze: model must be a tg.nn.Module");
    this._model = model;
    this._all = model.modules();
    this._linears = freezeLinears(this._all.filter((m): m is Linear => m instanceof Linear));
    this.training = false;
  }

  /** The model this was frozen from (its parameters may since have changed: freeze it again to see them). */
  get original(): M {
    return this._model;
  }

  // biome-ignore lint/suspicious/noExplicitAny: the output is whatever the model returns
  override forward(...inputs: unknown[]): any {
    return noGrad(() =>
      withFrozenLinears(this._linears, () => {
        // eval mode for this call only: the original model keeps whatever mode it is in
        let switched: Module[] | null = null;
        for (const m of this._all)
          if (m.training) {
            switched ??= [];
            switched.push(m);
            m.training = false;
          }
        try {
          return this._model.call(...inputs);
        } finally {
          if (switched !== null) for (const m of switched) m.training = true;
        }
      }),
    );
  }

  /** A frozen model is inference-only: `train(false)` / `eval()` are accepted, `train()` throws. */
  override train(mode = true): this {
    if (mode) throw new Error("FrozenModule.train: a frozen model is inference-only; train the original model, then freeze it again");
    return this;
  }

  override toString(): string {
    return `FrozenModule(${this._model.toString()})`;
  }
}

/**
 * An inference-only callable form of `model` whose `Linear` layers compute with a snapshot of
 * their weights and biases taken now, the weights pre-packed once for the backend's kernels
 * (where it has them: native; elsewhere the ordinary kernels run on the snapshot). Batch-1
 * inference then streams each weight once instead of rearranging it on every call. Results are
 * bit-identical to `model.eval()` under `tg.noGrad`, for any batch size and thread count.
 *
 * Every other layer runs as usual, on the model's live modules. Because in-place writes to a
 * parameter (an optimizer step, a write through `dataSync()` views, `loadStateDict`) cannot be
 * detected, a frozen model does not see changes made to the original model after `freeze`:
 * call `freeze` again after changing it. The frozen model always runs in eval mode, without
 * changing the original's mode.
 * @example
 * const model = new tg.nn.Sequential(new tg.nn.Linear(784, 512), new tg.nn.ReLU(), new tg.nn.Linear(512, 10));
 * const frozen = tg.jit.freeze(model);
 * const logits = frozen.call(tg.rand([1, 784])); // [1, 10], no graph recorded
 */
export function freeze<M extends Module>(model: M): FrozenModule<M> {
  return new FrozenModule(model);
}
