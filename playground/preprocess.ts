/**
 * @file A drawn digit → a 28×28 MNIST-style image, as MNIST was made: the ink's bounding box is
 * scaled (keeping its aspect ratio, area-averaged, so antialiased) to fit 20×20, then placed in a
 * 28×28 field so that its centre of mass sits at the centre. No DOM: pure arrays, tested in Node.
 */

/** Ink below this (of 1) does not count for the bounding box. */
const INK = 0.05;

/** Resamples a w×h image (row-major) to tw×th by area averaging (each output pixel = the mean over its footprint). */
export function resampleArea(src: Float32Array, w: number, h: number, tw: number, th: number): Float32Array {
  const axis = (n: number, tn: number) => {
    // for each output index, the input indices it covers and their weights (fractions of a pixel)
    const out: { i: number; w: number }[][] = [];
    const s = n / tn;
    for (let t = 0; t < tn; t++) {
      const a = t * s;
      const b = (t + 1) * s;
      const cover: { i: number; w: number }[] = [];
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) cover.push({ i, w: (Math.min(b, i + 1) - Math.max(a, i)) / s });
      out.push(cover);
    }
    return out;
  };
  const ax = axis(w, tw);
  const ay = axis(h, th);
  const rows = new Float32Array(h * tw);
  for (let y = 0; y < h; y++)
    for (let t = 0; t < tw; t++) {
      let v = 0;
      for (const c of ax[t]!) v += src[y * w + c.i]! * c.w;
      rows[y * tw + t] = v;
    }
  const out = new Float32Array(tw * th);
  for (let t = 0; t < th; t++)
    for (let x = 0; x < tw; x++) {
      let v = 0;
      for (const c of ay[t]!) v += rows[c.i * tw + x]! * c.w;
      out[t * tw + x] = v;
    }
  return out;
}

/**
 * The 28×28 image (values in [0, 1], row-major) of a `w`×`h` drawing whose ink is `gray` in [0, 1]
 * (1 = ink); null when nothing is drawn.
 */
export function toMnist(gray: Float32Array, w: number, h: number): Float32Array | null {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (gray[y * w + x]! > INK) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
  if (x1 < 0) return null;
  // a square box around the ink, so the scale keeps the aspect ratio (a "1" stays thin)
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const side = Math.max(bw, bh);
  const box = new Float32Array(side * side);
  const ox = Math.floor((side - bw) / 2);
  const oy = Math.floor((side - bh) / 2);
  for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) box[(y + oy) * side + x + ox] = gray[(y + y0) * w + x + x0]!;
  const small = resampleArea(box, side, side, 20, 20);
  // centre of mass of the 20×20 digit → the centre of the 28×28 field (whole-pixel shift, as in MNIST)
  let m = 0;
  let cx = 0;
  let cy = 0;
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 20; x++) {
      const v = small[y * 20 + x]!;
      m += v;
      cx += v * x;
      cy += v * y;
    }
  const dx = Math.round(13.5 - cx / m);
  const dy = Math.round(13.5 - cy / m);
  const out = new Float32Array(784);
  for (let y = 0; y < 20; y++)
    for (let x = 0; x < 20; x++) {
      const tx = x + dx;
      const ty = y + dy;
      if (tx >= 0 && tx < 28 && ty >= 0 && ty < 28) out[ty * 28 + tx] = Math.min(1, small[y * 20 + x]!);
    }
  return out;
}
