/**
 * @file Fused float32 convolution for the wasm backend (AssemblyScript), one sample at a time: the
 * sample's columns [K = C·kh·kw, L = Ho·Wo] are built in a scratch block that stays in cache and
 * fed to the packed gemm (gemm.ts `sgemmWith`), whose output lands straight in the NCHW result.
 *
 *   forward          out_n [O, L] = W [O, K] · cols(x_n) + bias
 *   input gradient   dx_n = col2im(Wᵀ [K, O] · g_n [O, L])
 *   weight gradient  dW [O, K] += g_n · cols(x_n)ᵀ (or dWᵀ += cols · g_nᵀ) over the samples of a chunk; db [O] += Σ_l g_n
 *
 * Each call takes a range of samples and its own scratch, so calls run on any thread. The columns
 * hold exactly window.ts's im2col values and the gemm is `sgemm`'s arithmetic, so the forward and
 * the input gradient equal im2col + matmul (+ add) and matmul + col2im on this backend bit for bit.
 *
 * The gradients of a relu-fused forward take y (the relu'd output, g's shape): each sample's
 * g_n · (y_n > 0) is written into an [O, L] block of the scratch (in cache) as it is read, and the
 * gemm and the bias sum read that block instead of g_n: no separate pass writing a masked copy of
 * all of g. The block is contiguous, as the masked g the gemm read before (the same bits).
 *
 * Conv2d → ReLU → MaxPool2d with non-overlapping pool windows (stride = kernel, no padding,
 * dilation 1) runs as one op: the forward writes each sample's relu'd convolution into an [O, L]
 * block of the scratch and max-pools it there with window.ts `maxPool2dF32` (the same winners,
 * indices, ties and NaNs), so only the pooled values and their indices leave the scratch. Its
 * gradients rebuild, per sample, the block the unfused chain's maxPool2dBackward and relu mask
 * would give (zeros; (0 + g_p) · (pooled > 0 ? 1 : 0) at each argmax: each position is some
 * window's argmax at most once) and run the masked input and weight gradients on it.
 *
 * `p` points at the call's int32 parameters: C, H, W, x strides (n, c, h, w), O, W strides (o, k:
 * the weight as an [O, K] matrix), g strides (n, o, l: the gradient as [O, L] per sample), then
 * the 10-int window geometry window.ts reads (kh, kw, strides, paddings, dilations, Ho, Wo), then the forward's relu flag (0/1),
 * then the gradients' relu mask: y's address at the call's first sample (0: no mask) and its strides (n, o, l),
 * then the max pool's 10-int window geometry over the [Ho, Wo] conv output (kernel height 0: no pool);
 * with a pool, g's strides are the pooled gradient's (n, o, l: [O, Hp·Wp] per sample).
 */
import { sgemmScratchBytes, sgemmWith } from "./gemm";
import { maxPool2dF32 } from "./window";

const C_ = 0, H_ = 1, W_ = 2, SN = 3, SC = 4, SH = 5, SW = 6, O_ = 7, SWO = 8, SWK = 9, SGN = 10, SGO = 11, SGL = 12;
/** Where the window geometry starts among the parameters. */
const GEO = 13;
/** y (the gradients' relu mask) and its strides, after the forward's relu flag at GEO + 10. */
const Y_ = GEO + 11, SYN = GEO + 12, SYO = GEO + 13, SYL = GEO + 14;
/** The max pool's window geometry (window.ts's 10 ints: kh, kw, strides, paddings, dilations, Hp, Wp); kh 0: none. */
const POOL = GEO + 15;

// @ts-ignore: decorator
@inline
function q(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/** The zero-padded image one sample is copied into: rows and columns (enough for every tap of every output position). */
// @ts-ignore: decorator
@inline
function paddedRows(p: usize): i32 {
  return max(q(p, H_) + q(p, GEO + 4), (q(p, GEO + 8) - 1) * q(p, GEO + 2) + (q(p, GEO) - 1) * q(p, GEO + 6) + 1);
}
// @ts-ignore: decorator
@inline
function paddedCols(p: usize): i32 {
  return max(q(p, W_) + q(p, GEO + 5), (q(p, GEO + 9) - 1) * q(p, GEO + 3) + (q(p, GEO + 1) - 1) * q(p, GEO + 7) + 1);
}

/**
 * Scratch layout of one call, as byte offsets: the columns [K, L] at 0 (+ 4 floats: rows are
 * copied 4 floats at a time and the last one may run over), then the padded image (+ 4 floats read
 * past its end), then the masked g [O, L] (only when the parameters carry a y or a pool; with a pool,
 * also the forward's relu'd conv output before pooling), then the gemm's blocks.
 */
// @ts-ignore: decorator
@inline
function padAt(p: usize): i32 {
  const K = q(p, C_) * q(p, GEO) * q(p, GEO + 1);
  const L = q(p, GEO + 8) * q(p, GEO + 9);
  return ((K * L + 4) * 4 + 63) & ~63;
}
// @ts-ignore: decorator
@inline
function maskAt(p: usize): i32 {
  return padAt(p) + (((q(p, C_) * paddedRows(p) * paddedCols(p) + 4) * 4 + 63) & ~63);
}
// @ts-ignore: decorator
@inline
function gemmAt(p: usize): i32 {
  return maskAt(p) + (q(p, Y_) !== 0 || q(p, POOL) !== 0 ? (q(p, O_) * q(p, GEO + 8) * q(p, GEO + 9) * 4 + 63) & ~63 : 0);
}

/** Bytes of scratch one call needs (see `padAt`). */
export function conv2dScratchBytes(p: usize): i32 {
  const K = q(p, C_) * q(p, GEO) * q(p, GEO + 1);
  const L = q(p, GEO + 8) * q(p, GEO + 9);
  const O = q(p, O_);
  // the largest of the products: forward O×L×K, input gradient K×L×O, weight gradient O×K×L or K×O×L
  return gemmAt(p) + max(max(sgemmScratchBytes(O, L, K), sgemmScratchBytes(K, L, O)), max(sgemmScratchBytes(O, K, L), sgemmScratchBytes(K, O, L)));
}

/**
 * Sample n's g · (y > 0 ? 1 : 0) into `out` [O, L] (contiguous): relu's gradient, the product
 * elementwise.ts's B_RELU_GRAD computes (g · 1 or g · 0: −0 for a negative g, NaN for an infinite
 * or NaN one where y ≤ 0 or is NaN), branch-free, 4 floats at a time where g and y rows are contiguous.
 */
function maskSample(p: usize, g: usize, n: i32, out: usize): void {
  const O = q(p, O_), L = q(p, GEO + 8) * q(p, GEO + 9);
  const sgo = q(p, SGO), sgl = q(p, SGL), syo = q(p, SYO), syl = q(p, SYL);
  const gn = g + ((<usize>n * <usize>q(p, SGN)) << 2);
  const yn = <usize><u32>q(p, Y_) + ((<usize>n * <usize>q(p, SYN)) << 2);
  const zero = f32x4.splat(0), one = f32x4.splat(1);
  for (let o = 0; o < O; o++, out += <usize>L << 2) {
    const gr = gn + ((<usize>o * <usize>sgo) << 2);
    const yr = yn + ((<usize>o * <usize>syo) << 2);
    let l = 0;
    if (sgl === 1 && syl === 1)
      for (; l + 4 <= L; l += 4) {
        const at = <usize>l << 2;
        v128.store(out + at, f32x4.mul(v128.load(gr + at), v128.and(f32x4.gt(v128.load(yr + at), zero), one)));
      }
    for (; l < L; l++)
      store<f32>(out + (<usize>l << 2), load<f32>(gr + ((<usize>l * <usize>sgl) << 2)) * <f32>(load<f32>(yr + ((<usize>l * <usize>syl) << 2)) > 0 ? 1 : 0));
  }
}

/**
 * Sample n's gradient block for a pooled forward into `out` [O, L] (contiguous): what the unfused
 * chain masks, rebuilt from the pooled gradient g (strides in the parameters), the int32 argmax
 * indices `idx` and the pooled values `pv` (both contiguous [N, O, Hp·Wp]). maxPool2dBackward's
 * zeros and its `0 + g` at each argmax (+0 for a −0 g), then relu's mask there: · (pooled > 0 ? 1 : 0),
 * the y at an argmax being the pooled value (elsewhere the zero stays +0 whatever y is).
 * Non-overlapping windows: no position gets two adds.
 */
function maskPooled(p: usize, g: usize, idx: usize, pv: usize, n: i32, out: usize): void {
  const O = q(p, O_), L = q(p, GEO + 8) * q(p, GEO + 9), Lp = q(p, POOL + 8) * q(p, POOL + 9);
  const sgo = q(p, SGO), sgl = q(p, SGL);
  const gn = g + ((<usize>n * <usize>q(p, SGN)) << 2);
  const first = (<usize>n * <usize>O * <usize>Lp) << 2;
  let ip = idx + first, vp = pv + first;
  memory.fill(out, 0, (<usize>O * <usize>L) << 2);
  for (let o = 0; o < O; o++, out += <usize>L << 2) {
    const gr = gn + ((<usize>o * <usize>sgo) << 2);
    for (let j = 0; j < Lp; j++, ip += 4, vp += 4) {
      const k = load<i32>(ip);
      if (k < 0) continue;
      const at = out + (<usize>k << 2);
      store<f32>(at, (load<f32>(at) + load<f32>(gr + ((<usize>j * <usize>sgl) << 2))) * <f32>(load<f32>(vp) > 0 ? 1 : 0));
    }
  }
}

/** Copies sample x into the interior of the padded image (whose border is zero: see `columns`). */
function fillPadded(p: usize, x: usize, pad: usize): void {
  const C = q(p, C_), H = q(p, H_), W = q(p, W_), sc = q(p, SC), sh = q(p, SH), sw = q(p, SW);
  const Hp = paddedRows(p), Wp = paddedCols(p);
  const sWb = <usize>sw << 2;
  for (let c = 0; c < C; c++) {
    const plane = x + ((<usize>c * <usize>sc) << 2);
    let d = pad + ((<usize>(c * Hp + q(p, GEO + 4)) * <usize>Wp + <usize>q(p, GEO + 5)) << 2);
    for (let h = 0; h < H; h++, d += <usize>Wp << 2) {
      const row = plane + ((<usize>h * <usize>sh) << 2);
      let w = 0;
      if (sw === 1) for (; w + 4 <= W; w += 4) v128.store(d + (<usize>w << 2), v128.load(row + (<usize>w << 2)));
      for (; w < W; w++) store<f32>(d + (<usize>w << 2), load<f32>(row + <usize>w * sWb));
    }
  }
}

/**
 * One sample's columns [C·kh·kw, Ho·Wo] (window.ts `im2colF32`'s values): the sample is copied
 * into a zero-padded image first, so every row of taps is a plain copy with no bounds to check,
 * 4 floats at a time when the stride is 1 (rows overrun by up to 3 floats into the next one,
 * which is written after). `first`: zero the padded image's border (it stays zero across samples).
 */
function columns(p: usize, x: usize, cols: usize, pad: usize, first: bool): void {
  const C = q(p, C_);
  const kh = q(p, GEO), kw = q(p, GEO + 1), strH = q(p, GEO + 2), strW = q(p, GEO + 3);
  const dilH = q(p, GEO + 6), dilW = q(p, GEO + 7), Ho = q(p, GEO + 8), Wo = q(p, GEO + 9);
  const Hp = paddedRows(p), Wp = paddedCols(p);
  if (first) memory.fill(pad, 0, (<usize>(C * Hp * Wp) + 4) << 2);
  fillPadded(p, x, pad);
  const rowStep = (<usize>strH * <usize>Wp) << 2;
  const colStep = <usize>strW << 2;
  let o = cols;
  for (let c = 0; c < C; c++)
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) {
        let src = pad + ((<usize>(c * Hp + i * dilH) * <usize>Wp + <usize>(j * dilW)) << 2);
        if (strW === 1) {
          for (let ho = 0; ho < Ho; ho++, o += <usize>Wo << 2, src += rowStep)
            for (let wo = 0; wo < Wo; wo += 4) v128.store(o + (<usize>wo << 2), v128.load(src + (<usize>wo << 2)));
        } else {
          for (let ho = 0; ho < Ho; ho++, o += <usize>Wo << 2, src += rowStep) {
            let s = src;
            for (let wo = 0; wo < Wo; wo++, s += colStep) store<f32>(o + (<usize>wo << 2), load<f32>(s));
          }
        }
      }
}

/**
 * One sample's forward: x_n's columns, W · cols into `out` [O, L], then the bias added while the
 * block is in cache, after the product (the same float32 sum as a separate add), then relu when the
 * parameters ask (the relu kernel's max with +0: NaN kept, −0 → +0). `first`: see `columns`.
 */
function convSample(p: usize, x: usize, w: usize, bias: usize, sb: i32, out: usize, scratch: usize, first: bool): void {
  const C = q(p, C_), O = q(p, O_);
  const K = C * q(p, GEO) * q(p, GEO + 1);
  const L = q(p, GEO + 8) * q(p, GEO + 9);
  const cols = scratch, pad = scratch + <usize>padAt(p), ws = scratch + <usize>gemmAt(p);
  const zero = f32x4.splat(0);
  columns(p, x, cols, pad, first);
  sgemmWith(O, L, K, w, q(p, SWO), q(p, SWK), cols, L, 1, out, L, ws, false);
  if (bias !== 0)
    for (let o = 0; o < O; o++) {
      const b = load<f32>(bias + ((<usize>o * <usize>sb) << 2));
      const bv = f32x4.splat(b);
      const row = out + ((<usize>o * <usize>L) << 2);
      let l = 0;
      for (; l + 4 <= L; l += 4) v128.store(row + (<usize>l << 2), f32x4.add(v128.load(row + (<usize>l << 2)), bv));
      for (; l < L; l++) store<f32>(row + (<usize>l << 2), load<f32>(row + (<usize>l << 2)) + b);
    }
  if (q(p, GEO + 10) != 0) {
    const all = O * L;
    let i = 0;
    for (; i + 4 <= all; i += 4) v128.store(out + (<usize>i << 2), f32x4.max(v128.load(out + (<usize>i << 2)), zero));
    for (; i < all; i++) store<f32>(out + (<usize>i << 2), max<f32>(load<f32>(out + (<usize>i << 2)), 0));
  }
}

/**
 * Forward for `nn` samples: x at sample 0 of the range, `out` at its [O, Ho, Wo] block; `bias`
 * (stride `sb`) or 0 (see `convSample`).
 */
export function conv2dF32(nn: i32, p: usize, x: usize, w: usize, bias: usize, sb: i32, out: usize, scratch: usize): void {
  const sn = q(p, SN);
  const block = (<usize>q(p, O_) * <usize>q(p, GEO + 8) * <usize>q(p, GEO + 9)) << 2;
  for (let n = 0; n < nn; n++, out += block) convSample(p, x + ((<usize>n * <usize>sn) << 2), w, bias, sb, out, scratch, n === 0);
}

/**
 * Conv2d → ReLU → MaxPool2d forward for `nn` samples (the parameters carry relu and the pool):
 * each sample's relu'd convolution lands in the scratch's [O, Ho, Wo] block and `maxPool2dF32`
 * pools it there into `values` / `indices` (int32 plane indices) at the range's [O, Hp, Wp] block.
 */
export function conv2dReluPoolF32(nn: i32, p: usize, x: usize, w: usize, bias: usize, sb: i32, values: usize, indices: usize, scratch: usize): void {
  const O = q(p, O_), Ho = q(p, GEO + 8), Wo = q(p, GEO + 9), sn = q(p, SN);
  const L = Ho * Wo;
  const block = scratch + <usize>maskAt(p);
  const pooled = (<usize>O * <usize>q(p, POOL + 8) * <usize>q(p, POOL + 9)) << 2;
  for (let n = 0; n < nn; n++, values += pooled, indices += pooled) {
    convSample(p, x + ((<usize>n * <usize>sn) << 2), w, bias, sb, block, scratch, n === 0);
    maxPool2dF32(1, O, Ho, Wo, O * L, L, Wo, 1, block, p + (<usize>POOL << 2), values, indices);
  }
}

/**
 * The adjoint of `columns`: one sample's column gradients [C·kh·kw, Ho·Wo] summed into `out`
 * [C, H, W] through the padded image (window.ts `col2imF32`'s loop order, so each element gets
 * the same adds in the same order from zero: the same bits), 4 floats at a time at stride 1.
 */
function scatter(p: usize, cols: usize, pad: usize, out: usize): void {
  const C = q(p, C_), H = q(p, H_), W = q(p, W_);
  const kh = q(p, GEO), kw = q(p, GEO + 1), strH = q(p, GEO + 2), strW = q(p, GEO + 3);
  const dilH = q(p, GEO + 6), dilW = q(p, GEO + 7), Ho = q(p, GEO + 8), Wo = q(p, GEO + 9);
  const Hp = paddedRows(p), Wp = paddedCols(p);
  memory.fill(pad, 0, <usize>(C * Hp * Wp) << 2);
  const rowStep = (<usize>strH * <usize>Wp) << 2;
  const colStep = <usize>strW << 2;
  let l = cols;
  for (let c = 0; c < C; c++)
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++) {
        let dst = pad + ((<usize>(c * Hp + i * dilH) * <usize>Wp + <usize>(j * dilW)) << 2);
        for (let ho = 0; ho < Ho; ho++, dst += rowStep) {
          let wo = 0;
          let d = dst;
          if (strW === 1) for (; wo + 4 <= Wo; wo += 4, d += 16, l += 16) v128.store(d, f32x4.add(v128.load(d), v128.load(l)));
          for (; wo < Wo; wo++, d += colStep, l += 4) store<f32>(d, load<f32>(d) + load<f32>(l));
        }
      }
  const padH = q(p, GEO + 4), padW = q(p, GEO + 5);
  for (let c = 0; c < C; c++) {
    let src = pad + ((<usize>(c * Hp + padH) * <usize>Wp + <usize>padW) << 2);
    for (let h = 0; h < H; h++, src += <usize>Wp << 2, out += <usize>W << 2) memory.copy(out, src, <usize>W << 2);
  }
}

/**
 * Input gradient for `nn` samples: g (and y, when the parameters carry one) at sample 0 of the
 * range, `out` at its [C, H, W] block.
 */
export function conv2dBackwardInputF32(nn: i32, p: usize, g: usize, w: usize, out: usize, scratch: usize): void {
  inputGradient(nn, p, g, 0, 0, w, out, scratch);
}

/**
 * The input gradient of a pooled forward (`conv2dReluPoolF32`) for `nn` samples: the pooled
 * gradient g at sample 0 of the range, the indices and pooled values at sample 0 of the call
 * (contiguous [N, O, Hp·Wp]), `n0` the range's first sample; `out` at its [C, H, W] block.
 */
export function conv2dPoolBackwardInputF32(nn: i32, n0: i32, p: usize, g: usize, idx: usize, pv: usize, w: usize, out: usize, scratch: usize): void {
  const skip = (<usize>n0 * <usize>q(p, O_) * <usize>q(p, POOL + 8) * <usize>q(p, POOL + 9)) << 2;
  inputGradient(nn, p, g, idx + skip, pv + skip, w, out, scratch);
}

/** The input gradient: g_n, its relu-masked copy (y in the parameters) or the pooled forward's block (idx ≠ 0) per sample. */
function inputGradient(nn: i32, p: usize, g: usize, idx: usize, pv: usize, w: usize, out: usize, scratch: usize): void {
  const C = q(p, C_), H = q(p, H_), W = q(p, W_), O = q(p, O_), sgn = q(p, SGN);
  const K = C * q(p, GEO) * q(p, GEO + 1);
  const L = q(p, GEO + 8) * q(p, GEO + 9);
  const cols = scratch, pad = scratch + <usize>padAt(p), mask = scratch + <usize>maskAt(p), ws = scratch + <usize>gemmAt(p);
  const masking = q(p, Y_) !== 0;
  const block = (<usize>C * <usize>H * <usize>W) << 2;
  for (let n = 0; n < nn; n++, out += block) {
    // Wᵀ: the weight matrix read with its strides swapped; g_n, or its masked copy [O, L]
    if (idx !== 0 || masking) {
      if (idx !== 0) maskPooled(p, g, idx, pv, n, mask);
      else maskSample(p, g, n, mask);
      sgemmWith(K, L, O, w, q(p, SWK), q(p, SWO), mask, L, 1, cols, L, ws, false);
    } else sgemmWith(K, L, O, w, q(p, SWK), q(p, SWO), g + ((<usize>n * <usize>sgn) << 2), q(p, SGO), q(p, SGL), cols, L, ws, false);
    scatter(p, cols, pad, out);
  }
}

/**
 * Whether the weight gradient is computed transposed, dWᵀ [K, O] = cols · gᵀ, instead of
 * dW [O, K] = g · colsᵀ: when fewer padded micro-tile rows and columns (4 × 8) are wasted — a first
 * layer's K = 9 taps pad to 16 columns, but only to 12 rows. The same products in the same order
 * either way (a·b = b·a), so the same bits.
 */
// @ts-ignore: decorator
@inline
function transposedWeight(O: i32, K: i32): bool {
  return ((K + 3) & ~3) * ((O + 7) & ~7) < ((O + 3) & ~3) * ((K + 7) & ~7);
}

/**
 * Weight gradient of `nn` samples summed into `dw` (overwritten: [O, K], or [K, O] when
 * `transposedWeight`), and, when `db` ≠ 0, the bias gradient into `db` [O] as float64 sums
 * (overwritten); g masked by y first when the parameters carry one (both sums read the masked g).
 * A chunk's sum runs in sample order, so its bits do not depend on the thread that runs it.
 */
export function conv2dBackwardWeightF32(nn: i32, p: usize, x: usize, g: usize, dw: usize, db: usize, scratch: usize): void {
  weightGradient(nn, p, x, g, 0, 0, dw, db, scratch);
}

/**
 * `conv2dBackwardWeightF32` for a pooled forward (`conv2dReluPoolF32`): g the pooled gradient at
 * sample 0 of the range, the indices and pooled values at sample 0 of the call (contiguous
 * [N, O, Hp·Wp]), `n0` the range's first sample; each sample's gradient block is rebuilt by `maskPooled`.
 */
export function conv2dPoolBackwardWeightF32(nn: i32, n0: i32, p: usize, x: usize, g: usize, idx: usize, pv: usize, dw: usize, db: usize, scratch: usize): void {
  const skip = (<usize>n0 * <usize>q(p, O_) * <usize>q(p, POOL + 8) * <usize>q(p, POOL + 9)) << 2;
  weightGradient(nn, p, x, g, idx + skip, pv + skip, dw, db, scratch);
}

function weightGradient(nn: i32, p: usize, x: usize, g: usize, idx: usize, pv: usize, dw: usize, db: usize, scratch: usize): void {
  const C = q(p, C_), O = q(p, O_), sn = q(p, SN), sgn = q(p, SGN);
  const K = C * q(p, GEO) * q(p, GEO + 1);
  const L = q(p, GEO + 8) * q(p, GEO + 9);
  const cols = scratch, pad = scratch + <usize>padAt(p), mask = scratch + <usize>maskAt(p), ws = scratch + <usize>gemmAt(p);
  const masking = q(p, Y_) !== 0 || idx !== 0;
  // g_n as an [O, L] matrix: its own strides, or the masked copy's
  const sgo = masking ? L : q(p, SGO), sgl = masking ? 1 : q(p, SGL);
  const transposed = transposedWeight(O, K);
  if (db !== 0) memory.fill(db, 0, <usize>O << 3);
  for (let n = 0; n < nn; n++) {
    let gn = g + ((<usize>n * <usize>sgn) << 2);
    if (masking) {
      if (idx !== 0) maskPooled(p, g, idx, pv, n, mask);
      else maskSample(p, g, n, mask);
      gn = mask;
    }
    columns(p, x + ((<usize>n * <usize>sn) << 2), cols, pad, n === 0);
    // colsᵀ [L, K] and gᵀ [L, O]: the operands read with swapped strides
    if (transposed) sgemmWith(K, O, L, cols, L, 1, gn, sgl, sgo, dw, O, ws, n > 0);
    else sgemmWith(O, K, L, gn, sgo, sgl, cols, 1, L, dw, K, ws, n > 0);
    if (db !== 0) for (let o = 0; o < O; o++) sumRow(gn + ((<usize>o * <usize>sgo) << 2), L, sgl, db + (<usize>o << 3));
  }
}

/** *acc += Σ of `n` floats at `row` (stride `s`), in float64: eight lanes (four independent add chains), then a fixed fold. */
function sumRow(row: usize, n: i32, s: i32, acc: usize): void {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  let i = 0;
  if (s === 1)
    for (; i + 8 <= n; i += 8) {
      const v = v128.load(row + (<usize>i << 2));
      const w = v128.load(row + (<usize>i << 2), 16);
      a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
      a1 = f64x2.add(a1, f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)));
      a2 = f64x2.add(a2, f64x2.promote_low_f32x4(w));
      a3 = f64x2.add(a3, f64x2.promote_low_f32x4(i32x4.shuffle(w, w, 2, 3, 0, 1)));
    }
  let t: f64 = 0;
  for (; i < n; i++) t += <f64>load<f32>(row + ((<usize>i * <usize>s) << 2));
  const v = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  store<f64>(acc, load<f64>(acc) + (f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1) + t));
}

/**
 * dw [O, K] = the sum of a call's `parts` chunk partials at `src` (conv2dBackwardWeightF32's
 * layout, O·K floats apart), added in chunk order; transposed back when they are dWᵀ.
 */
export function conv2dSumPartsF32(p: usize, parts: i32, src: usize, dst: usize): void {
  const O = q(p, O_), K = q(p, C_) * q(p, GEO) * q(p, GEO + 1);
  const n = O * K;
  const stride = <usize>n << 2;
  if (transposedWeight(O, K)) {
    for (let k = 0; k < K; k++)
      for (let o = 0; o < O; o++) {
        let s = src + (<usize>(k * O + o) << 2);
        let acc = load<f32>(s);
        for (let t = 1; t < parts; t++) {
          s += stride;
          acc += load<f32>(s);
        }
        store<f32>(dst + (<usize>(o * K + k) << 2), acc);
      }
    return;
  }
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let s = src + (<usize>i << 2);
    let acc = v128.load(s);
    for (let t = 1; t < parts; t++) {
      s += stride;
      acc = f32x4.add(acc, v128.load(s));
    }
    v128.store(dst + (<usize>i << 2), acc);
  }
  for (; i < n; i++) {
    let s = src + (<usize>i << 2);
    let acc = load<f32>(s);
    for (let t = 1; t < parts; t++) {
      s += stride;
      acc += load<f32>(s);
    }
    store<f32>(dst + (<usize>i << 2), acc);
  }
}
