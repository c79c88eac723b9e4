/**
 * @file Tests' access to a backend's fused-kernel table (`Backend.fused`): each kernel with
 * positional arguments, and helpers that hide or wrap entries while a body runs.
 */
import type { Backend, PackedLinear, StridedView, Window2d } from "../src/backend/backend.ts";
import type { FusedKernels, FusedOp } from "../src/backend/fused.ts";
import type { TypedArray } from "../src/base/dtype.ts";

type Table = { -readonly [K in FusedOp]?: FusedKernels[K] };
const tableOf = (b: Backend): Table => (b.fused ?? {}) as Table;

/** Backend `b`'s fused kernels with positional arguments (undefined where `b` has no such entry). */
export function hooks(b: Backend) {
  const t = tableOf(b);
  const has = <K extends FusedOp, F>(k: K, f: F): F | undefined => (t[k] === undefined ? undefined : f);
  return {
    linear: has("linear", (x: StridedView, w: StridedView, bias: StridedView | null, relu: boolean) => t.linear!({ x, w, bias, relu })!),
    linearBackward: has(
      "linearBackward",
      (g: StridedView, x: StridedView, w: StridedView, y: StridedView | null, needs: readonly [boolean, boolean, boolean]) =>
        t.linearBackward!({ g, x, w, y, needs }),
    ),
    packLinear: has("packLinear", (w: StridedView) => t.packLinear!({ w })),
    linearPacked: has(
      "linearPacked",
      (x: StridedView, packed: PackedLinear, bias: StridedView | null, relu: boolean) => t.linearPacked!({ x, packed, bias, relu })!,
    ),
    reluBackward: has("reluBackward", (g: StridedView, y: StridedView) => t.reluBackward!({ g, y })!),
    adamStep: has("adamStep", (w: TypedArray, g: TypedArray, m: TypedArray, v: TypedArray, vMax: TypedArray | null, h: readonly number[]) =>
      t.adamStep!({ w, g, m, v, vMax, h }),
    ),
    conv2d: has("conv2d", (x: StridedView, w: StridedView, bias: StridedView | null, win: Window2d, relu = false) => t.conv2d!({ x, w, bias, win, relu })),
    conv2dBackwardInput: has(
      "conv2dBackwardInput",
      (g: StridedView, w: StridedView, win: Window2d, inSize: readonly [number, number], y: StridedView | null = null) =>
        t.conv2dBackwardInput!({ g, w, win, inSize, y }),
    ),
    conv2dBackwardWeight: has("conv2dBackwardWeight", (g: StridedView, x: StridedView, win: Window2d, bias: boolean, y: StridedView | null = null) =>
      t.conv2dBackwardWeight!({ g, x, win, bias, y }),
    ),
    conv2dReluMaxPool: has("conv2dReluMaxPool", (x: StridedView, w: StridedView, bias: StridedView | null, win: Window2d, pool: Window2d) =>
      t.conv2dReluMaxPool!({ x, w, bias, win, pool }),
    ),
    conv2dReluMaxPoolBackwardInput: has(
      "conv2dReluMaxPoolBackwardInput",
      (g: StridedView, w: StridedView, win: Window2d, inSize: readonly [number, number], pool: Window2d, indices: StridedView, pooled: StridedView) =>
        t.conv2dReluMaxPoolBackwardInput!({
          g,
          w,
          win,
          inSize,
          pool,
          indices,
          pooled,
        }),
    ),
    conv2dReluMaxPoolBackwardWeight: has(
      "conv2dReluMaxPoolBackwardWeight",
      (g: StridedView, x: StridedView, win: Window2d, bias: boolean, pool: Window2d, indices: StridedView, pooled: StridedView) =>
        t.conv2dReluMaxPoolBackwardWeight!({
          g,
          x,
          win,
          bias,
          pool,
          indices,
          pooled,
        }),
    ),
  };
}

/** Runs `body` with `b`'s fused entries `names` removed (the dispatcher then composes primitives), restoring them after. */
export function withoutFused<T>(b: Backend, names: readonly FusedOp[], body: () => T): T {
  return withFused(b, Object.fromEntries(names.map((n) => [n, undefined])), body);
}

/** Runs `body` with `b`'s fused entries replaced by `patch` (undefined: removed), restoring them after. */
export function withFused<T>(b: Backend, patch: { [K in FusedOp]?: FusedKernels[K] | undefined }, body: () => T): T {
  const t = tableOf(b) as Record<string, unknown>;
  const saved = Object.keys(patch).map((k) => [k, t[k]] as const);
  for (const [k, v] of Object.entries(patch)) t[k] = v;
  try {
    return body();
  } finally {
    for (const [k, v] of saved) t[k] = v;
  }
}

/** Counts the calls of `b`'s fused entries `names` while `body` runs. */
export function countingFused<T>(b: Backend, names: readonly FusedOp[], body: () => T): { result: T; calls: Record<string, number> } {
  const t = tableOf(b) as Record<string, ((a: unknown) => unknown) | undefined>;
  const calls: Record<string, number> = {};
  const patch: Record<string, unknown> = {};
  for (const n of names) {
    const f = t[n];
    calls[n] = 0;
    patch[n] =
      f === undefined
        ? undefined
        : (a: unknown) => {
            calls[n]!++;
            return f(a);
          };
  }
  return { result: withFused(b, patch, body), calls };
}
