/**
 * @file Float32 2-D window kernels for the wasm backend (AssemblyScript): im2col, col2im, max
 * pooling and its backward, in exactly the loop order of the js reference (src/backend/js/conv.ts),
 * so sums round identically and results are bit-identical (SIMD only across distinct output
 * elements: col2im's contiguous rows, max pooling's 2×2 stride-2 windows).
 *
 * `geo` points at 10 int32s: kh, kw, strideH, strideW, padH, padW, dilationH, dilationW, Ho, Wo.
 * Strides of views are in elements; outputs are contiguous and fully written (zeros included).
 */

// @ts-ignore: decorator
@inline
function g(geo: usize, i: i32): i32 {
  return load<i32>(geo + (<usize>i << 2));
}

/** First output column whose tap lands at or after input column 0, and the end of those inside the input. */
// @ts-ignore: decorator
@inline
function colRange(shiftW: i32, strW: i32, W: i32, Wo: i32): i64 {
  const lo = min(Wo, max(0, <i32>Math.ceil(<f64>-shiftW / <f64>strW)));
  const hi = max(lo, min(Wo, <i32>Math.ceil(<f64>(W - shiftW) / <f64>strW)));
  return (<i64>lo << 32) | <i64>(<u32>hi);
}

/** x [N, C, H, W] → columns [N, C·kh·kw, Ho·Wo] (zero outside x). */
export function im2colF32(N: i32, C: i32, H: i32, W: i32, sn: i32, sc: i32, sh: i32, sw: i32, x: usize, geo: usize, out: usize): void {
  const kh = g(geo, 0), kw = g(geo, 1), strH = g(geo, 2), strW = g(geo, 3), padH = g(geo, 4), padW = g(geo, 5);
  const dilH = g(geo, 6), dilW = g(geo, 7), Ho = g(geo, 8), Wo = g(geo, 9);
  memory.fill(out, 0, (<usize>N * <usize>C * <usize>kh * <usize>kw * <usize>Ho * <usize>Wo) << 2);
  const step = (<usize>strW * <usize>sw) << 2;
  let o = out;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = x + ((<usize>n * <usize>sn + <usize>c * <usize>sc) << 2);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          const shiftW = j * dilW - padW;
          const r = colRange(shiftW, strW, W, Wo);
          const woLo = <i32>(r >> 32), woHi = <i32>r;
          for (let ho = 0; ho < Ho; ho++, o += <usize>Wo << 2) {
            const hi = ho * strH - padH + i * dilH;
            if (hi < 0 || hi >= H) continue;
            const row = plane + ((<usize>hi * <usize>sh + <usize>shiftW * <usize>sw) << 2);
            if (step === 4) {
              memory.copy(o + (<usize>woLo << 2), row + (<usize>woLo << 2), <usize>(woHi - woLo) << 2);
            } else {
              let p = row + <usize>woLo * step;
              for (let wo = woLo; wo < woHi; wo++, p += step) store<f32>(o + (<usize>wo << 2), load<f32>(p));
            }
          }
        }
    }
}

/** The adjoint of im2col: columns [N, C·kh·kw, Ho·Wo] (strides sn, sr, sl) summed into an image [N, C, H, W]. */
export function col2imF32(N: i32, C: i32, H: i32, W: i32, sn: i32, sr: i32, sl: i32, cols: usize, geo: usize, out: usize): void {
  const kh = g(geo, 0), kw = g(geo, 1), strH = g(geo, 2), strW = g(geo, 3), padH = g(geo, 4), padW = g(geo, 5);
  const dilH = g(geo, 6), dilW = g(geo, 7), Ho = g(geo, 8), Wo = g(geo, 9);
  memory.fill(out, 0, (<usize>N * <usize>C * <usize>H * <usize>W) << 2);
  const slb = <usize>sl << 2;
  const ostep = <usize>strW << 2;
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = out + ((<usize>(n * C + c) * <usize>H * <usize>W) << 2);
      for (let i = 0; i < kh; i++)
        for (let j = 0; j < kw; j++) {
          const src = cols + ((<usize>n * <usize>sn + <usize>((c * kh + i) * kw + j) * <usize>sr) << 2);
          const shiftW = j * dilW - padW;
          const r = colRange(shiftW, strW, W, Wo);
          const woLo = <i32>(r >> 32), woHi = <i32>r;
          for (let ho = 0; ho < Ho; ho++) {
            const hi = ho * strH - padH + i * dilH;
            if (hi < 0 || hi >= H) continue;
            let q = plane + ((<usize>hi * <usize>W + <usize>shiftW) << 2) + <usize>woLo * ostep;
            let l = src + <usize>ho * <usize>Wo * slb + <usize>woLo * slb;
            let wo = woLo;
            // both walks contiguous: 4 distinct output elements per step, each gets the same single add
            if (ostep == 4 && slb == 4)
              for (; wo + 4 <= woHi; wo += 4, q += 16, l += 16) v128.store(q, f32x4.add(v128.load(q), v128.load(l)));
            for (; wo < woHi; wo++, q += ostep, l += slb) store<f32>(q, load<f32>(q) + load<f32>(l));
          }
        }
    }
}

/** Window maxima of x [N, C, H, W] → values [N, C, Ho, Wo] and int32 plane indices (first wins ties, a NaN always wins). */
export function maxPool2dF32(N: i32, C: i32, H: i32, W: i32, sn: i32, sc: i32, sh: i32, sw: i32, x: usize, geo: usize, values: usize, indices: usize): void {
  const kh = g(geo, 0), kw = g(geo, 1), strH = g(geo, 2), strW = g(geo, 3), padH = g(geo, 4), padW = g(geo, 5);
  const dilH = g(geo, 6), dilW = g(geo, 7), Ho = g(geo, 8), Wo = g(geo, 9);
  // 2×2, stride 2, no padding, every window inside x, contiguous rows: the CNN case, 4 windows per vector
  if (kh == 2 && kw == 2 && strH == 2 && strW == 2 && padH == 0 && padW == 0 && dilH == 1 && dilW == 1 && sw == 1 && 2 * Ho <= H && 2 * Wo <= W) {
    maxPool2x2(N, C, W, sn, sc, sh, x, Ho, Wo, values, indices);
    return;
  }
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = x + ((<usize>n * <usize>sn + <usize>c * <usize>sc) << 2);
      for (let ho = 0; ho < Ho; ho++)
        for (let wo = 0; wo < Wo; wo++) {
          let best: f32 = -Infinity;
          let arg = -1;
          for (let i = 0; i < kh; i++) {
            const hi = ho * strH - padH + i * dilH;
            if (hi < 0 || hi >= H) continue;
            for (let j = 0; j < kw; j++) {
              const wi = wo * strW - padW + j * dilW;
              if (wi < 0 || wi >= W) continue;
              const v = load<f32>(plane + ((<usize>hi * <usize>sh + <usize>wi * <usize>sw) << 2));
              if (arg < 0 || v > best || v != v) {
                best = v;
                arg = hi * W + wi;
              }
            }
          }
          store<f32>(values, best);
          store<i32>(indices, arg);
          values += 4;
          indices += 4;
        }
    }
}

/**
 * maxPool2dF32's 2×2 stride-2 case: taps in the general loop's order (0,0) (0,1) (1,0) (1,1), each
 * taken when it is greater or NaN — the same winner, first on ties, as the scalar rule; four output
 * columns per step (even and odd input columns split by shuffles), the rest scalar.
 */
function maxPool2x2(N: i32, C: i32, W: i32, sn: i32, sc: i32, sh: i32, x: usize, Ho: i32, Wo: i32, values: usize, indices: usize): void {
  const lane = i32x4(0, 2, 4, 6);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = x + ((<usize>n * <usize>sn + <usize>c * <usize>sc) << 2);
      for (let ho = 0; ho < Ho; ho++) {
        const r0 = plane + ((<usize>(2 * ho) * <usize>sh) << 2);
        const r1 = r0 + (<usize>sh << 2);
        const base0 = 2 * ho * W;
        let wo = 0;
        let idx = i32x4.add(i32x4.splat(base0), lane);
        for (; wo + 4 <= Wo; wo += 4) {
          const p = <usize>(2 * wo) << 2;
          const a0 = v128.load(r0 + p), a1 = v128.load(r0 + p + 16);
          const b0 = v128.load(r1 + p), b1 = v128.load(r1 + p + 16);
          let best = i32x4.shuffle(a0, a1, 0, 2, 4, 6);
          let arg = idx;
          let t = i32x4.shuffle(a0, a1, 1, 3, 5, 7);
          let m = v128.or(f32x4.gt(t, best), f32x4.ne(t, t));
          best = v128.bitselect(t, best, m);
          arg = v128.bitselect(i32x4.add(idx, i32x4.splat(1)), arg, m);
          t = i32x4.shuffle(b0, b1, 0, 2, 4, 6);
          m = v128.or(f32x4.gt(t, best), f32x4.ne(t, t));
          best = v128.bitselect(t, best, m);
          arg = v128.bitselect(i32x4.add(idx, i32x4.splat(W)), arg, m);
          t = i32x4.shuffle(b0, b1, 1, 3, 5, 7);
          m = v128.or(f32x4.gt(t, best), f32x4.ne(t, t));
          best = v128.bitselect(t, best, m);
          arg = v128.bitselect(i32x4.add(idx, i32x4.splat(W + 1)), arg, m);
          v128.store(values, best);
          v128.store(indices, arg);
          values += 16;
          indices += 16;
          idx = i32x4.add(idx, i32x4.splat(8));
        }
        for (; wo < Wo; wo++) {
          const p = <usize>(2 * wo) << 2;
          let best = load<f32>(r0 + p);
          let arg = base0 + 2 * wo;
          let v = load<f32>(r0 + p + 4);
          if (v > best || v != v) {
            best = v;
            arg = base0 + 2 * wo + 1;
          }
          v = load<f32>(r1 + p);
          if (v > best || v != v) {
            best = v;
            arg = base0 + W + 2 * wo;
          }
          v = load<f32>(r1 + p + 4);
          if (v > best || v != v) {
            best = v;
            arg = base0 + W + 2 * wo + 1;
          }
          store<f32>(values, best);
          store<i32>(indices, arg);
          values += 4;
          indices += 4;
        }
      }
    }
}

/** Scatter-adds g [N, C, Ho, Wo] into a zero image [N, C, H, W] at the int32 plane indices (-1: dropped). */
export function maxPool2dBackwardF32(
  N: i32,
  C: i32,
  Ho: i32,
  Wo: i32,
  H: i32,
  W: i32,
  gp: usize,
  gn: i32,
  gc: i32,
  gh: i32,
  gw: i32,
  ip: usize,
  in_: i32,
  ic: i32,
  ih: i32,
  iw: i32,
  out: usize,
): void {
  memory.fill(out, 0, (<usize>N * <usize>C * <usize>H * <usize>W) << 2);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++) {
      const plane = out + ((<usize>(n * C + c) * <usize>H * <usize>W) << 2);
      for (let ho = 0; ho < Ho; ho++)
        for (let wo = 0; wo < Wo; wo++) {
          const k = load<i32>(ip + ((<usize>n * <usize>in_ + <usize>c * <usize>ic + <usize>ho * <usize>ih + <usize>wo * <usize>iw) << 2));
          if (k >= 0) {
            const q = plane + (<usize>k << 2);
            store<f32>(q, load<f32>(q) + load<f32>(gp + ((<usize>n * <usize>gn + <usize>c * <usize>gc + <usize>ho * <usize>gh + <usize>wo * <usize>gw) << 2)));
          }
        }
    }
}
