/**
 * @file Float32 elementwise kernels for the wasm backend (AssemblyScript): unary, binary and
 * dtype copies over strided 4-D iteration spaces (the JS side collapses any view to ≤ 4 dims).
 *
 * Only operations whose float32 result is exactly what the js reference computes are here:
 * +, −, ×, ÷ and √ are correctly rounded in float32 and in float64-then-rounded alike; max/min,
 * comparisons, neg, abs, relu and sign are exact. Transcendentals (exp, log, tanh, …), pow and
 * rsqrt stay in js, where they are computed in float64 and rounded once.
 *
 * Layout: element (i0, i1, i2, i3) of an operand is at `ptr + 4·(i0·s0 + i1·s1 + i2·s2 + i3·s3)`;
 * the output is contiguous. The innermost loop is SIMD when its strides are 1 (or 0: a broadcast
 * scalar), scalar otherwise.
 */

export const U_NEG: i32 = 0;
export const U_ABS: i32 = 1;
export const U_SQRT: i32 = 2;
export const U_RELU: i32 = 3;
export const U_SIGN: i32 = 4;

export const B_ADD: i32 = 0;
export const B_SUB: i32 = 1;
export const B_MUL: i32 = 2;
export const B_DIV: i32 = 3;
export const B_MAX: i32 = 4;
export const B_MIN: i32 = 5;
/** Comparisons (write one byte per element, 0 or 1). */
export const B_EQ: i32 = 6;
export const B_NE: i32 = 7;
export const B_GT: i32 = 8;
export const B_GE: i32 = 9;
export const B_LT: i32 = 10;
export const B_LE: i32 = 11;
/** relu's gradient a · (b > 0 ? 1 : 0): float32 out, exactly the product js computes (−0 and NaN included). */
export const B_RELU_GRAD: i32 = 12;

// @ts-ignore: decorator
@inline
function unaryV(op: i32, x: v128): v128 {
  switch (op) {
    case U_NEG:
      return f32x4.neg(x);
    case U_ABS:
      return f32x4.abs(x);
    case U_SQRT:
      return f32x4.sqrt(x);
    case U_RELU:
      // max(NaN, 0) = NaN and max(−0, +0) = +0, as the js kernel
      return f32x4.max(x, f32x4.splat(0));
    default: {
      // sign: ±1 for nonzero, x itself for ±0 and NaN
      const one = f32x4.splat(1);
      const zero = f32x4.splat(0);
      const pos = f32x4.gt(x, zero);
      const neg = f32x4.lt(x, zero);
      return v128.bitselect(one, v128.bitselect(f32x4.neg(one), x, neg), pos);
    }
  }
}

// @ts-ignore: decorator
@inline
function unaryS(op: i32, x: f32): f32 {
  switch (op) {
    case U_NEG:
      return -x;
    case U_ABS:
      return abs<f32>(x);
    case U_SQRT:
      return sqrt<f32>(x);
    case U_RELU:
      return max<f32>(x, 0);
    default:
      return x > 0 ? 1 : x < 0 ? -1 : x;
  }
}

// @ts-ignore: decorator
@inline
function binaryV(op: i32, a: v128, b: v128): v128 {
  switch (op) {
    case B_ADD:
      return f32x4.add(a, b);
    case B_SUB:
      return f32x4.sub(a, b);
    case B_MUL:
      return f32x4.mul(a, b);
    case B_DIV:
      return f32x4.div(a, b);
    case B_MAX:
      return f32x4.max(a, b);
    case B_MIN:
      return f32x4.min(a, b);
    case B_EQ:
      return f32x4.eq(a, b);
    case B_NE:
      return f32x4.ne(a, b);
    case B_GT:
      return f32x4.gt(a, b);
    case B_GE:
      return f32x4.ge(a, b);
    case B_LT:
      return f32x4.lt(a, b);
    case B_LE:
      return f32x4.le(a, b);
    default:
      return f32x4.mul(a, v128.and(f32x4.gt(b, f32x4.splat(0)), f32x4.splat(1)));
  }
}

// @ts-ignore: decorator
@inline
function binaryS(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case B_ADD:
      return a + b;
    case B_SUB:
      return a - b;
    case B_MUL:
      return a * b;
    case B_DIV:
      return a / b;
    case B_MAX:
      return max<f32>(a, b);
    case B_MIN:
      return min<f32>(a, b);
    case B_EQ:
      return a == b ? 1 : 0;
    case B_NE:
      return a != b ? 1 : 0;
    case B_GT:
      return a > b ? 1 : 0;
    case B_GE:
      return a >= b ? 1 : 0;
    case B_LT:
      return a < b ? 1 : 0;
    case B_LE:
      return a <= b ? 1 : 0;
    default:
      return a * <f32>(b > 0 ? 1 : 0);
  }
}

/** One row of a unary op: n elements, input stride `s` (elements), output contiguous. */
function unaryRow(op: i32, n: i32, x: usize, s: i32, out: usize): void {
  let i = 0;
  if (s === 1) {
    for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), unaryV(op, v128.load(x + (<usize>i << 2))));
  }
  const sb = <usize>s << 2;
  for (let p = x + <usize>i * sb; i < n; i++, p += sb) store<f32>(out + (<usize>i << 2), unaryS(op, load<f32>(p)));
}

/** out = op(x) over a [n0, n1, n2, n3] iteration space. */
export function unaryF32(op: i32, n0: i32, n1: i32, n2: i32, n3: i32, x: usize, s0: i32, s1: i32, s2: i32, s3: i32, out: usize): void {
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++) {
        const xo = x + ((<usize>i0 * <usize>s0 + <usize>i1 * <usize>s1 + <usize>i2 * <usize>s2) << 2);
        unaryRow(op, n3, xo, s3, out);
        out += <usize>n3 << 2;
      }
}

/** One row of an arithmetic binary op (float32 out). */
function arithRow(op: i32, n: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize): void {
  let i = 0;
  if (sa === 1 && sb === 1) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryV(op, v128.load(a + o), v128.load(b + o)));
    }
  } else if (sa === 1 && sb === 0) {
    const bv = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryV(op, v128.load(a + o), bv));
    }
  } else if (sa === 0 && sb === 1) {
    const av = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryV(op, av, v128.load(b + o)));
    }
  }
  const asb = <usize>sa << 2;
  const bsb = <usize>sb << 2;
  let pa = a + <usize>i * asb;
  let pb = b + <usize>i * bsb;
  for (; i < n; i++, pa += asb, pb += bsb) store<f32>(out + (<usize>i << 2), binaryS(op, load<f32>(pa), load<f32>(pb)));
}

/** One row of a comparison (one byte out per element): 16 at a time, masks narrowed to bytes. */
function compareRow(op: i32, n: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize): void {
  let i = 0;
  const asb = <usize>sa << 2;
  const bsb = <usize>sb << 2;
  if ((sa === 1 || sa === 0) && (sb === 1 || sb === 0)) {
    const one = i8x16.splat(1);
    // stride 0 reads the same 4 bytes: splat them so every lane compares against the broadcast value
    for (; i + 16 <= n; i += 16) {
      const pa = a + <usize>i * asb;
      const pb = b + <usize>i * bsb;
      const a0 = sa ? v128.load(pa) : v128.load32_splat(pa);
      const a1 = sa ? v128.load(pa, 16) : a0;
      const a2 = sa ? v128.load(pa, 32) : a0;
      const a3 = sa ? v128.load(pa, 48) : a0;
      const b0 = sb ? v128.load(pb) : v128.load32_splat(pb);
      const b1 = sb ? v128.load(pb, 16) : b0;
      const b2 = sb ? v128.load(pb, 32) : b0;
      const b3 = sb ? v128.load(pb, 48) : b0;
      const lo = i16x8.narrow_i32x4_s(binaryV(op, a0, b0), binaryV(op, a1, b1));
      const hi = i16x8.narrow_i32x4_s(binaryV(op, a2, b2), binaryV(op, a3, b3));
      v128.store(out + <usize>i, v128.and(i8x16.narrow_i16x8_s(lo, hi), one));
    }
  }
  let pa = a + <usize>i * asb;
  let pb = b + <usize>i * bsb;
  for (; i < n; i++, pa += asb, pb += bsb) store<u8>(out + <usize>i, <u8>binaryS(op, load<f32>(pa), load<f32>(pb)));
}

/** out = a op b over a [n0, n1, n2, n3] iteration space; comparisons write bytes. */
export function binaryF32(
  op: i32,
  n0: i32,
  n1: i32,
  n2: i32,
  n3: i32,
  a: usize,
  sa0: i32,
  sa1: i32,
  sa2: i32,
  sa3: i32,
  b: usize,
  sb0: i32,
  sb1: i32,
  sb2: i32,
  sb3: i32,
  out: usize,
): void {
  const compare = op >= B_EQ && op <= B_LE;
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++) {
        const ao = a + ((<usize>i0 * <usize>sa0 + <usize>i1 * <usize>sa1 + <usize>i2 * <usize>sa2) << 2);
        const bo = b + ((<usize>i0 * <usize>sb0 + <usize>i1 * <usize>sb1 + <usize>i2 * <usize>sb2) << 2);
        if (compare) {
          compareRow(op, n3, ao, sa3, bo, sb3, out);
          out += <usize>n3;
        } else {
          arithRow(op, n3, ao, sa3, bo, sb3, out);
          out += <usize>n3 << 2;
        }
      }
}

/** Source element types of `copyToF32`. */
export const T_F32: i32 = 0;
export const T_U8: i32 = 1;
export const T_I32: i32 = 2;

/**
 * out[i][j] = x[i + j·s] for i < rows, j < cols (out rows `cols` apart): a float32 transpose, in
 * 4×4 blocks (four 4-float loads along the contiguous axis, a shuffle transpose, four stores),
 * block rows of 4 walked across all columns so each loaded cache line serves four blocks.
 */
function transposeF32(rows: i32, cols: i32, x: usize, s: i32, out: usize): void {
  const sb = <usize>s << 2;
  const ob = <usize>cols << 2;
  const r4 = rows & ~3;
  const c4 = cols & ~3;
  for (let i = 0; i < r4; i += 4) {
    const xi = x + (<usize>i << 2);
    const oi = out + <usize>i * ob;
    for (let j = 0; j < c4; j += 4) {
      const p = xi + <usize>j * sb;
      const v0 = v128.load(p);
      const v1 = v128.load(p + sb);
      const v2 = v128.load(p + 2 * sb);
      const v3 = v128.load(p + 3 * sb);
      const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
      const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
      const o = oi + (<usize>j << 2);
      v128.store(o, i64x2.shuffle(t0, t1, 0, 2));
      v128.store(o + ob, i64x2.shuffle(t0, t1, 1, 3));
      v128.store(o + 2 * ob, i64x2.shuffle(t2, t3, 0, 2));
      v128.store(o + 3 * ob, i64x2.shuffle(t2, t3, 1, 3));
    }
    for (let j = c4; j < cols; j++)
      for (let r = 0; r < 4; r++) store<f32>(oi + <usize>r * ob + (<usize>j << 2), load<f32>(xi + (<usize>r << 2) + <usize>j * sb));
  }
  for (let i = r4; i < rows; i++)
    for (let j = 0; j < cols; j++) store<f32>(out + <usize>i * ob + (<usize>j << 2), load<f32>(x + (<usize>i << 2) + <usize>j * sb));
}

/** out (float32, contiguous) = x converted from `type`, over a [n0, n1, n2, n3] iteration space; strides in elements of x. */
export function copyToF32(type: i32, n0: i32, n1: i32, n2: i32, n3: i32, x: usize, s0: i32, s1: i32, s2: i32, s3: i32, out: usize): void {
  const esz: usize = type === T_U8 ? 1 : 4;
  if (type === T_F32 && s2 === 1 && s3 !== 1 && n2 >= 4 && n3 >= 4) {
    // the last two dims are a transpose: block it
    for (let i0 = 0; i0 < n0; i0++)
      for (let i1 = 0; i1 < n1; i1++) {
        transposeF32(n2, n3, x + ((<usize>i0 * <usize>s0 + <usize>i1 * <usize>s1) << 2), s3, out);
        out += (<usize>n2 * <usize>n3) << 2;
      }
    return;
  }
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++) {
        let p = x + (<usize>i0 * <usize>s0 + <usize>i1 * <usize>s1 + <usize>i2 * <usize>s2) * esz;
        const step = <usize>s3 * esz;
        let i = 0;
        if (type === T_U8 && s3 === 1) {
          for (; i + 4 <= n3; i += 4) {
            const w = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p + <usize>i)));
            v128.store(out + (<usize>i << 2), f32x4.convert_i32x4_u(w));
          }
        }
        if (type === T_F32) {
          for (p += <usize>i * step; i < n3; i++, p += step) store<f32>(out + (<usize>i << 2), load<f32>(p));
        } else if (type === T_U8) {
          for (p += <usize>i * step; i < n3; i++, p += step) store<f32>(out + (<usize>i << 2), <f32>load<u8>(p));
        } else {
          for (p += <usize>i * step; i < n3; i++, p += step) store<f32>(out + (<usize>i << 2), <f32>load<i32>(p));
        }
        out += <usize>n3 << 2;
      }
}

/** out = cond ? a : b (cond one byte per element, nonzero is true) over a [n0, n1, n2, n3] iteration space. */
export function whereF32(
  n0: i32,
  n1: i32,
  n2: i32,
  n3: i32,
  c: usize,
  sc0: i32,
  sc1: i32,
  sc2: i32,
  sc3: i32,
  a: usize,
  sa0: i32,
  sa1: i32,
  sa2: i32,
  sa3: i32,
  b: usize,
  sb0: i32,
  sb1: i32,
  sb2: i32,
  sb3: i32,
  out: usize,
): void {
  const zero = i32x4.splat(0);
  for (let i0 = 0; i0 < n0; i0++)
    for (let i1 = 0; i1 < n1; i1++)
      for (let i2 = 0; i2 < n2; i2++) {
        const co = c + (<usize>i0 * <usize>sc0 + <usize>i1 * <usize>sc1 + <usize>i2 * <usize>sc2);
        const ao = a + ((<usize>i0 * <usize>sa0 + <usize>i1 * <usize>sa1 + <usize>i2 * <usize>sa2) << 2);
        const bo = b + ((<usize>i0 * <usize>sb0 + <usize>i1 * <usize>sb1 + <usize>i2 * <usize>sb2) << 2);
        let i = 0;
        if (sc3 === 1 && sa3 === 1 && sb3 === 1) {
          for (; i + 4 <= n3; i += 4) {
            const m = i32x4.ne(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(co + <usize>i))), zero);
            const o = <usize>i << 2;
            v128.store(out + o, v128.bitselect(v128.load(ao + o), v128.load(bo + o), m));
          }
        }
        for (; i < n3; i++) {
          const v = load<u8>(co + <usize>i * <usize>sc3) ? load<f32>(ao + ((<usize>i * <usize>sa3) << 2)) : load<f32>(bo + ((<usize>i * <usize>sb3) << 2));
          store<f32>(out + (<usize>i << 2), v);
        }
        out += <usize>n3 << 2;
      }
}

/**
 * One Adam/AdamW step in place over n float32 elements (vMax: AMSGrad's maxima, or 0), each line
 * a statement of optim/adam.ts's adamFloat32, so the result is bit-identical; four elements per
 * f32x4 step. `h` points at 9 float64s: β₁, β₂,
 * stepSize, √(1−β₂ᵗ), ε, l2, decay, decoupled (0/1), sign.
 */
export function adamF32(n: i32, w: usize, g: usize, m: usize, v: usize, vMax: usize, h: usize): void {
  // float32 operations in optim/adam.ts's adamFloat32 order (no fused multiply-add): the 4-lane
  // loop and the scalar loop give the js loop's bits
  const b1 = <f32>load<f64>(h), b2 = <f32>load<f64>(h, 8), c1 = <f32>(1 - load<f64>(h)), c2 = <f32>(1 - load<f64>(h, 8));
  const negStep = <f32>-load<f64>(h, 16), bc = <f32>load<f64>(h, 24), eps = <f32>load<f64>(h, 32);
  const l2 = <f32>load<f64>(h, 40), decay = <f32>load<f64>(h, 48), decoupled = load<f64>(h, 56) != 0, sign = <f32>load<f64>(h, 64);
  let i = 0;
  if (vMax == 0) {
    const vb1 = f32x4.splat(b1), vb2 = f32x4.splat(b2), vc1 = f32x4.splat(c1), vc2 = f32x4.splat(c2);
    const vneg = f32x4.splat(negStep), vbc = f32x4.splat(bc), veps = f32x4.splat(eps), vl2 = f32x4.splat(l2);
    const vdecay = f32x4.splat(decay), vsign = f32x4.splat(sign);
    const hasL2 = l2 != 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      let gi = f32x4.mul(vsign, v128.load(g + o));
      let wi = v128.load(w + o);
      if (decoupled) wi = f32x4.mul(wi, vdecay);
      else if (hasL2) gi = f32x4.add(gi, f32x4.mul(vl2, wi));
      const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(vc1, gi));
      const vi = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(vc2, gi), gi));
      v128.store(m + o, mi);
      v128.store(v + o, vi);
      v128.store(w + o, f32x4.add(wi, f32x4.div(f32x4.mul(vneg, mi), f32x4.add(f32x4.div(f32x4.sqrt(vi), vbc), veps))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    let gi = sign * load<f32>(g + o);
    let wi = load<f32>(w + o);
    if (decoupled) wi = wi * decay;
    else if (l2 != 0) gi = gi + l2 * wi;
    const mi = load<f32>(m + o) * b1 + c1 * gi;
    store<f32>(m + o, mi);
    let second = load<f32>(v + o) * b2 + c2 * gi * gi;
    store<f32>(v + o, second);
    if (vMax != 0) {
      // Math.max: NaN wins, +0 beats −0
      const a = load<f32>(vMax + o);
      second = a != a || second != second ? NaN : a > second ? a : second > a ? second : a == 0 && (reinterpret<u32>(a) >> 31) != 0 ? second : a;
      store<f32>(vMax + o, second);
    }
    store<f32>(w + o, wi + (negStep * mi) / (sqrt<f32>(second) / bc + eps));
  }
}
