/** @file Small dense float64 matrix routines (LU with partial pivoting, Householder QR) behind `tg.linalg`. */

/**
 * Solves A X = B in place for one n×n A (row-major) and n×k B; returns X (row-major n×k).
 * Throws when A is singular to working precision.
 */
export function luSolve(a: Float64Array, b: Float64Array, n: number, k: number, op: string): Float64Array {
  const lu = Float64Array.from(a);
  const x = Float64Array.from(b);
  let scale = 0;
  for (const v of lu) scale = Math.max(scale, Math.abs(v));
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(lu[r * n + col]!) > Math.abs(lu[piv * n + col]!)) piv = r;
    const p = lu[piv * n + col]!;
    if (p === 0 || Math.abs(p) <= scale * n * Number.EPSILON)
      throw new Error(`${op}: the matrix is singular (no usable pivot in column ${col}); the system has no unique solution`);
    if (piv !== col) {
      swapRows(lu, n, piv, col);
      swapRows(x, k, piv, col);
    }
    for (let r = col + 1; r < n; r++) {
      const f = lu[r * n + col]! / p;
      if (f === 0) continue;
      for (let c = col; c < n; c++) lu[r * n + c] -= f * lu[col * n + c]!;
      for (let c = 0; c < k; c++) x[r * k + c] -= f * x[col * k + c]!;
    }
  }
  for (let row = n - 1; row >= 0; row--) {
    const d = lu[row * n + row]!;
    for (let c = 0; c < k; c++) {
      let s = x[row * k + c]!;
      for (let j = row + 1; j < n; j++) s -= lu[row * n + j]! * x[j * k + c]!;
      x[row * k + c] = s / d;
    }
  }
  return x;
}

function swapRows(m: Float64Array, width: number, i: number, j: number): void {
  for (let c = 0; c < width; c++) {
    const t = m[i * width + c]!;
    m[i * width + c] = m[j * width + c]!;
    m[j * width + c] = t;
  }
}

/**
 * Least squares min ‖A X − B‖ for one m×n A with m ≥ n and full column rank, via Householder QR
 * (better conditioned than the normal equations). Returns X (n×k).
 */
export function qrLeastSquares(a: Float64Array, b: Float64Array, m: number, n: number, k: number, op: string): Float64Array {
  const r = Float64Array.from(a);
  const y = Float64Array.from(b);
  let scale = 0;
  for (const v of r) scale = Math.max(scale, Math.abs(v));
  const v = new Float64Array(m);
  for (let col = 0; col < n; col++) {
    let norm = 0;
    for (let i = col; i < m; i++) norm += r[i * n + col]! ** 2;
    norm = Math.sqrt(norm);
    if (norm <= scale * Math.max(m, n) * Number.EPSILON)
      throw new Error(`${op}: the matrix does not have full column rank (column ${col} is dependent on the others)`);
    const alpha = r[col * n + col]! > 0 ? -norm : norm;
    // Householder vector v = x - alpha e1, applied as I - 2 v vᵀ / (vᵀv)
    for (let i = col; i < m; i++) v[i] = r[i * n + col]!;
    v[col] -= alpha;
    let vv = 0;
    for (let i = col; i < m; i++) vv += v[i]! ** 2;
    const reflect = (mat: Float64Array, width: number, from: number) => {
      for (let c = from; c < width; c++) {
        let dot = 0;
        for (let i = col; i < m; i++) dot += v[i]! * mat[i * width + c]!;
        const f = (2 * dot) / vv;
        for (let i = col; i < m; i++) mat[i * width + c] -= f * v[i]!;
      }
    };
    reflect(r, n, col);
    reflect(y, k, 0);
  }
  // back-substitute R[:n,:n] X = (Qᵀ B)[:n]
  const x = new Float64Array(n * k);
  for (let row = n - 1; row >= 0; row--) {
    for (let c = 0; c < k; c++) {
      let s = y[row * k + c]!;
      for (let j = row + 1; j < n; j++) s -= r[row * n + j]! * x[j * k + c]!;
      x[row * k + c] = s / r[row * n + row]!;
    }
  }
  return x;
}
