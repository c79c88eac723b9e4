/**
 * @file Float32 reductions for the wasm backend (AssemblyScript), with results bit-identical to
 * the js reference: every output is reduced in the same order (row-major over the reduced axes),
 * sums in float64 rounded once, max/min keeping the first extreme and stopping at the first NaN.
 *
 * The JS side collapses the kept axes to ≤ 2 dims [nk0, nk1] and the reduced axes to ≤ 2 dims
 * [nr0, nr1] (strides in elements). When the last kept axis has stride 1, four neighbouring
 * outputs are reduced at once in SIMD lanes (each lane still in order); otherwise four outputs
 * are interleaved as independent scalar chains.
 */

export const R_SUM: i32 = 0;
export const R_MAX: i32 = 1;
export const R_MIN: i32 = 2;
export const R_ARGMAX: i32 = 3;
export const R_ARGMIN: i32 = 4;

/** Sums of 4 adjacent outputs (lanes), each in order, in float64. */
function sum4(p: usize, nr0: i32, nr1: i32, sr0: usize, sr1: usize, out: usize): void {
  let lo = f64x2.splat(0);
  let hi = f64x2.splat(0);
  for (let r0 = 0; r0 < nr0; r0++) {
    let q = p + <usize>r0 * sr0;
    for (let r1 = 0; r1 < nr1; r1++) {
      const v = v128.load(q);
      lo = f64x2.add(lo, f64x2.promote_low_f32x4(v));
      hi = f64x2.add(hi, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3)));
      q += sr1;
    }
  }
  v128.store(out, i32x4.shuffle(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5));
}

/** Max/min (or their first index) of 4 adjacent outputs (lanes), each in order. */
function extreme4(op: i32, p: usize, nr0: i32, nr1: i32, sr0: usize, sr1: usize, out: usize): void {
  const wantMax = op === R_MAX || op === R_ARGMAX;
  let best = v128.load(p);
  let at = i32x4.splat(0);
  let idx = i32x4.splat(0);
  const one = i32x4.splat(1);
  let first = true;
  for (let r0 = 0; r0 < nr0; r0++) {
    let q = p + <usize>r0 * sr0;
    for (let r1 = 0; r1 < nr1; r1++) {
      if (first) {
        first = false;
      } else {
        const v = v128.load(q);
        const better = wantMax ? f32x4.gt(v, best) : f32x4.lt(v, best);
        // NaN wins once, and nothing replaces a NaN (the js loop stops there)
        const nanV = f32x4.ne(v, v);
        const nanBest = f32x4.ne(best, best);
        const take = v128.andnot(v128.or(better, nanV), nanBest);
        best = v128.bitselect(v, best, take);
        at = v128.bitselect(idx, at, take);
      }
      idx = i32x4.add(idx, one);
      q += sr1;
    }
  }
  if (op === R_ARGMAX || op === R_ARGMIN) v128.store(out, at);
  else v128.store(out, best);
}

/** One output, scalar, in order. */
function reduce1(op: i32, p: usize, nr0: i32, nr1: i32, sr0: usize, sr1: usize, out: usize): void {
  if (op === R_SUM) {
    let s: f64 = 0;
    for (let r0 = 0; r0 < nr0; r0++) {
      let q = p + <usize>r0 * sr0;
      for (let r1 = 0; r1 < nr1; r1++, q += sr1) s += <f64>load<f32>(q);
    }
    store<f32>(out, <f32>s);
    return;
  }
  const wantMax = op === R_MAX || op === R_ARGMAX;
  let best = load<f32>(p);
  let at = 0;
  let r = 0;
  for (let r0 = 0; r0 < nr0; r0++) {
    let q = p + <usize>r0 * sr0;
    for (let r1 = 0; r1 < nr1; r1++, q += sr1, r++) {
      if (best != best) break;
      const v = load<f32>(q);
      if (v != v || (wantMax ? v > best : v < best)) {
        best = v;
        at = r;
      }
    }
    if (best != best) break;
  }
  if (op === R_ARGMAX || op === R_ARGMIN) store<i32>(out, at);
  else store<f32>(out, best);
}

/** Four strided outputs' sums as independent chains (latency hidden), each in order. */
function sumInterleaved4(p: usize, ks: usize, nr0: i32, nr1: i32, sr0: usize, sr1: usize, out: usize): void {
  let s0: f64 = 0;
  let s1: f64 = 0;
  let s2: f64 = 0;
  let s3: f64 = 0;
  for (let r0 = 0; r0 < nr0; r0++) {
    let q = p + <usize>r0 * sr0;
    for (let r1 = 0; r1 < nr1; r1++, q += sr1) {
      s0 += <f64>load<f32>(q);
      s1 += <f64>load<f32>(q + ks);
      s2 += <f64>load<f32>(q + 2 * ks);
      s3 += <f64>load<f32>(q + 3 * ks);
    }
  }
  store<f32>(out, <f32>s0);
  store<f32>(out, <f32>s1, 4);
  store<f32>(out, <f32>s2, 8);
  store<f32>(out, <f32>s3, 12);
}

/** out[k0, k1] = reduce over (r0, r1) of x[k0·sk0 + k1·sk1 + r0·sr0 + r1·sr1]; out contiguous (4-byte elements). */
export function reduceF32(op: i32, nk0: i32, nk1: i32, sk0: i32, sk1: i32, nr0: i32, nr1: i32, sr0: i32, sr1: i32, x: usize, out: usize): void {
  const sr0b = <usize>sr0 << 2;
  const sr1b = <usize>sr1 << 2;
  const sk1b = <usize>sk1 << 2;
  for (let k0 = 0; k0 < nk0; k0++) {
    const row = x + ((<usize>k0 * <usize>sk0) << 2);
    let k1 = 0;
    if (sk1 === 1) {
      for (; k1 + 4 <= nk1; k1 += 4) {
        if (op === R_SUM) sum4(row + (<usize>k1 << 2), nr0, nr1, sr0b, sr1b, out);
        else extreme4(op, row + (<usize>k1 << 2), nr0, nr1, sr0b, sr1b, out);
        out += 16;
      }
    } else if (op === R_SUM) {
      for (; k1 + 4 <= nk1; k1 += 4) {
        sumInterleaved4(row + <usize>k1 * sk1b, sk1b, nr0, nr1, sr0b, sr1b, out);
        out += 16;
      }
    }
    for (; k1 < nk1; k1++) {
      reduce1(op, row + <usize>k1 * sk1b, nr0, nr1, sr0b, sr1b, out);
      out += 4;
    }
  }
}
