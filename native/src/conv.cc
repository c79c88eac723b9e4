// Fused convolution: instead of one [N, C·kh·kw, Ho·Wo] columns tensor (megabytes that go out
// to memory and come back for the product), each task takes one sample — or one block of its
// output positions — builds that block's columns in a thread-private scratch small enough to stay
// in L2, and runs gemm.cc's packed kernels on it at once on the calling pool thread, writing
// straight into the NCHW result:
//   forward        out_n = W · cols_n, the columns written directly in the product's packed-B
//                  layout (sgemm_packed), then + bias while the block is still in cache
//   input grad     dcols = Wᵀ · g_n into scratch (sgemm_serial), then col2im of that block into dx_n
//   weight grad    partial += g_n · cols_nᵀ (or its transpose, whichever wastes fewer register-tile
//                  lanes; dot products along the positions when both waste most), bias partial += Σ g_n
// im2col and col2im move runs of one output row (a few floats each) for all channels at once,
// with AVX-512 masked loads and stores where the avx512 micro-kernel runs.
// Forward and input-gradient tasks write disjoint outputs, so they are bit-identical for any
// thread count. The weight gradient sums samples in chunks fixed by the shapes alone (never by
// the thread count); each chunk's partial is summed in sample order, the partials in chunk order.
#include "conv.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "gemm.h"
#include "scratch.h"
#include "thread_pool.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TG_X86_GNU 1
#include <immintrin.h>
#if !defined(__clang__)
// GCC 12's AVX-512 headers trip this warning on their own _mm512_undefined_*()
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#endif

namespace tg {
namespace {

// Floats of one block of columns (128 KiB): with the product's packed panels and its output
// block it stays in L2. Larger images are split into blocks of output positions.
constexpr int64_t kBlockFloats = 32768;
// The weight gradient's samples are summed in at most this many chunks (the parallelism of the
// weight gradient), and fewer when their partial sums would pass kPartialFloats floats in all.
constexpr int64_t kMaxWeightChunks = 16;
constexpr int64_t kPartialFloats = int64_t{1} << 22;
// The dot-product weight gradient's 16-lane partials of one chunk, at most (1 MiB).
constexpr int64_t kDotPartialFloats = int64_t{1} << 18;

// Per-thread buffers kept between calls: a block's columns and its gradient.
float* cols_scratch(int64_t n) {
  static thread_local ScratchBuffer s;
  return s.get(n);
}
float* grad_scratch(int64_t n) {
  static thread_local ScratchBuffer s;
  return s.get(n);
}
float* out_scratch(int64_t n) {
  static thread_local ScratchBuffer s;
  return s.get(n);
}

// The output columns [lo, hi) whose tap (shift + wo·stride) lies inside [0, size).
inline void tap_range(int64_t shift, int64_t stride, int64_t size, int64_t out, int64_t* lo, int64_t* hi) {
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  *lo = std::min(out, std::max<int64_t>(0, ceil_div(-shift, stride)));
  *hi = std::max(*lo, std::min(out, ceil_div(size - shift, stride)));
}

inline void zero(float* p, int64_t n) {
  if (n > 0) std::memset(p, 0, static_cast<size_t>(n) * sizeof(float));
}

// Output positions per block: all of them when the sample's columns fit in kBlockFloats.
int64_t block_positions(int64_t ckk, int64_t L) {
  if (ckk * L <= kBlockFloats) return L;
  return std::min(L, std::max<int64_t>(64, (kBlockFloats / ckk) & ~int64_t{63}));
}

// Runs body(t) for t in [0, tasks), claimed by up to num_threads() threads when the work pays for them.
template <class Body>
void run_tasks(int64_t tasks, double work, Body body) {
  const double T = std::min({static_cast<double>(num_threads()), static_cast<double>(tasks), std::max(1.0, work / kMinWorkPerThread)});
  if (T < 2) {
    for (int64_t t = 0; t < tasks; t++) body(t);
    return;
  }
  std::atomic<int64_t> next{0};
  parallel_run(static_cast<int>(T), [&] {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) body(t);
  });
}

// Calls run(dst, dc, src, sc, C, n, lo, hi) for every run of one output row inside positions
// [l0, l1) and every tap (i, j): for each channel c < C, dst + c·dc (row (c, i, j) of the columns,
// at the run's first position) gets n floats, src[c·sc + k·step] for k in [lo, hi) and zero
// elsewhere (src is only read there). A run's geometry is the same for every channel.
template <class Image, class Cols, class Run>
inline void for_runs(const ConvArgs& a, Image* x, const int64_t* sx, int64_t l0, int64_t l1, Cols* cols, int64_t ld, Run run) {
  const Window& w = a.win;
  const int64_t kk = w.kh * w.kw;
  // each tap column's valid output columns, once per block rather than once per run
  constexpr int kMaxCachedTaps = 16;
  int64_t tap_lo[kMaxCachedTaps], tap_hi[kMaxCachedTaps];
  for (int64_t j = 0; j < std::min<int64_t>(w.kw, kMaxCachedTaps); j++) tap_range(j * w.dw - w.pw, w.sw, a.W, w.wo, &tap_lo[j], &tap_hi[j]);
  int64_t ho = l0 / w.wo, w0 = l0 - ho * w.wo;
  for (int64_t l = l0; l < l1; ho++, w0 = 0) {
    const int64_t w1 = std::min(w.wo, w0 + (l1 - l)), n = w1 - w0;
    for (int64_t i = 0; i < w.kh; i++) {
      const int64_t hin = ho * w.sh - w.ph + i * w.dh;
      const bool row_in = hin >= 0 && hin < a.H;
      for (int64_t j = 0; j < w.kw; j++) {
        const int64_t shift = j * w.dw - w.pw;
        int64_t wlo, whi;
        if (j < kMaxCachedTaps)
          wlo = tap_lo[j], whi = tap_hi[j];
        else
          tap_range(shift, w.sw, a.W, w.wo, &wlo, &whi);
        int64_t lo = std::max(w0, wlo) - w0, hi = std::min(w1, whi) - w0;
        if (!row_in || lo >= hi) lo = hi = 0;
        Image* src = lo < hi ? x + hin * sx[2] + (shift + w0 * w.sw) * sx[3] : x;
        Cols* dst = cols + (i * w.kw + j) * ld + (l - l0);
        run(dst, kk * ld, src, sx[1], a.C, n, lo, hi);
      }
    }
    l += n;
  }
}

#ifdef TG_X86_GNU
bool has_avx512() {
  static const bool ok = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return ok;
}

// One run with masked loads and stores: lanes outside [lo, hi) read nothing and store zero.
struct RunAvx512 {
  __attribute__((target("avx512f"))) void operator()(float* dst, int64_t dc, const float* src, int64_t sc, int64_t C, int64_t n, int64_t lo,
                                                     int64_t hi) const {
    for (int64_t k = 0; k < n; k += 16) {
      const int64_t m = std::min<int64_t>(16, n - k);
      const int64_t a = std::clamp<int64_t>(lo - k, 0, 16), b = std::clamp<int64_t>(hi - k, 0, 16);
      const __mmask16 load = b > a ? static_cast<__mmask16>(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
      const __mmask16 store = static_cast<__mmask16>((1u << m) - 1);
      for (int64_t c = 0; c < C; c++) _mm512_mask_storeu_ps(dst + c * dc + k, store, _mm512_maskz_loadu_ps(load, src + c * sc + k));
    }
  }
};

// flatten: for_runs and the run inlined here, under this function's target
__attribute__((target("avx512f"), flatten)) void im2col_avx512(const ConvArgs& a, const float* x, int64_t l0, int64_t l1, float* cols,
                                                               int64_t ld) {
  for_runs(a, x, a.sx, l0, l1, cols, ld, RunAvx512{});
}
#endif

// cols[r·ld + (l − l0)] for rows r = (c, i, j) and output positions l in [l0, l1): the taps of
// one sample x (strides a.sx[1..3]), zero outside it. Runs are a few floats long (an output
// row, or its part inside a block), too short for memcpy / memset calls to pay.
void im2col_block(const ConvArgs& a, const float* x, int64_t l0, int64_t l1, float* cols, int64_t ld) {
#ifdef TG_X86_GNU
  if (a.win.sw * a.sx[3] == 1 && a.avx512) return im2col_avx512(a, x, l0, l1, cols, ld);
#endif
  const int64_t step = a.win.sw * a.sx[3];
  for_runs(a, x, a.sx, l0, l1, cols, ld, [step](float* dst, int64_t dc, const float* src, int64_t sc, int64_t C, int64_t n, int64_t lo, int64_t hi) {
    for (int64_t c = 0; c < C; c++) {
      float* __restrict d = dst + c * dc;
      const float* __restrict s = src + c * sc;
      for (int64_t k = 0; k < lo; k++) d[k] = 0.0f;
      for (int64_t k = lo; k < hi; k++) d[k] = s[k * step];
      for (int64_t k = hi; k < n; k++) d[k] = 0.0f;
    }
  });
}

// The columns of positions [l0, l1) straight in sgemm_packed's B layout: slivers of nr positions,
// each [C·kh·kw, nr] with zeros past l1 — im2col and the product's packing in one pass.
void im2col_packed(const ConvArgs& a, const float* x, int64_t l0, int64_t l1, int nr, float* bp) {
  const int64_t ckk = a.C * a.win.kh * a.win.kw;
  for (int64_t s0 = l0; s0 < l1; s0 += nr) {
    const int64_t s1 = std::min(l1, s0 + nr);
    float* sliver = bp + (s0 - l0) * ckk;
    im2col_block(a, x, s0, s1, sliver, nr);
    if (s1 - s0 < nr)
      for (int64_t r = 0; r < ckk; r++) zero(sliver + r * nr + (s1 - s0), nr - (s1 - s0));
  }
}

#ifdef TG_X86_GNU
// col2im's run: dx[k] += cols[k] for k in [lo, hi) with masked loads and stores.
struct AddRunAvx512 {
  __attribute__((target("avx512f"))) void operator()(const float* cols, int64_t dc, float* dx, int64_t sc, int64_t C, int64_t n, int64_t lo,
                                                     int64_t hi) const {
    for (int64_t k = lo; k < hi; k += 16) {
      const __mmask16 m = static_cast<__mmask16>((1u << std::min<int64_t>(16, hi - k)) - 1);
      for (int64_t c = 0; c < C; c++) {
        float* d = dx + c * sc + k;
        _mm512_mask_storeu_ps(d, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, d), _mm512_maskz_loadu_ps(m, cols + c * dc + k)));
      }
    }
  }
};

__attribute__((target("avx512f"), flatten)) void col2im_avx512(const ConvArgs& a, const float* cols, int64_t l0, int64_t l1, float* dx,
                                                               const int64_t* sdx) {
  for_runs(a, dx, sdx, l0, l1, cols, l1 - l0, AddRunAvx512{});
}
#endif

// The adjoint of im2col_block: cols (rows r = (c, i, j), positions [l0, l1), rows l1 − l0 apart)
// added into one contiguous sample dx [C, H, W].
void col2im_block(const ConvArgs& a, const float* cols, int64_t l0, int64_t l1, float* dx) {
  const int64_t sdx[4] = {a.C * a.H * a.W, a.H * a.W, a.W, 1};
#ifdef TG_X86_GNU
  if (a.win.sw == 1 && a.avx512) return col2im_avx512(a, cols, l0, l1, dx, sdx);
#endif
  const int64_t step = a.win.sw;
  for_runs(a, dx, sdx, l0, l1, cols, l1 - l0, [step](const float* src, int64_t dc, float* dst, int64_t sc, int64_t C, int64_t, int64_t lo, int64_t hi) {
    for (int64_t c = 0; c < C; c++) {
      const float* __restrict s = src + c * dc;
      float* __restrict d = dst + c * sc;
      for (int64_t k = lo; k < hi; k++) d[k * step] += s[k];
    }
  });
}

// The weight as a row-major [O, C·kh·kw] matrix: the view itself when its inner three axes are
// contiguous (rows `*row_stride` apart), else a packed copy in `copy`.
const float* weight_matrix(const ConvArgs& a, std::vector<float>& copy, int64_t* row_stride) {
  const Window& w = a.win;
  const int64_t ckk = a.C * w.kh * w.kw;
  // each axis of size > 1 must step over exactly the axes after it
  const int64_t sizes[3] = {a.C, w.kh, w.kw};
  bool flat = true;
  int64_t expect = 1;
  for (int d = 2; d >= 0; d--) {
    if (sizes[d] != 1 && a.sw[d + 1] != expect) flat = false;
    expect *= sizes[d];
  }
  if (flat) {
    *row_stride = a.sw[0];
    return a.w;
  }
  copy.resize(static_cast<size_t>(a.O * ckk));
  float* d = copy.data();
  for (int64_t o = 0; o < a.O; o++)
    for (int64_t c = 0; c < a.C; c++)
      for (int64_t i = 0; i < w.kh; i++)
        for (int64_t j = 0; j < w.kw; j++) *d++ = a.w[o * a.sw[0] + c * a.sw[1] + i * a.sw[2] + j * a.sw[3]];
  *row_stride = ckk;
  return copy.data();
}

// Sample n's gradient over positions [l0, l1) as an [O, l1 − l0] matrix (element (o, l) at
// o·*so + l·*sl): the view itself when Ho·Wo flattens to one stride (to stride 1 when unit_sl),
// else a copy in scratch (always, masked by relu's gradient, when a.y is set).
const float* grad_block(const ConvArgs& a, int64_t n, int64_t l0, int64_t l1, int64_t* so, int64_t* sl, bool unit_sl = false) {
  const Window& w = a.win;
  const float* g = a.g + n * a.sg[0];
  if (a.idx != nullptr) {
    // the pooled forward's gradient, rebuilt as maxPool2dBackward (zeros, 0 + g at each argmax)
    // and relu's mask (of 0 + the pooled value there) give it
    const float* y = a.y + n * a.sy[0];
    const int32_t* idx = a.idx + n * a.si[0];
    const int64_t ld = l1 - l0;
    float* d = grad_scratch(a.O * ld);
    const float none = relu_grad_f32(0.0f, 0.0f);
    for (int64_t o = 0; o < a.O; o++) {
      float* row = d + o * ld - l0;
      for (int64_t l = l0; l < l1; l++) row[l] = none;
      for (int64_t i = 0; i < a.hp; i++)
        for (int64_t j = 0; j < a.wp; j++) {
          const int64_t k = idx[o * a.si[1] + i * a.si[2] + j * a.si[3]];
          if (k >= l0 && k < l1) row[k] = relu_grad_f32(0.0f + g[o * a.sg[1] + i * a.sg[2] + j * a.sg[3]], 0.0f + y[o * a.sy[1] + i * a.sy[2] + j * a.sy[3]]);
        }
    }
    *so = ld;
    *sl = 1;
    return d;
  }
  if (a.y != nullptr) {
    // relu's gradient (the reluBackward kernel's bits) applied while copying the block (it stays
    // in cache for the product)
    const float* y = a.y + n * a.sy[0];
    const int64_t ld = l1 - l0;
    float* d = grad_scratch(a.O * ld);
    const bool flat = (w.ho == 1 || a.sg[2] == w.wo * a.sg[3]) && (w.ho == 1 || a.sy[2] == w.wo * a.sy[3]);
    for (int64_t o = 0; o < a.O; o++) {
      float* row = d + o * ld - l0;
      const float* gr = g + o * a.sg[1];
      const float* yr = y + o * a.sy[1];
      if (flat && a.sg[3] == 1 && a.sy[3] == 1) {
        for (int64_t l = l0; l < l1; l++) row[l] = relu_grad_f32(gr[l], yr[l]);  // vectorized
      } else if (flat) {
        for (int64_t l = l0; l < l1; l++) row[l] = relu_grad_f32(gr[l * a.sg[3]], yr[l * a.sy[3]]);
      } else {
        for (int64_t l = l0; l < l1; l++) {
          const int64_t h = l / w.wo, c = l % w.wo;
          row[l] = relu_grad_f32(gr[h * a.sg[2] + c * a.sg[3]], yr[h * a.sy[2] + c * a.sy[3]]);
        }
      }
    }
    *so = ld;
    *sl = 1;
    return d;
  }
  *so = a.sg[1];
  if ((w.ho == 1 || a.sg[2] == w.wo * a.sg[3]) && (!unit_sl || a.sg[3] == 1 || l1 - l0 == 1)) {
    *sl = a.sg[3];
    return g + l0 * a.sg[3];
  }
  if (w.wo == 1 && (!unit_sl || a.sg[2] == 1 || l1 - l0 == 1)) {
    *sl = a.sg[2];
    return g + l0 * a.sg[2];
  }
  const int64_t ld = l1 - l0;
  float* d = grad_scratch(a.O * ld);
  for (int64_t o = 0; o < a.O; o++)
    for (int64_t l = l0; l < l1; l++) d[o * ld + l - l0] = g[o * a.sg[1] + (l / w.wo) * a.sg[2] + (l % w.wo) * a.sg[3]];
  *so = ld;
  *sl = 1;
  return d;
}

inline int64_t padded(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

#ifdef TG_X86_GNU
// The eight partial sums of sum_f64's main loop, as one vector (lane k: elements ≡ k mod 8): the
// same additions in the same order.
__attribute__((target("avx512f"))) int64_t sum8_avx512(const float* p, int64_t n, double* acc) {
  __m512d v = _mm512_setzero_pd();
  int64_t l = 0;
  for (; l + 8 <= n; l += 8) v = _mm512_add_pd(v, _mm512_cvtps_pd(_mm256_loadu_ps(p + l)));
  _mm512_storeu_pd(acc, v);
  return l;
}
#endif

// Σ p[l·stride] for l < n in double, over eight interleaved partial sums (one chain of dependent
// adds was the weight gradient's slowest loop) combined in a fixed order.
double sum_f64(const float* p, int64_t n, int64_t stride, bool avx512) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t l = 0;
#ifdef TG_X86_GNU
  if (avx512 && stride == 1) l = sum8_avx512(p, n, acc);
#endif
  for (; l + 8 <= n; l += 8)
    for (int k = 0; k < 8; k++) acc[k] += p[(l + k) * stride];
  for (; l < n; l++) acc[l & 7] += p[l * stride];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

#ifdef TG_X86_GNU
// ---- the weight gradient as dot products along the output positions (AVX-512)
// dW[o, r] = Σ_l g[o, l]·cols[r, l] has both operands contiguous along l, and for a first layer
// (C·kh·kw = 9, O = 16) the packed product's 12×32 tiles would be mostly padding, its packing
// scalar. Here OB × RB blocks of rows are multiplied 16 positions at a time into 16-lane
// partial sums, which accumulate over a chunk's samples and are added across lanes only at
// the end (in a fixed order).

// part[(o·R + r)·16 + lane] += Σ_{l ≡ lane mod 16} g[o·so + l]·cols[r·sr + l] for o < OB, r < RB.
template <int OB, int RB>
__attribute__((target("avx512f"))) inline void dots_block(const float* g, int64_t so, const float* cols, int64_t sr, int64_t n, float* part,
                                                          int64_t R) {
  __m512 acc[OB][RB];
  for (int o = 0; o < OB; o++)
    for (int r = 0; r < RB; r++) acc[o][r] = _mm512_setzero_ps();
  const int64_t n16 = n & ~int64_t{15};
  for (int64_t l = 0; l < n16; l += 16) {
    __m512 gv[OB], cv[RB];
    for (int o = 0; o < OB; o++) gv[o] = _mm512_loadu_ps(g + o * so + l);
    for (int r = 0; r < RB; r++) cv[r] = _mm512_loadu_ps(cols + r * sr + l);
    for (int o = 0; o < OB; o++)
      for (int r = 0; r < RB; r++) acc[o][r] = _mm512_fmadd_ps(gv[o], cv[r], acc[o][r]);
  }
  if (n16 < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - n16)) - 1);
    __m512 gv[OB], cv[RB];
    for (int o = 0; o < OB; o++) gv[o] = _mm512_maskz_loadu_ps(m, g + o * so + n16);
    for (int r = 0; r < RB; r++) cv[r] = _mm512_maskz_loadu_ps(m, cols + r * sr + n16);
    for (int o = 0; o < OB; o++)
      for (int r = 0; r < RB; r++) acc[o][r] = _mm512_fmadd_ps(gv[o], cv[r], acc[o][r]);
  }
  for (int o = 0; o < OB; o++)
    for (int r = 0; r < RB; r++) {
      float* p = part + (o * R + r) * 16;
      _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[o][r]));
    }
}

template <int OB>
__attribute__((target("avx512f"))) inline void dots_rows(int rb, const float* g, int64_t so, const float* cols, int64_t sr, int64_t n,
                                                         float* part, int64_t R) {
  if (rb == 3) return dots_block<OB, 3>(g, so, cols, sr, n, part, R);
  if (rb == 2) return dots_block<OB, 2>(g, so, cols, sr, n, part, R);
  dots_block<OB, 1>(g, so, cols, sr, n, part, R);
}

// All O × R dot products of one block of positions; a block of 3 cols rows stays in L1 while
// every row of g (O·n floats, in L1 for a few hundred positions) passes over it.
__attribute__((target("avx512f"))) void dots_avx512(const float* g, int64_t so, const float* cols, int64_t sr, int64_t O, int64_t R,
                                                    int64_t n, float* part) {
  for (int64_t r0 = 0; r0 < R; r0 += 3) {
    const int rb = static_cast<int>(std::min<int64_t>(3, R - r0));
    for (int64_t o0 = 0; o0 < O; o0 += 4) {
      const float* gp = g + o0 * so;
      const float* cp = cols + r0 * sr;
      float* pp = part + (o0 * R + r0) * 16;
      switch (std::min<int64_t>(4, O - o0)) {
        case 4: dots_rows<4>(rb, gp, so, cp, sr, n, pp, R); break;
        case 3: dots_rows<3>(rb, gp, so, cp, sr, n, pp, R); break;
        case 2: dots_rows<2>(rb, gp, so, cp, sr, n, pp, R); break;
        default: dots_rows<1>(rb, gp, so, cp, sr, n, pp, R); break;
      }
    }
  }
}
#endif

// The dot-product weight gradient (only chosen where AVX-512 runs).
void dot_products(const float* g, int64_t so, const float* cols, int64_t sr, int64_t O, int64_t R, int64_t n, float* part) {
#ifdef TG_X86_GNU
  dots_avx512(g, so, cols, sr, O, R, n, part);
#endif
}

ConvArgs with_simd(const ConvArgs& args) {
  ConvArgs a = args;
#ifdef TG_X86_GNU
  a.avx512 = has_avx512() && std::strcmp(sgemm_kernel_name(), "avx512") == 0;
#else
  a.avx512 = false;
#endif
  return a;
}

}  // namespace

void conv2d_f32(const ConvArgs& args, float* out) {
  const ConvArgs a = with_simd(args);
  const Window& w = a.win;
  const int64_t L = w.ho * w.wo, ckk = a.C * w.kh * w.kw, O = a.O;
  if (a.N <= 0 || O <= 0 || L <= 0) return;
  std::vector<float> wcopy;
  int64_t wrow = 0;
  const float* wm = weight_matrix(a, wcopy, &wrow);
  std::vector<float> bias;
  if (a.bias != nullptr) {
    bias.resize(static_cast<size_t>(O));
    for (int64_t o = 0; o < O; o++) bias[o] = a.bias[o * a.sbias];
  }
  int mr = 1, nr = 1;
  sgemm_tile(&mr, &nr);
  const int64_t lb = block_positions(ckk, L), blocks = (L + lb - 1) / lb;
  run_tasks(a.N * blocks, static_cast<double>(a.N) * O * ckk * L, [&](int64_t t) {
    const int64_t n = t / blocks, l0 = (t % blocks) * lb, l1 = std::min(L, l0 + lb), nl = l1 - l0;
    float* bp = cols_scratch(ckk * padded(nl, nr));
    im2col_packed(a, a.x + n * a.sx[0], l0, l1, nr, bp);
    float* o = out + n * O * L + l0;
    sgemm_packed(O, nl, ckk, wm, wrow, 1, bp, o, L, false);
    // the same float addition as the separate bias add, and the relu kernel's bits, while the
    // block is still in cache
    if (a.bias != nullptr)
      for (int64_t oc = 0; oc < O; oc++) {
        float* row = o + oc * L;
        const float b = bias[oc];
        for (int64_t l = 0; l < nl; l++) row[l] += b;
      }
    if (a.relu)
      for (int64_t oc = 0; oc < O; oc++) {
        float* row = o + oc * L;
        for (int64_t l = 0; l < nl; l++) row[l] = relu_f32(row[l]);
      }
  });
}

void conv2d_relu_maxpool_f32(const ConvArgs& args, int64_t ph, int64_t pw, int64_t hp, int64_t wp, float* values, int32_t* indices) {
  const ConvArgs a = with_simd(args);
  const Window& w = a.win;
  const int64_t L = w.ho * w.wo, ckk = a.C * w.kh * w.kw, O = a.O;
  if (a.N <= 0 || O <= 0 || hp <= 0 || wp <= 0) return;
  std::vector<float> wcopy;
  int64_t wrow = 0;
  const float* wm = weight_matrix(a, wcopy, &wrow);
  std::vector<float> bias;
  if (a.bias != nullptr) {
    bias.resize(static_cast<size_t>(O));
    for (int64_t o = 0; o < O; o++) bias[o] = a.bias[o * a.sbias];
  }
  int mr = 1, nr = 1;
  sgemm_tile(&mr, &nr);
  // tasks: (sample, band of pool rows), the band's conv rows' columns within kBlockFloats; every
  // conv element gets conv2d_f32's operations whatever block it is in (sgemm_packed's promise)
  const int64_t rows = std::clamp<int64_t>(kBlockFloats / std::max<int64_t>(1, ckk * ph * w.wo), 1, hp), bands = (hp + rows - 1) / rows;
  run_tasks(a.N * bands, static_cast<double>(a.N) * O * ckk * L, [&](int64_t t) {
    const int64_t n = t / bands, r0 = (t % bands) * rows, r1 = std::min(hp, r0 + rows);
    const int64_t h1 = std::min(w.ho, r1 * ph), l0 = r0 * ph * w.wo, l1 = h1 * w.wo, nl = l1 - l0;
    if (nl <= 0) return;
    float* bp = cols_scratch(ckk * padded(nl, nr));
    im2col_packed(a, a.x + n * a.sx[0], l0, l1, nr, bp);
    float* c = out_scratch(O * nl);
    sgemm_packed(O, nl, ckk, wm, wrow, 1, bp, c, nl, false);
    for (int64_t oc = 0; oc < O; oc++) {
      float* row = c + oc * nl;
      if (a.bias != nullptr) {
        const float b = bias[oc];
        for (int64_t l = 0; l < nl; l++) row[l] += b;
      }
      for (int64_t l = 0; l < nl; l++) row[l] = relu_f32(row[l]);
      // maxpool2d_f32's general loop: the first tap, then a later one when greater or NaN
      const float* plane = row - l0;
      float* vo = values + (n * O + oc) * hp * wp;
      int32_t* io = indices + (n * O + oc) * hp * wp;
      if (ph == 2 && pw == 2 && 2 * r1 <= w.ho && 2 * wp <= w.wo) {
        // 2×2 windows (the common layer): maxpool2d_f32's pairs loop, straight-line selects
        // instead of the general loop's bounds tests (which halved the fused forward's speed)
        for (int64_t i = r0; i < r1; i++) {
          const float* q0 = plane + 2 * i * w.wo;
          const float* q1 = q0 + w.wo;
          const int32_t top = static_cast<int32_t>(2 * i * w.wo), wo = static_cast<int32_t>(w.wo);
          for (int64_t j = 0; j < wp; j++) {
            const int32_t c0 = top + static_cast<int32_t>(2 * j);
            float best = q0[2 * j];
            int32_t arg = c0;
            float v = q0[2 * j + 1];
            if (v > best || v != v) best = v, arg = c0 + 1;
            v = q1[2 * j];
            if (v > best || v != v) best = v, arg = c0 + wo;
            v = q1[2 * j + 1];
            if (v > best || v != v) best = v, arg = c0 + wo + 1;
            vo[i * wp + j] = best;
            io[i * wp + j] = arg;
          }
        }
        continue;
      }
      for (int64_t i = r0; i < r1; i++)
        for (int64_t j = 0; j < wp; j++) {
          float best = -INFINITY;
          int64_t arg = -1;
          for (int64_t di = 0; di < ph; di++) {
            const int64_t h = i * ph + di;
            if (h >= w.ho) continue;
            for (int64_t dj = 0; dj < pw; dj++) {
              const int64_t x = j * pw + dj;
              if (x >= w.wo) continue;
              const float v = plane[h * w.wo + x];
              if (arg < 0 || v > best || v != v) best = v, arg = h * w.wo + x;
            }
          }
          vo[i * wp + j] = best;
          io[i * wp + j] = static_cast<int32_t>(arg);
        }
    }
  });
}

void conv2d_backward_input_f32(const ConvArgs& args, float* dx) {
  const ConvArgs a = with_simd(args);
  const Window& w = a.win;
  const int64_t L = w.ho * w.wo, ckk = a.C * w.kh * w.kw, chw = a.C * a.H * a.W;
  if (a.N <= 0 || chw <= 0) return;
  if (a.O <= 0 || L <= 0) {
    zero(dx, a.N * chw);
    return;
  }
  std::vector<float> wcopy;
  int64_t wrow = 0;
  const float* wm = weight_matrix(a, wcopy, &wrow);
  const int64_t lb = block_positions(ckk, L), blocks = (L + lb - 1) / lb;
  // one sample per task: its blocks' windows overlap in dx, so they are added in block order
  run_tasks(a.N, static_cast<double>(a.N) * a.O * ckk * L, [&](int64_t n) {
    float* d = dx + n * chw;
    zero(d, chw);
    for (int64_t b = 0; b < blocks; b++) {
      const int64_t l0 = b * lb, l1 = std::min(L, l0 + lb), nl = l1 - l0;
      int64_t so, sl;
      const float* g = grad_block(a, n, l0, l1, &so, &sl);
      float* dcols = cols_scratch(ckk * nl);
      sgemm_serial(ckk, nl, a.O, wm, 1, wrow, g, so, sl, dcols, nl, false);
      col2im_block(a, dcols, l0, l1, d);
    }
  });
}

void conv2d_backward_weight_f32(const ConvArgs& args, float* dw, float* db) {
  const ConvArgs a = with_simd(args);
  const Window& w = a.win;
  const int64_t L = w.ho * w.wo, ckk = a.C * w.kh * w.kw, O = a.O, ockk = O * ckk;
  if (O <= 0) return;
  if (a.N <= 0 || L <= 0) {
    zero(dw, ockk);
    if (db != nullptr) zero(db, O);
    return;
  }
  // the packed product into dW [O, ckk] or dWᵀ [ckk, O], whichever leaves fewer idle lanes in
  // the register tiles; when even that wastes more than half of them (a first layer: 9 × 16 in
  // 12 × 32 tiles) and AVX-512 runs, dot products along the positions instead (measured on the
  // W3 layers: 1.2 → 0.6 ms for the first; 1.6 → 3.6 ms for the second, whose tiles are full)
  int mr = 1, nr = 1;
  sgemm_tile(&mr, &nr);
  const int64_t tiles_std = padded(O, mr) * padded(ckk, nr), tiles_t = padded(ckk, mr) * padded(O, nr);
  const bool transposed = tiles_t < tiles_std;
#ifdef TG_X86_GNU
  const bool dots = a.avx512 && 2 * ockk < std::min(tiles_std, tiles_t) && ockk * 16 <= kDotPartialFloats;
#else
  const bool dots = false;
#endif
  const int64_t lanes = dots ? 16 : 1, width = ockk * lanes;
  // units: (sample, block of positions) in order; chunks: runs of consecutive units (so a
  // single large image is split too)
  const int64_t lb = block_positions(ckk, L), blocks = (L + lb - 1) / lb, units = a.N * blocks;
  const int64_t max_chunks = std::clamp<int64_t>(kPartialFloats / std::max<int64_t>(width, 1), 1, kMaxWeightChunks);
  const int64_t per_chunk = (units + max_chunks - 1) / max_chunks, chunks = (units + per_chunk - 1) / per_chunk;
  std::vector<float> part(static_cast<size_t>(chunks * width));
  std::vector<double> bpart(db != nullptr ? static_cast<size_t>(chunks * O) : 0, 0.0);
  run_tasks(chunks, static_cast<double>(a.N) * O * ckk * L, [&](int64_t c) {
    float* p = part.data() + c * width;
    if (dots) zero(p, width);
    bool first = true;
    for (int64_t u = c * per_chunk, end = std::min(units, u + per_chunk); u < end; u++) {
      const int64_t n = u / blocks, l0 = (u % blocks) * lb, l1 = std::min(L, l0 + lb), nl = l1 - l0;
      int64_t so, sl;
      const float* g = grad_block(a, n, l0, l1, &so, &sl, dots);
      float* cols = cols_scratch(ckk * nl);
      im2col_block(a, a.x + n * a.sx[0], l0, l1, cols, nl);
      if (dots)
        dot_products(g, so, cols, nl, O, ckk, nl, p);
      else if (transposed)
        sgemm_serial(ckk, O, nl, cols, nl, 1, g, sl, so, p, O, !first);  // cols · gᵀ
      else
        sgemm_serial(O, ckk, nl, g, so, sl, cols, 1, nl, p, ckk, !first);  // g · colsᵀ
      first = false;
      if (db != nullptr)
        for (int64_t o = 0; o < O; o++) bpart[c * O + o] += sum_f64(g + o * so, nl, sl, a.avx512);
    }
  });
  // the chunks' partials (and lanes) in a fixed order, in double, rounded once; rows of dW in parallel
  run_tasks(O, static_cast<double>(chunks) * width, [&](int64_t o) {
    for (int64_t k = 0; k < ckk; k++) {
      const int64_t at = dots ? (o * ckk + k) * 16 : transposed ? k * O + o : o * ckk + k;
      double s = 0.0;
      for (int64_t c = 0; c < chunks; c++)
        for (int64_t lane = 0; lane < lanes; lane++) s += part[c * width + at + lane];
      dw[o * ckk + k] = static_cast<float>(s);
    }
  });
  if (db != nullptr)
    for (int64_t o = 0; o < O; o++) {
      double s = 0.0;
      for (int64_t c = 0; c < chunks; c++) s += bpart[c * O + o];
      db[o] = static_cast<float>(s);
    }
}

}  // namespace tg
