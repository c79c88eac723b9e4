/**
 * @file Reference 2-D window kernels over NCHW strided views: im2col / col2im (convolution is
 * im2col + one batched gemm, written in the front end) and max / average pooling with their
 * backwards. Every kernel here is linear in its float input (max pooling once its argmax is
 * fixed) and comes with its adjoint, which is what makes the gradient rules differentiable:
 *   im2col ↔ col2im,  avgPool2d ↔ avgPool2dBackward,  maxPool2d (gather at argmax) ↔ maxPool2dBackward (scatter-add).
 */
import { allocate, type TypedArray } from "../../base/dtype.ts";
import type { AvgPoolOptions, StridedView, Window2d } from "../backend.ts";

/**
 * x [N, C, H, W] → columns [N, C·kh·kw, Ho·Wo]: row (c, i, j) of sample n holds, for every output
 * position, the input element under kernel tap (i, j) of channel c (zero outside the input) —
 * PyTorch's `unfold` layout.
 */
export function im2col(x: StridedView, win: Window2d): TypedArray {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x.strides as [number, number, number, number];
  const { kernel: [kh, kw], stride: [strH, strW], padding: [padH, padW], dilation: [dilH, dilW], outSize: [Ho, Wo] } = win;
  const out = allocate(x.dtype, N * C * kh * kw * Ho * Wo);
  const xd = x.data;
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = x.offset + n * sn + c * sc;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          // output columns whose tap (i, j) lands inside the input: wo in [woLo, woHi)
          const shiftW = j * dilW - padW;
          const woLo = Math.min(Wo, Math.max(0, Math.ceil(-shiftW / strW)));
          const woHi = Math.max(woLo, Math.min(Wo, Math.ceil((W - shiftW) / strW)));
          for (let ho = 0; ho < Ho; ho++, o += Wo) {
            const hi = ho * strH - padH + i * dilH;
            if (hi < 0 || hi >= H) continue; // stays zero
            const row = plane + hi * sh + shiftW * sw;
            for (let wo = woLo; wo < woHi; wo++) out[o + wo] = xd[row + wo * strW * sw]!;
          }
        }
      }
    }
  }
  return out;
}

/** The adjoint of im2col: columns [N, C·kh·kw, Ho·Wo] summed back into an image [N, C, H, W] (overlaps add). */
export function col2im(cols: StridedView, win: Window2d, inSize: readonly [number, number]): TypedArray {
  const { kernel: [kh, kw], stride: [strH, strW], padding: [padH, padW], dilation: [dilH, dilW], outSize: [Ho, Wo] } = win;
  const [H, W] = inSize;
  const N = cols.shape[0]!;
  const C = cols.shape[1]! / (kh * kw);
  const [sn, sr, sl] = cols.strides as [number, number, number];
  const out = allocate(cols.dtype, N * C * H * W);
  const cd = cols.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const src = cols.offset + n * sn + ((c * kh + i) * kw + j) * sr;
          const shiftW = j * dilW - padW;
          const woLo = Math.min(Wo, Math.max(0, Math.ceil(-shiftW / strW)));
          const woHi = Math.max(woLo, Math.min(Wo, Math.ceil((W - shiftW) / strW)));
          for (let ho = 0; ho < Ho; ho++) {
            const hi = ho * strH - padH + i * dilH;
            if (hi < 0 || hi >= H) continue;
            const row = plane + hi * W + shiftW;
            const l = src + ho * Wo * sl;
            for (let wo = woLo; wo < woHi; wo++) out[row + wo * strW] += cd[l + wo * sl]!;
          }
        }
      }
    }
  }
  return out;
}

/**
 * Max over each window of x [N, C, H, W] → values [N, C, Ho, Wo] and int32 indices of the
 * winners, flat within their H·W plane (PyTorch's `return_indices` convention). Padding never
 * wins; ties go to the first element in row-major order and NaN propagates, as in PyTorch.
 */
export function maxPool2d(x: StridedView, win: Window2d): { values: TypedArray; indices: Int32Array } {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x.strides as [number, number, number, number];
  const { kernel: [kh, kw], stride: [strH, strW], padding: [padH, padW], dilation: [dilH, dilW], outSize: [Ho, Wo] } = win;
  const values = allocate(x.dtype, N * C * Ho * Wo);
  const indices = new Int32Array(N * C * Ho * Wo);
  const xd = x.data;
  let o = 0;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = x.offset + n * sn + c * sc;
      for (let ho = 0; ho < Ho; ho++) {
        for (let wo = 0; wo < Wo; wo++, o++) {
          let best = Number.NEGATIVE_INFINITY;
          let arg = -1;
          for (let i = 0; i < kh; i++) {
            const hi = ho * strH - padH + i * dilH;
            if (hi < 0 || hi >= H) continue;
            for (let j = 0; j < kw; j++) {
              const wi = wo * strW - padW + j * dilW;
              if (wi < 0 || wi >= W) continue;
              const v = xd[plane + hi * sh + wi * sw]!;
              if (arg < 0 || v > best || Number.isNaN(v)) {
                best = v;
                arg = hi * W + wi;
              }
            }
          }
          values[o] = best;
          indices[o] = arg;
        }
      }
    }
  }
  return { values, indices };
}

/** Scatter-adds g [N, C, Ho, Wo] into a zero image [N, C, H, W] at the int32 plane indices (-1 = nowhere). */
export function maxPool2dBackward(g: StridedView, indices: StridedView, inSize: readonly [number, number]): TypedArray {
  const [N, C, Ho, Wo] = g.shape as [number, number, number, number];
  const [H, W] = inSize;
  const out = allocate(g.dtype, N * C * H * W);
  const [gn, gc, gh, gw] = g.strides as [number, number, number, number];
  const [in_, ic, ih, iw] = indices.strides as [number, number, number, number];
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      for (let ho = 0; ho < Ho; ho++) {
        for (let wo = 0; wo < Wo; wo++) {
          const k = indices.data[indices.offset + n * in_ + c * ic + ho * ih + wo * iw]!;
          if (k >= 0) out[plane + k] += g.data[g.offset + n * gn + c * gc + ho * gh + wo * gw]!;
        }
      }
    }
  }
  return out;
}

/**
 * The divisor of output position (ho, wo) along one axis, as PyTorch computes it: the window
 * clipped to the padded input (countIncludePad) or to the input itself. Returns [start, end, size].
 */
function axisWindow(o: number, stride: number, pad: number, k: number, size: number, includePad: boolean): [number, number, number] {
  const start = o * stride - pad;
  const endPadded = Math.min(start + k, size + pad);
  const lo = Math.max(start, 0);
  const hi = Math.min(endPadded, size);
  return [lo, hi, includePad ? endPadded - start : hi - lo];
}

/** Calls `visit(o, h0, h1, w0, w1, divisor)` for every output position of an average pool, in row-major order. */
function forEachAvgWindow(
  win: Window2d,
  H: number,
  W: number,
  opts: AvgPoolOptions,
  visit: (o: number, h0: number, h1: number, w0: number, w1: number, divisor: number) => void,
): void {
  const { kernel: [kh, kw], stride: [strH, strW], padding: [padH, padW], outSize: [Ho, Wo] } = win;
  for (let ho = 0; ho < Ho; ho++) {
    const [h0, h1, dh] = axisWindow(ho, strH, padH, kh, H, opts.countIncludePad);
    for (let wo = 0; wo < Wo; wo++) {
      const [w0, w1, dw] = axisWindow(wo, strW, padW, kw, W, opts.countIncludePad);
      if (h0 >= h1 || w0 >= w1) continue; // an all-padding window averages to 0
      visit(ho * Wo + wo, h0, h1, w0, w1, opts.divisorOverride ?? dh * dw);
    }
  }
}

/** Mean over each window of x [N, C, H, W] (padding counts as zeros) → [N, C, Ho, Wo]. */
export function avgPool2d(x: StridedView, win: Window2d, opts: AvgPoolOptions): TypedArray {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [sn, sc, sh, sw] = x.strides as [number, number, number, number];
  const L = win.outSize[0] * win.outSize[1];
  const out = allocate(x.dtype, N * C * L);
  const xd = x.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = x.offset + n * sn + c * sc;
      const base = (n * C + c) * L;
      forEachAvgWindow(win, H, W, opts, (o, h0, h1, w0, w1, divisor) => {
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += xd[plane + h * sh + w * sw]!;
        out[base + o] = s / divisor;
      });
    }
  }
  return out;
}

/** The adjoint of avgPool2d: each g [N, C, Ho, Wo] element spread evenly over its window of [N, C, H, W]. */
export function avgPool2dBackward(g: StridedView, win: Window2d, opts: AvgPoolOptions, inSize: readonly [number, number]): TypedArray {
  const [N, C, , Wo] = g.shape as [number, number, number, number];
  const [gn, gc, gh, gw] = g.strides as [number, number, number, number];
  const [H, W] = inSize;
  const out = allocate(g.dtype, N * C * H * W);
  const gd = g.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const plane = (n * C + c) * H * W;
      const gBase = g.offset + n * gn + c * gc;
      forEachAvgWindow(win, H, W, opts, (o, h0, h1, w0, w1, divisor) => {
        const v = gd[gBase + Math.floor(o / Wo) * gh + (o % Wo) * gw]! / divisor;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) out[plane + h * W + w] += v;
      });
    }
  }
  return out;
}
