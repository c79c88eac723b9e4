/**
 * @file The module patterns nn.Sequential fuses (also a Keras model's forward, and a frozen
 * model's): Conv2d → ReLU → MaxPool2d with non-overlapping windows, and Linear or Conv2d → ReLU.
 * Layers describe themselves (`FusionForm`, only for exactly their own class and without hooks);
 * this module alone decides which runs of them become one fused op. Bit-identical to running the
 * modules one by one.
 */
import { Tensor } from "../tensor/tensor.ts";

/** What a layer shows the pattern matcher. */
export type FusionForm =
  /** A Linear layer: its forward, then relu when asked, as one op. */
  | { kind: "linear"; act(x: Tensor, relu: boolean): Tensor }
  /** A Conv2d layer; `reluPool` runs it, relu and a max pool of window `pool` (stride = window, no padding) as one op. */
  | {
      kind: "conv2d";
      act(x: Tensor, relu: boolean): Tensor;
      reluPool(x: Tensor, pool: readonly [number, number]): Tensor;
    }
  | { kind: "relu" }
  /** A max pool's options, as given. */
  | {
      kind: "maxPool2d";
      kernelSize: number | readonly number[];
      stride: number | readonly number[];
      padding: number | readonly number[];
      dilation: number | readonly number[];
      ceilMode: boolean;
    };

/** A member of a sequence: called as a module, or fused through its form (null: never fused). */
export interface SequenceMember {
  call(x: unknown): unknown;
  _fusionForm(): FusionForm | null;
}

/** A max pool's window when its windows do not overlap (stride = kernel, no padding, dilation 1, no ceil mode), else null. */
function nonOverlappingWindow(f: FusionForm | null): [number, number] | null {
  if (f === null || f.kind !== "maxPool2d" || f.ceilMode) return null;
  const pair = (v: number | readonly number[]): readonly number[] => (typeof v === "number" ? [v, v] : v);
  const [k, s, pad, d] = [pair(f.kernelSize), pair(f.stride), pair(f.padding), pair(f.dilation)];
  if (k.length !== 2 || s.length !== 2 || pad.length !== 2 || d.length !== 2) return null;
  for (let a = 0; a < 2; a++) if (!Number.isInteger(k[a]) || k[a]! < 1 || s[a] !== k[a] || pad[a] !== 0 || d[a] !== 1) return null;
  return [k[0]!, k[1]!];
}

/** Runs `members` in order on `x` (nn.Sequential's forward), fusing the patterns above. */
export function runSequence(members: readonly SequenceMember[], x: unknown): unknown {
  let out = x;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    const form = out instanceof Tensor && i + 1 < members.length ? m._fusionForm() : null;
    if (form !== null && (form.kind === "linear" || form.kind === "conv2d") && members[i + 1]!._fusionForm()?.kind === "relu") {
      const pool = form.kind === "conv2d" ? nonOverlappingWindow(members[i + 2]?._fusionForm() ?? null) : null;
      if (form.kind === "conv2d" && pool !== null) {
        out = form.reluPool(out as Tensor, pool);
        i += 2;
      } else {
        out = form.act(out as Tensor, true);
        i++;
      }
      continue;
    }
    out = m.call(out);
  }
  return out;
}
