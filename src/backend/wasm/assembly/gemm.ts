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
import { FEW_A_BYTES, fewRowsApplies, sgemmFewRows } from "./gemm-few-rows";
import { fma, KC, MC, MR, NC, NR } from "./gemm-tiles";

export { KC, MC, MR, NC, NR };

/** Bytes of workspace one `sgemm` call needs (packed A block, packed B block, one scratch tile). */
export function sgemmWorkspaceBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
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
