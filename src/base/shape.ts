/** @file Shapes and strides: sizes, broadcasting, dim normalisation, and the error messages about them. */

export type Shape = readonly number[];

export function formatShape(s: Shape): string {
  return `[${s.join(",")}]`;
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides for a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of two shapes; throws naming `op` and both shapes when they are incompatible. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  if (shapesEqual(a, b)) return a as number[];
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else
      throw new Error(
        `${op}: shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together (dim ${i - n}: ${da} vs ${db})`,
      );
  }
  return out;
}

/** Maps a possibly negative `dim` into [0, ndim); `ndim` is the rank, or rank + 1 for insertions. */
export function normalizeDim(dim: number, ndim: number, op: string): number {
  if (!Number.isInteger(dim)) throw new TypeError(`${op}: dim must be an integer, got ${dim}`);
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (dim < lo || dim > hi)
    throw new RangeError(`${op}: dim ${dim} is out of range for a tensor of rank ${ndim} (expected ${lo}..${hi})`);
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** Normalises a reduction's `dim` argument to a sorted, de-duplicated list of axes. */
export function normalizeDims(dim: number | readonly number[] | null | undefined, ndim: number, op: string): number[] {
  if (dim === undefined || dim === null) {
    const all = new Array<number>(ndim);
    for (let i = 0; i < ndim; i++) all[i] = i;
    return all;
  }
  const list = typeof dim === "number" ? [dim] : dim;
  const out = list.map((d) => normalizeDim(d, ndim, op));
  if (ndim === 0) return [];
  const uniq = [...new Set(out)].sort((x, y) => x - y);
  if (uniq.length !== out.length) throw new Error(`${op}: dim ${JSON.stringify(dim)} repeats an axis`);
  return uniq;
}

/** Validates a user-given shape (non-negative integers). */
export function checkShape(shape: readonly number[], op: string): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of integers, got ${String(shape)}`);
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0)
      throw new RangeError(`${op}: invalid shape ${formatShape(shape)} (sizes must be non-negative integers)`);
  return [...shape];
}
