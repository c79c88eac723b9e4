/**
 * @file Float32 2-D window kernels for the wasm backend (AssemblyScript): im2col, col2im, max
 * pooling and its backward, in exactly the loop order of the js reference (src/backend/js/conv.ts),
 * so sums round identically and results are bit-identical.
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
            for (let wo = woLo; wo < woHi; wo++, q += ostep, l += slb) store<f32>(q, load<f32>(q) + load<f32>(l));
          }
        }
    }
}

/** Window maxima of x [N, C, H, W] → values [N, C, Ho, Wo] and int32 plane indices (first wins ties, a NaN always wins). */
export function maxPool2dF32(N: i32, C: i32, H: i32, W: i32, sn: i32, sc: i32, sh: i32, sw: i32, x: usize, geo: usize, values: usize, indices: usize): void {
  const kh = g(geo, 0), kw = g(geo, 1), strH = g(geo, 2), strW = g(geo, 3), padH = g(geo, 4), padW = g(geo, 5);
  const dilH = g(geo, 6), dilW = g(geo, 7), Ho = g(geo, 8), Wo = g(geo, 9);
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
