/** @file A recorded op in the graph: which primitive ran, on which inputs, with which parameters. */
import type { Tensor } from "../tensor/tensor.ts";
import type { PrimOp, PrimParams } from "./rules.ts";

/** PyTorch-style names for backward functions, e.g. add → "AddBackward0". */
function backwardName(op: string): string {
  return `${op[0]!.toUpperCase()}${op.slice(1)}Backward0`;
}

/**
 * One node of the define-by-run graph. It keeps its inputs (for traversal and for rules
 * that need them) and its output; `freed` marks a graph already used by a backward pass.
 */
export class Node<K extends PrimOp = PrimOp> {
  readonly op: K;
  readonly inputs: readonly Tensor[];
  readonly params: PrimParams[K];
  /** @internal the tensor this op produced (set right after creation). */
  out!: Tensor;
  /** Set after a backward pass without `retainGraph`: rules that need saved values refuse to run again. */
  freed = false;

  constructor(op: K, inputs: readonly Tensor[], params: PrimParams[K]) {
    this.op = op;
    this.inputs = inputs;
    this.params = params;
  }

  /** e.g. "MulBackward0", as PyTorch prints in `grad_fn=<MulBackward0>`. */
  get name(): string {
    return backwardName(this.op);
  }

  /** The nodes (or leaf markers) gradients flow to next, like PyTorch's `next_functions`. */
  get nextFunctions(): (Node | "AccumulateGrad" | null)[] {
    return this.inputs.map((t) => (t._node ?? (t.requiresGrad ? "AccumulateGrad" : null)));
  }

  toString(): string {
    return `<${this.name}>`;
  }
}
