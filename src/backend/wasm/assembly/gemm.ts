/**
 * @file Single-precision gemm for the wasm backend (AssemblyScript): packed, cache-blocked, with a
 * register-tiled 4×8 f32x4 micro-kernel (relaxed-SIMD fused multiply-add when compiled with it).
 *
 * C[M, N] (contiguous rows, `ldc` floats apart) = A[M, K] · B[K, N], A and B any strides (in
 * elements). The BLIS loop nest: B is packed in KC×NC blocks of NR-wide column panels, A in MC×KC
 * blocks of MR-tall row panels (zero-padded, so the micro-kernel always runs full tiles; partial
 * tiles go through a scratch tile). Packing is what makes transposed and strided inputs cost the
 * same as row-major ones. Calls of at most 4 rows (batch-1 inference) read A and B in place instead
 * (`sgemmFewRows`), with the same per-element arithmetic. `sgemmWith` is the same product on caller
 * scratch sized to it (conv.ts gives each task of a threaded call its own), optionally adding to C.
 */

/** Micro-tile: 4 rows × 8 columns = 8 f32x4 accumulators (+2 B vectors + 1 A broadcast). */
export const MR: i32 = 4;
export const NR: i32 = 8;
/** Cache blocks: a KC×NR B micro-panel (8 KiB) stays in L1, an MC×KC A block (128 KiB) in L2. */
export const KC: i32 = 256;
export const MC: i32 = 128;
export const NC: i32 = 2048;

/** Bytes of workspace one `sgemm` call needs (packed A block, packed B block, one scratch tile). */
export function sgemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

// @ts-ignore: decorator
@inline
function fma(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/**
 * C tile (4×8 at `c`, rows `ldc` bytes apart) (+)= packed A panel (kc×4, k-major) · packed B panel
 * (kc×8, k-major); `load` = false overwrites the tile (first K block), true accumulates into it.
 * Per k: two B vectors, four A broadcasts (vbroadcastss from memory), eight FMAs, 11 live xmm
 * registers. V8 gives wasm 15 xmm registers and schedules loads early without regard to register
 * pressure, so 6×8 (15 live) and unrolled k loops spill; of 4×8, 3×12, 2×16 and 5×8, with counted
 * or pointer-bounded loops, this measured fastest in the whole gemm (~90 % of the FMA peak).
 */
function kernel4x8(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, load: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = fma(a, b0, c00);
    c01 = fma(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = fma(a, b0, c10);
    c11 = fma(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = fma(a, b0, c20);
    c21 = fma(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = fma(a, b0, c30);
    c31 = fma(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (load) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(c + ldc));
    c11 = f32x4.add(c11, v128.load(c + ldc, 16));
    c20 = f32x4.add(c20, v128.load(c + 2 * ldc));
    c21 = f32x4.add(c21, v128.load(c + 2 * ldc, 16));
    c30 = f32x4.add(c30, v128.load(c + 3 * ldc));
    c31 = f32x4.add(c31, v128.load(c + 3 * ldc, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(c + ldc, c10);
  v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20);
  v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30);
  v128.store(c + 3 * ldc, c31, 16);
}

/**
 * Stores the transpose of the 4×4 block whose rows are r0..r3: its column t (element t of each
 * row) at dst + t·step bytes. Eight shuffles (unpcklps/unpckhps, movlhps/movhlps).
 */
// @ts-ignore: decorator
@inline
function transpose4Store(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, step: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t2 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(t0, t1, 0, 2));
  v128.store(dst + step, i64x2.shuffle(t0, t1, 1, 3));
  v128.store(dst + 2 * step, i64x2.shuffle(t2, t3, 0, 2));
  v128.store(dst + 3 * step, i64x2.shuffle(t2, t3, 1, 3));
}

/** Packs rows [0, mc) × cols [0, kc) of A (at `a`, strides in elements) into MR-row panels, zero-padded. */
function packA(mc: i32, kc: i32, a: usize, sam: i32, sak: i32, dst: usize): void {
  const rsb = <usize>sam << 2;
  const ksb = <usize>sak << 2;
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    const base = a + <usize>i * rsb;
    if (rows === MR && sak === 1) {
      // rows contiguous along k: 4×4 blocks transposed in registers
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const p = base + (<usize>k << 2);
        transpose4Store(v128.load(p), v128.load(p + rsb), v128.load(p + 2 * rsb), v128.load(p + 3 * rsb), dst, 16);
        dst += 64;
      }
      for (; k < kc; k++) {
        const p = base + (<usize>k << 2);
        store<f32>(dst, load<f32>(p));
        store<f32>(dst, load<f32>(p + 1 * rsb), 4);
        store<f32>(dst, load<f32>(p + 2 * rsb), 8);
        store<f32>(dst, load<f32>(p + 3 * rsb), 12);
        dst += 16;
      }
    } else if (rows === MR && sam === 1) {
      // a column of the panel is 4 contiguous floats
      let p = base;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(p));
        dst += 16;
        p += ksb;
      }
    } else if (rows === MR) {
      let p = base;
      for (let k = 0; k < kc; k++) {
        store<f32>(dst, load<f32>(p));
        store<f32>(dst, load<f32>(p + 1 * rsb), 4);
        store<f32>(dst, load<f32>(p + 2 * rsb), 8);
        store<f32>(dst, load<f32>(p + 3 * rsb), 12);
        dst += 16;
        p += ksb;
      }
    } else {
      let p = base;
      for (let k = 0; k < kc; k++) {
        for (let r = 0; r < MR; r++) store<f32>(dst + (<usize>r << 2), r < rows ? load<f32>(p + <usize>r * rsb) : 0);
        dst += 16;
        p += ksb;
      }
    }
  }
}

/** Packs rows [0, kc) × cols [0, nc) of B into NR-column panels, zero-padded. */
function packB(kc: i32, nc: i32, b: usize, sbk: i32, sbn: i32, dst: usize): void {
  const ksb = <usize>sbk << 2;
  const nsb = <usize>sbn << 2;
  for (let j = 0; j < nc; j += NR) {
    const cols = min(NR, nc - j);
    let p = b + <usize>j * nsb;
    if (cols === NR && sbn === 1) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(p));
        v128.store(dst, v128.load(p, 16), 16);
        dst += 32;
        p += ksb;
      }
    } else if (cols === NR && sbk === 1) {
      // columns contiguous along k (a transposed B): 4×4 blocks transposed in registers
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const q = p + (<usize>k << 2);
        transpose4Store(v128.load(q), v128.load(q + nsb), v128.load(q + 2 * nsb), v128.load(q + 3 * nsb), dst, 32);
        const q4 = q + 4 * nsb;
        transpose4Store(v128.load(q4), v128.load(q4 + nsb), v128.load(q4 + 2 * nsb), v128.load(q4 + 3 * nsb), dst + 16, 32);
        dst += 128;
      }
      for (; k < kc; k++) {
        let q = p + (<usize>k << 2);
        for (let c = 0; c < NR; c++) {
          store<f32>(dst + (<usize>c << 2), load<f32>(q));
          q += nsb;
        }
        dst += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        let q = p;
        for (let c = 0; c < NR; c++) {
          store<f32>(dst + (<usize>c << 2), c < cols ? load<f32>(q) : 0);
          q += nsb;
        }
        dst += 32;
        p += ksb;
      }
    }
  }
}

/*
 * Few rows (M ≤ 4: batch-1 inference): B is read in place, unpacked, when it is row-major (sbn = 1)
 * or column-major (sbk = 1: the x·Wᵀ of Linear, whose 4×4 tiles are transposed in registers). A
 * copy of B per call would cost more than the product itself. Every element of C is computed as
 * in the packed path, so a row's result does not depend on how many rows the call has (batch-size
 * invariance, bit for bit): per KC block an accumulator lane starting at 0, `fma(a[k], b[k], acc)`
 * in k order, stored at the first block and added to C (`acc + C`) after it. Rows missing from a
 * 4-row tile repeat row 0 and columns missing from a tile repeat its last column; such tiles are
 * written to a scratch tile and only their valid part reaches C.
 */

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
const FEW_A_BYTES: usize = <usize>(MR * KC * 4);

/** Whether `sgemm` takes the few-row path (see above) for these operands. */
// @ts-ignore: decorator
@inline
function fewRowsApplies(M: i32, sbk: i32, sbn: i32): bool {
  return M <= MR && (sbk === 1 || sbn === 1);
}

/** C[M ≤ 4, N] (+)= A · B with B read in place (sbn = 1 or sbk = 1); K > 0; `acc`: add to C. */
function sgemmFewRows(M: i32, N: i32, K: i32, a: usize, sam: i32, sak: i32, b: usize, sbk: i32, sbn: i32, c: usize, ldcb: usize, ws: usize, acc: bool): void {
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

/**
 * C[M, N] = A[M, K] · B[K, N] for float32. `a`, `b`, `c` are byte addresses; A/B strides are in
 * elements (any sign, 0 allowed); C rows are `ldc` elements apart; `ws` points at
 * `sgemmWorkspaceBytes()` bytes of scratch.
 */
export function sgemm(M: i32, N: i32, K: i32, a: usize, sam: i32, sak: i32, b: usize, sbk: i32, sbn: i32, c: usize, ldc: i32, ws: usize): void {
  sgemmCore(M, N, K, a, sam, sak, b, sbk, sbn, c, ldc, ws, ws + <usize>(MC * KC * 4), ws + <usize>((MC * KC + KC * NC) * 4), false);
}

/** The packed-A and packed-B block sizes (floats) `sgemmWith` uses for an M×N×K product: the full blocks only when the product fills them. */
// @ts-ignore: decorator
@inline
function packedAFloats(M: i32, K: i32): i32 {
  return min(MC, (M + MR - 1) & ~(MR - 1)) * min(KC, K);
}
// @ts-ignore: decorator
@inline
function packedBFloats(N: i32, K: i32): i32 {
  return min(KC, K) * min(NC, (N + NR - 1) & ~(NR - 1));
}

/**
 * Bytes of scratch `sgemmWith` needs for an M×N×K product: the packed blocks sized to the
 * product (a small convolution's gemm needs ~100 KiB where `sgemm` reserves 2.2 MiB), so each
 * task of a threaded call can have its own.
 */
export function sgemmScratchBytes(M: i32, N: i32, K: i32): i32 {
  const packed = (packedAFloats(M, K) + packedBFloats(N, K) + MR * NR) * 4;
  return max(packed, <i32>FEW_A_BYTES + MR * NR * 4);
}

/**
 * `sgemm` with caller scratch of `sgemmScratchBytes(M, N, K)` bytes, and C += A·B when
 * `accumulate` (a sum of products over a batch without a separate sum). Per element the same
 * arithmetic as `sgemm`: with `accumulate` false the bits equal `sgemm`'s.
 */
export function sgemmWith(M: i32, N: i32, K: i32, a: usize, sam: i32, sak: i32, b: usize, sbk: i32, sbn: i32, c: usize, ldc: i32, ws: usize, accumulate: bool): void {
  const bp = ws + (<usize>packedAFloats(M, K) << 2);
  sgemmCore(M, N, K, a, sam, sak, b, sbk, sbn, c, ldc, ws, bp, bp + (<usize>packedBFloats(N, K) << 2), accumulate);
}

/** The gemm: A blocks packed at `ap`, B blocks at `bp`, a scratch tile at `tile`; the few-row path uses `ap` as its workspace. */
function sgemmCore(
  M: i32, N: i32, K: i32,
  a: usize, sam: i32, sak: i32,
  b: usize, sbk: i32, sbn: i32,
  c: usize, ldc: i32, ap: usize, bp: usize, tile: usize, acc: bool,
): void {
  const ldcb = <usize>ldc << 2;
  if (K === 0) {
    if (!acc) for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldcb, 0, <usize>N << 2);
    return;
  }
  if (fewRowsApplies(M, sbk, sbn)) {
    if (M > 0) sgemmFewRows(M, N, K, a, sam, sak, b, sbk, sbn, c, ldcb, ap, acc);
    return;
  }
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const accumulate = acc || pc > 0;
      packB(kc, nc, b + ((<usize>pc * <usize>sbk + <usize>jc * <usize>sbn) << 2), sbk, sbn, bp);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(mc, kc, a + ((<usize>ic * <usize>sam + <usize>pc * <usize>sak) << 2), sam, sak, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpanel = bp + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const apanel = ap + <usize>(ir * kc) * 4;
            const ct = c + <usize>(ic + ir) * ldcb + (<usize>(jc + jr) << 2);
            if (mr === MR && nr === NR) {
              kernel4x8(kc, apanel, bpanel, ct, ldcb, accumulate);
            } else {
              kernel4x8(kc, apanel, bpanel, tile, NR * 4, false);
              for (let r = 0; r < mr; r++) {
                const crow = ct + <usize>r * ldcb;
                const trow = tile + <usize>(r * NR * 4);
                for (let q = 0; q < nr; q++) {
                  const off = <usize>q << 2;
                  const v = load<f32>(trow + off);
                  store<f32>(crow + off, accumulate ? load<f32>(crow + off) + v : v);
                }
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Batched: C[p] = A[p] · B[p] for p < batch; `sab`/`sbb`/`scb` are batch strides in elements (0
 * broadcasts an operand) and C rows are `ldc` elements apart, so a task can own any block of C.
 */
export function sgemmBatched(
  batch: i32, M: i32, N: i32, K: i32,
  a: usize, sab: i32, sam: i32, sak: i32,
  b: usize, sbb: i32, sbk: i32, sbn: i32,
  c: usize, scb: i32, ldc: i32, ws: usize,
): void {
  for (let p = 0; p < batch; p++) {
    const ap = a + ((<usize>p * <usize>sab) << 2);
    const bp = b + ((<usize>p * <usize>sbb) << 2);
    sgemm(M, N, K, ap, sam, sak, bp, sbk, sbn, c + ((<usize>p * <usize>scb) << 2), ldc, ws);
  }
}
