/**
 * @file gemm.ts's path for calls of at most 4 rows (batch-1 inference): A and B read in place,
 * with the same per-element arithmetic as the packed path, and the shared FMA.
 */
import { fma, KC, MR, NR } from "./gemm-tiles";

/** 4 floats of B at p, p + s, p + 2s, p + 3s (one k, four columns) as a vector. */
// @ts-ignore: decorator
@inline
function gather4(p: usize, s: usize): v128 {
  return f32x4(load<f32>(p), load<f32>(p + s), load<f32>(p + 2 * s), load<f32>(p + 3 * s));
}

/** Stores `acc` at c, or `acc + C` when `load`. */
// @ts-ignore: decorator
@inline
function put(c: usize, acc: v128, load: bool): void {
  v128.store(c, load ? f32x4.add(acc, v128.load(c)) : acc);
}

/**
 * acc after 4 k steps of one 4-column group of Bᵀ (rows at p, p + nsb, p + s2, p + s3: 4 k each),
 * A splats from a: the 4×4 tile is transposed with 8 shuffles (unpcklps/unpckhps, movlhps/movhlps).
 */
// @ts-ignore: decorator
@inline
function btGroup(acc: v128, p: usize, nsb: usize, s2: usize, s3: usize, a: usize): v128 {
  // loaded and shuffled in pairs, so at most 4 temporaries are live next to the accumulators
  let r0 = v128.load(p), r1 = v128.load(p + nsb);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  r0 = v128.load(p + s2);
  r1 = v128.load(p + s3);
  const t1 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  acc = fma(v128.load32_splat(a), i64x2.shuffle(t0, t1, 0, 2), acc);
  acc = fma(v128.load32_splat(a, 4), i64x2.shuffle(t0, t1, 1, 3), acc);
  acc = fma(v128.load32_splat(a, 8), i64x2.shuffle(t2, t3, 0, 2), acc);
  return fma(v128.load32_splat(a, 12), i64x2.shuffle(t2, t3, 1, 3), acc);
}

/**
 * 1 row × 16 columns, B column-major: column q of B at b + q·nsb, contiguous along k. A (`a`) is
 * contiguous along k. Per 4 k: four 4×4 tiles of Bᵀ loaded and transposed, 16 FMAs on 4 chains.
 */
function bt1x16(kc: i32, a: usize, b: usize, nsb: usize, c: usize, load: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const s2 = nsb * 2, s3 = nsb * 3, g = nsb * 4;
  let p = b;
  const k4 = kc & ~3;
  for (let k = 0; k < k4; k += 4) {
    c0 = btGroup(c0, p, nsb, s2, s3, a);
    c1 = btGroup(c1, p + g, nsb, s2, s3, a);
    c2 = btGroup(c2, p + 2 * g, nsb, s2, s3, a);
    c3 = btGroup(c3, p + 3 * g, nsb, s2, s3, a);
    a += 16;
    p += 16;
  }
  for (let k = k4; k < kc; k++) {
    const av = v128.load32_splat(a);
    c0 = fma(av, gather4(p, nsb), c0);
    c1 = fma(av, gather4(p + g, nsb), c1);
    c2 = fma(av, gather4(p + 2 * g, nsb), c2);
    c3 = fma(av, gather4(p + 3 * g, nsb), c3);
    a += 4;
    p += 4;
  }
  put(c, c0, load);
  put(c + 16, c1, load);
  put(c + 32, c2, load);
  put(c + 48, c3, load);
}

/** 1 row × 32 columns, B row-major as in bn1x16: 8 FMA chains. */
function bn1x32(kc: i32, a: usize, b: usize, ksb: usize, c: usize, load: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  let c4 = f32x4.splat(0), c5 = f32x4.splat(0), c6 = f32x4.splat(0), c7 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const av = v128.load32_splat(a);
    c0 = fma(av, v128.load(b), c0);
    c1 = fma(av, v128.load(b, 16), c1);
    c2 = fma(av, v128.load(b, 32), c2);
    c3 = fma(av, v128.load(b, 48), c3);
    c4 = fma(av, v128.load(b, 64), c4);
    c5 = fma(av, v128.load(b, 80), c5);
    c6 = fma(av, v128.load(b, 96), c6);
    c7 = fma(av, v128.load(b, 112), c7);
    a += 4;
    b += ksb;
  }
  put(c, c0, load);
  put(c + 16, c1, load);
  put(c + 32, c2, load);
  put(c + 48, c3, load);
  put(c + 64, c4, load);
  put(c + 80, c5, load);
  put(c + 96, c6, load);
  put(c + 112, c7, load);
}

/** 4 rows (at a0..a3, contiguous along k) × 8 columns, B column-major as in bt1x16; C rows `ldcb` bytes apart. */
function bt4x8(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, b: usize, nsb: usize, c: usize, ldcb: usize, load: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const s2 = nsb * 2, s3 = nsb * 3, g = nsb * 4;
  let p = b;
  const k4 = kc & ~3;
  let k = 0;
  for (; k < k4; k += 4) {
    const o = <usize>k << 2;
    let r0: v128, r1: v128, r2: v128, r3: v128, t0: v128, t1: v128, t2: v128, t3: v128, v: v128;
    r0 = v128.load(p);
    r1 = v128.load(p + nsb);
    r2 = v128.load(p + s2);
    r3 = v128.load(p + s3);
    t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
    t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
    t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    v = i64x2.shuffle(t0, t1, 0, 2);
    c00 = fma(v128.load32_splat(a0 + o), v, c00);
    c10 = fma(v128.load32_splat(a1 + o), v, c10);
    c20 = fma(v128.load32_splat(a2 + o), v, c20);
    c30 = fma(v128.load32_splat(a3 + o), v, c30);
    v = i64x2.shuffle(t0, t1, 1, 3);
    c00 = fma(v128.load32_splat(a0 + o, 4), v, c00);
    c10 = fma(v128.load32_splat(a1 + o, 4), v, c10);
    c20 = fma(v128.load32_splat(a2 + o, 4), v, c20);
    c30 = fma(v128.load32_splat(a3 + o, 4), v, c30);
    v = i64x2.shuffle(t2, t3, 0, 2);
    c00 = fma(v128.load32_splat(a0 + o, 8), v, c00);
    c10 = fma(v128.load32_splat(a1 + o, 8), v, c10);
    c20 = fma(v128.load32_splat(a2 + o, 8), v, c20);
    c30 = fma(v128.load32_splat(a3 + o, 8), v, c30);
    v = i64x2.shuffle(t2, t3, 1, 3);
    c00 = fma(v128.load32_splat(a0 + o, 12), v, c00);
    c10 = fma(v128.load32_splat(a1 + o, 12), v, c10);
    c20 = fma(v128.load32_splat(a2 + o, 12), v, c20);
    c30 = fma(v128.load32_splat(a3 + o, 12), v, c30);
    const q = p + g;
    r0 = v128.load(q);
    r1 = v128.load(q + nsb);
    r2 = v128.load(q + s2);
    r3 = v128.load(q + s3);
    t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
    t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
    t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
    t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
    v = i64x2.shuffle(t0, t1, 0, 2);
    c01 = fma(v128.load32_splat(a0 + o), v, c01);
    c11 = fma(v128.load32_splat(a1 + o), v, c11);
    c21 = fma(v128.load32_splat(a2 + o), v, c21);
    c31 = fma(v128.load32_splat(a3 + o), v, c31);
    v = i64x2.shuffle(t0, t1, 1, 3);
    c01 = fma(v128.load32_splat(a0 + o, 4), v, c01);
    c11 = fma(v128.load32_splat(a1 + o, 4), v, c11);
    c21 = fma(v128.load32_splat(a2 + o, 4), v, c21);
    c31 = fma(v128.load32_splat(a3 + o, 4), v, c31);
    v = i64x2.shuffle(t2, t3, 0, 2);
    c01 = fma(v128.load32_splat(a0 + o, 8), v, c01);
    c11 = fma(v128.load32_splat(a1 + o, 8), v, c11);
    c21 = fma(v128.load32_splat(a2 + o, 8), v, c21);
    c31 = fma(v128.load32_splat(a3 + o, 8), v, c31);
    v = i64x2.shuffle(t2, t3, 1, 3);
    c01 = fma(v128.load32_splat(a0 + o, 12), v, c01);
    c11 = fma(v128.load32_splat(a1 + o, 12), v, c11);
    c21 = fma(v128.load32_splat(a2 + o, 12), v, c21);
    c31 = fma(v128.load32_splat(a3 + o, 12), v, c31);
    p += 16;
  }
  for (; k < kc; k++) {
    const o = <usize>k << 2;
    const v0 = gather4(p, nsb);
    const v1 = gather4(p + g, nsb);
    let av = v128.load32_splat(a0 + o);
    c00 = fma(av, v0, c00);
    c01 = fma(av, v1, c01);
    av = v128.load32_splat(a1 + o);
    c10 = fma(av, v0, c10);
    c11 = fma(av, v1, c11);
    av = v128.load32_splat(a2 + o);
    c20 = fma(av, v0, c20);
    c21 = fma(av, v1, c21);
    av = v128.load32_splat(a3 + o);
    c30 = fma(av, v0, c30);
    c31 = fma(av, v1, c31);
    p += 4;
  }
  put(c, c00, load);
  put(c + 16, c01, load);
  put(c + ldcb, c10, load);
  put(c + ldcb + 16, c11, load);
  put(c + 2 * ldcb, c20, load);
  put(c + 2 * ldcb + 16, c21, load);
  put(c + 3 * ldcb, c30, load);
  put(c + 3 * ldcb + 16, c31, load);
}

/** 1 row × 16 columns, B row-major: row k of B at b + k·ksb, contiguous along n. */
function bn1x16(kc: i32, a: usize, b: usize, ksb: usize, c: usize, load: bool): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const av = v128.load32_splat(a);
    c0 = fma(av, v128.load(b), c0);
    c1 = fma(av, v128.load(b, 16), c1);
    c2 = fma(av, v128.load(b, 32), c2);
    c3 = fma(av, v128.load(b, 48), c3);
    a += 4;
    b += ksb;
  }
  put(c, c0, load);
  put(c + 16, c1, load);
  put(c + 32, c2, load);
  put(c + 48, c3, load);
}

/** 4 rows × 8 columns, B row-major as in bn1x16. */
function bn4x8(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, b: usize, ksb: usize, c: usize, ldcb: usize, load: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const o = <usize>k << 2;
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let av = v128.load32_splat(a0 + o);
    c00 = fma(av, b0, c00);
    c01 = fma(av, b1, c01);
    av = v128.load32_splat(a1 + o);
    c10 = fma(av, b0, c10);
    c11 = fma(av, b1, c11);
    av = v128.load32_splat(a2 + o);
    c20 = fma(av, b0, c20);
    c21 = fma(av, b1, c21);
    av = v128.load32_splat(a3 + o);
    c30 = fma(av, b0, c30);
    c31 = fma(av, b1, c31);
    b += ksb;
  }
  put(c, c00, load);
  put(c + 16, c01, load);
  put(c + ldcb, c10, load);
  put(c + ldcb + 16, c11, load);
  put(c + 2 * ldcb, c20, load);
  put(c + 2 * ldcb + 16, c21, load);
  put(c + 3 * ldcb, c30, load);
  put(c + 3 * ldcb + 16, c31, load);
}

/**
 * 4 rows × the `cols` (1..8) columns of a partial tile, B any strides (ksb, nsb bytes), each B
 * vector gathered from scalars; columns past `cols` repeat the last one. Overwrites the 4×8 `tile`.
 */
function gather4x8(kc: i32, a0: usize, a1: usize, a2: usize, a3: usize, b: usize, ksb: usize, nsb: usize, cols: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const last = cols - 1;
  const o1 = <usize>min(1, last) * nsb, o2 = <usize>min(2, last) * nsb, o3 = <usize>min(3, last) * nsb;
  const o4 = <usize>min(4, last) * nsb, o5 = <usize>min(5, last) * nsb, o6 = <usize>min(6, last) * nsb, o7 = <usize>min(7, last) * nsb;
  for (let k = 0; k < kc; k++) {
    const o = <usize>k << 2;
    const b0 = f32x4(load<f32>(b), load<f32>(b + o1), load<f32>(b + o2), load<f32>(b + o3));
    const b1 = f32x4(load<f32>(b + o4), load<f32>(b + o5), load<f32>(b + o6), load<f32>(b + o7));
    let av = v128.load32_splat(a0 + o);
    c00 = fma(av, b0, c00);
    c01 = fma(av, b1, c01);
    av = v128.load32_splat(a1 + o);
    c10 = fma(av, b0, c10);
    c11 = fma(av, b1, c11);
    av = v128.load32_splat(a2 + o);
    c20 = fma(av, b0, c20);
    c21 = fma(av, b1, c21);
    av = v128.load32_splat(a3 + o);
    c30 = fma(av, b0, c30);
    c31 = fma(av, b1, c31);
    b += ksb;
  }
  v128.store(tile, c00);
  v128.store(tile, c01, 16);
  v128.store(tile, c10, 32);
  v128.store(tile, c11, 48);
  v128.store(tile, c20, 64);
  v128.store(tile, c21, 80);
  v128.store(tile, c30, 96);
  v128.store(tile, c31, 112);
}

/** C rows [0, rows) × cols [0, cols) = (or +=, when `accumulate`) the 4×8 `tile` (rows 32 bytes apart). */
function addTile(rows: i32, cols: i32, tile: usize, c: usize, ldcb: usize, accumulate: bool): void {
  for (let r = 0; r < rows; r++) {
    const crow = c + <usize>r * ldcb;
    const trow = tile + <usize>(r * NR * 4);
    for (let q = 0; q < cols; q++) {
      const off = <usize>q << 2;
      const v = load<f32>(trow + off);
      store<f32>(crow + off, accumulate ? load<f32>(crow + off) + v : v);
    }
  }
}

/** Bytes of `ws` the few-row path uses: A rows copied contiguous (when sak ≠ 1) and one 4×8 tile. */
export const FEW_A_BYTES: usize = <usize>(MR * KC * 4);

/** Whether `sgemm` takes the few-row path (see above) for these operands. */
// @ts-ignore: decorator
@inline
export function fewRowsApplies(M: i32, sbk: i32, sbn: i32): bool {
  return M <= MR && (sbk === 1 || sbn === 1);
}

/** C[M ≤ 4, N] (+)= A · B with B read in place (sbn = 1 or sbk = 1); K > 0; `acc`: add to C. */
export function sgemmFewRows(M: i32, N: i32, K: i32, a: usize, sam: i32, sak: i32, b: usize, sbk: i32, sbn: i32, c: usize, ldcb: usize, ws: usize, acc: bool): void {
  const tile = ws + FEW_A_BYTES;
  const rowMajor = sbn === 1; // else sbk === 1
  const ksb = <usize>sbk << 2;
  const nsb = <usize>sbn << 2;
  const asb = <usize>sam << 2;
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const accumulate = acc || pc > 0;
    // the block's A rows, contiguous along k (in place when they are)
    let a0 = a + ((<usize>pc * <usize>sak) << 2);
    if (sak !== 1) {
      const ksa = <usize>sak << 2;
      for (let r = 0; r < M; r++) {
        let src = a0 + <usize>r * asb;
        const dst = ws + <usize>(r * KC * 4);
        for (let k = 0; k < kc; k++) {
          store<f32>(dst + (<usize>k << 2), load<f32>(src));
          src += ksa;
        }
      }
      a0 = ws;
    }
    const rs = sak !== 1 ? <usize>(KC * 4) : asb;
    const a1 = M > 1 ? a0 + rs : a0;
    const a2 = M > 2 ? a0 + 2 * rs : a0;
    const a3 = M > 3 ? a0 + 3 * rs : a0;
    const bk = b + <usize>pc * ksb;
    let j = 0;
    if (M === 1) {
      // row-major B: 8 FMA chains; column-major B keeps 4 (16 columns): 32 rows of Bᵀ at once run slower
      if (rowMajor)
        for (; j + 32 <= N; j += 32) bn1x32(kc, a0, bk + <usize>j * nsb, ksb, c + (<usize>j << 2), accumulate);
      for (; j + 16 <= N; j += 16) {
        const bj = bk + <usize>j * nsb;
        const cj = c + (<usize>j << 2);
        if (rowMajor) bn1x16(kc, a0, bj, ksb, cj, accumulate);
        else bt1x16(kc, a0, bj, nsb, cj, accumulate);
      }
    }
    for (; j + NR <= N; j += NR) {
      const bj = bk + <usize>j * nsb;
      const cj = c + (<usize>j << 2);
      const direct = M === MR;
      const dst = direct ? cj : tile;
      const ld = direct ? ldcb : <usize>(NR * 4);
      if (rowMajor) bn4x8(kc, a0, a1, a2, a3, bj, ksb, dst, ld, direct && accumulate);
      else bt4x8(kc, a0, a1, a2, a3, bj, nsb, dst, ld, direct && accumulate);
      if (!direct) addTile(M, NR, tile, cj, ldcb, accumulate);
    }
    if (j < N) {
      gather4x8(kc, a0, a1, a2, a3, bk + <usize>j * nsb, ksb, nsb, N - j, tile);
      addTile(M, N - j, tile, c + (<usize>j << 2), ldcb, accumulate);
    }
  }
}

