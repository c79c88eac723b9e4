// Float32 elementwise kernels over broadcast strided views, and im2col / col2im. Results are
// bit-identical to the js reference: every op here is IEEE-exact (a float op rounds exactly as
// js's double op rounded to float32 does), and col2im adds in the same order. Large calls are
// split across the thread pool by ranges of output elements.
#include "elementwise.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

#include "thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace tg {
namespace {

// Below this many output elements a call stays on one thread.
constexpr int64_t kParallelMin = 1 << 16;

// Up to two operands broadcast to one shape, with size-1 dims dropped and contiguous runs merged.
struct Walk {
  int nd = 0;
  int64_t shape[kMaxDims];
  int64_t s[2][kMaxDims];
};

Walk make_walk(int nd, const int64_t* shape, const int64_t* s0, const int64_t* s1, int nops) {
  Walk w;
  for (int d = 0; d < nd; d++) {
    if (shape[d] == 1) continue;
    const int64_t a = s0[d], b = nops > 1 ? s1[d] : 0;
    if (w.nd > 0) {
      const int l = w.nd - 1;
      // merge with the previous (outer) dim when it steps exactly over this one
      if (w.s[0][l] == a * shape[d] && w.s[1][l] == b * shape[d]) {
        w.shape[l] *= shape[d];
        w.s[0][l] = a;
        w.s[1][l] = b;
        continue;
      }
    }
    w.shape[w.nd] = shape[d];
    w.s[0][w.nd] = a;
    w.s[1][w.nd] = b;
    w.nd++;
  }
  if (w.nd == 0) {
    w.nd = 1;
    w.shape[0] = 1;
    w.s[0][0] = w.s[1][0] = 0;
  }
  return w;
}

int64_t total(const Walk& w) {
  int64_t n = 1;
  for (int d = 0; d < w.nd; d++) n *= w.shape[d];
  return n;
}

// Calls run(p0, p1, out_index, count, inner strides) for the row-major element range [lo, hi).
template <class Run>
void walk_range(const Walk& w, const float* p0, const float* p1, int64_t lo, int64_t hi, Run run) {
  const int last = w.nd - 1;
  int64_t idx[kMaxDims];
  int64_t rem = lo;
  for (int d = last; d >= 0; d--) {
    idx[d] = rem % w.shape[d];
    rem /= w.shape[d];
    p0 += idx[d] * w.s[0][d];
    if (p1 != nullptr) p1 += idx[d] * w.s[1][d];
  }
  int64_t pos = lo;
  while (pos < hi) {
    const int64_t count = std::min(w.shape[last] - idx[last], hi - pos);
    run(p0, p1, pos, count, w.s[0][last], w.s[1][last]);
    pos += count;
    // step to the start of the next row (odometer over the outer dims)
    p0 += (count - 1) * w.s[0][last];
    if (p1 != nullptr) p1 += (count - 1) * w.s[1][last];
    idx[last] += count - 1;
    for (int d = last; d >= 0; d--) {
      if (++idx[d] < w.shape[d]) {
        p0 += w.s[0][d];
        if (p1 != nullptr) p1 += w.s[1][d];
        break;
      }
      p0 -= (w.shape[d] - 1) * w.s[0][d];
      if (p1 != nullptr) p1 -= (w.shape[d] - 1) * w.s[1][d];
      idx[d] = 0;
    }
  }
}

// Splits [0, n) into chunks claimed by the pool's threads (one thread when small).
template <class Body>
void split(int64_t n, Body body) {
  const int T = n >= kParallelMin ? std::min<int64_t>(num_threads(), n / (kParallelMin / 2)) : 1;
  if (T <= 1) {
    body(0, n);
    return;
  }
  const int64_t chunk = std::max<int64_t>(kParallelMin / 4, (n + 4 * T - 1) / (4 * T));
  const int64_t chunks = (n + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  parallel_run(T, [&] {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
      body(c * chunk, std::min(n, (c + 1) * chunk));
  });
}

// ---- ops (float arithmetic on float32 rounds exactly like js's double arithmetic stored to float32)
struct Add { static float f(float a, float b) { return a + b; } };
struct Sub { static float f(float a, float b) { return a - b; } };
struct Mul { static float f(float a, float b) { return a * b; } };
struct Div { static float f(float a, float b) { return a / b; } };
struct Max {  // Math.max: NaN wins, +0 beats -0
  static float f(float a, float b) {
    if (a != a || b != b) return NAN;
    if (a > b) return a;
    if (b > a) return b;
    return std::signbit(a) ? b : a;
  }
};
struct Min {  // Math.min: NaN wins, -0 beats +0
  static float f(float a, float b) {
    if (a != a || b != b) return NAN;
    if (a < b) return a;
    if (b < a) return b;
    return std::signbit(a) ? a : b;
  }
};
struct ReluGrad { static float f(float g, float y) { return relu_grad_f32(g, y); } };
struct Eq { static uint8_t f(float a, float b) { return a == b; } };
struct Ne { static uint8_t f(float a, float b) { return a != b; } };
struct Gt { static uint8_t f(float a, float b) { return a > b; } };
struct Ge { static uint8_t f(float a, float b) { return a >= b; } };
struct Lt { static uint8_t f(float a, float b) { return a < b; } };
struct Le { static uint8_t f(float a, float b) { return a <= b; } };

template <class Op, class Out>
void binary_run(const float* a, int64_t sa, const float* b, int64_t sb, Out* o, int64_t n) {
  // the common layouts get loops the compiler vectorizes
  if (sa == 1 && sb == 1)
    for (int64_t i = 0; i < n; i++) o[i] = Op::f(a[i], b[i]);
  else if (sa == 1 && sb == 0) {
    const float vb = *b;
    for (int64_t i = 0; i < n; i++) o[i] = Op::f(a[i], vb);
  } else if (sa == 0 && sb == 1) {
    const float va = *a;
    for (int64_t i = 0; i < n; i++) o[i] = Op::f(va, b[i]);
  } else
    for (int64_t i = 0; i < n; i++) o[i] = Op::f(a[i * sa], b[i * sb]);
}

template <class Op, class Out>
void binary_walk(const Walk& w, const float* a, const float* b, Out* out) {
  split(total(w), [&](int64_t lo, int64_t hi) {
    walk_range(w, a, b, lo, hi, [&](const float* pa, const float* pb, int64_t at, int64_t n, int64_t sa, int64_t sb) {
      binary_run<Op, Out>(pa, sa, pb, sb, out + at, n);
    });
  });
}

struct Neg { static float f(float x) { return -x; } };
struct Abs { static float f(float x) { return std::fabs(x); } };
// x > 0 or NaN: x; else +0 (−0 too)
struct Relu { static float f(float x) { return relu_f32(x); } };
struct Sqrt { static float f(float x) { return std::sqrt(x); } };
struct Rsqrt { static float f(float x) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(x))); } };
struct Sign { static float f(float x) { return x > 0 ? 1.0f : x < 0 ? -1.0f : x; } };
struct Copy { static float f(float x) { return x; } };

template <class Op>
void unary_walk(const Walk& w, const float* x, float* out) {
  split(total(w), [&](int64_t lo, int64_t hi) {
    walk_range(w, x, nullptr, lo, hi, [&](const float* p, const float*, int64_t at, int64_t n, int64_t s, int64_t) {
      float* o = out + at;
      if (s == 1)
        for (int64_t i = 0; i < n; i++) o[i] = Op::f(p[i]);
      else
        for (int64_t i = 0; i < n; i++) o[i] = Op::f(p[i * s]);
    });
  });
}

}  // namespace

void binary_f32(int op, const float* a, const int64_t* sa, const float* b, const int64_t* sb, int nd,
                const int64_t* shape, void* out) {
  const Walk w = make_walk(nd, shape, sa, sb, 2);
  float* of = static_cast<float*>(out);
  uint8_t* ob = static_cast<uint8_t*>(out);
  switch (op) {
    case kAdd: return binary_walk<Add>(w, a, b, of);
    case kSub: return binary_walk<Sub>(w, a, b, of);
    case kMul: return binary_walk<Mul>(w, a, b, of);
    case kDiv: return binary_walk<Div>(w, a, b, of);
    case kMaximum: return binary_walk<Max>(w, a, b, of);
    case kMinimum: return binary_walk<Min>(w, a, b, of);
    case kEq: return binary_walk<Eq>(w, a, b, ob);
    case kNe: return binary_walk<Ne>(w, a, b, ob);
    case kGt: return binary_walk<Gt>(w, a, b, ob);
    case kGe: return binary_walk<Ge>(w, a, b, ob);
    case kLt: return binary_walk<Lt>(w, a, b, ob);
    case kLe: return binary_walk<Le>(w, a, b, ob);
    case kReluGrad: return binary_walk<ReluGrad>(w, a, b, of);
    default: return;
  }
}

void unary_f32(int op, const float* x, const int64_t* sx, int nd, const int64_t* shape, float* out) {
  const Walk w = make_walk(nd, shape, sx, nullptr, 1);
  switch (op) {
    case kNeg: return unary_walk<Neg>(w, x, out);
    case kAbs: return unary_walk<Abs>(w, x, out);
    case kRelu: return unary_walk<Relu>(w, x, out);
    case kSqrt: return unary_walk<Sqrt>(w, x, out);
    case kRsqrt: return unary_walk<Rsqrt>(w, x, out);
    case kSign: return unary_walk<Sign>(w, x, out);
    default: return;
  }
}

void bias_relu_row(float* row, int64_t j0, int64_t j1, const float* bias, int64_t bias_stride, bool relu) {
  if (bias != nullptr)
    for (int64_t j = j0; j < j1; j++) row[j] = Add::f(row[j], bias[j * bias_stride]);
  if (relu)
    for (int64_t j = j0; j < j1; j++) row[j] = Relu::f(row[j]);
}

void bias_relu_f32(float* c, int64_t rows, int64_t N, const float* bias, int64_t bias_stride, bool relu) {
  split(rows * N, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo / N; r * N < hi; r++)
      bias_relu_row(c + r * N, std::max(lo - r * N, int64_t{0}), std::min(hi - r * N, N), bias, bias_stride, relu);
  });
}

// Adam in float32: every product, sum, quotient and square root is one IEEE single-precision
// operation (no FMA contraction: -ffp-contract=off), in optim/adam.ts's adamFloat32 order, so the
// scalar loop and the 8- and 16-lane loops give the same bits as the js loop.
struct AdamF32 {
  float b1, b2, c1, c2, neg_step, bc, eps, l2, decay, sign;
  bool decoupled;
  explicit AdamF32(const double* h)
      : b1(static_cast<float>(h[0])), b2(static_cast<float>(h[1])), c1(static_cast<float>(1 - h[0])), c2(static_cast<float>(1 - h[1])),
        neg_step(static_cast<float>(-h[2])), bc(static_cast<float>(h[3])), eps(static_cast<float>(h[4])), l2(static_cast<float>(h[5])),
        decay(static_cast<float>(h[6])), sign(static_cast<float>(h[8])), decoupled(h[7] != 0) {}
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TG_ADAM_SIMD(TARGET, NAME, W, VEC, SET1, LOAD, STORE, MUL, ADD, DIV, SQRT)                                \
  __attribute__((target(TARGET))) int64_t NAME(const AdamF32& a, float* w, const float* g, float* m, float* v, \
                                               int64_t lo, int64_t hi) {                                       \
    const VEC b1 = SET1(a.b1), b2 = SET1(a.b2), c1 = SET1(a.c1), c2 = SET1(a.c2), ns = SET1(a.neg_step),       \
              bc = SET1(a.bc), eps = SET1(a.eps), l2 = SET1(a.l2), decay = SET1(a.decay), sign = SET1(a.sign); \
    const bool has_l2 = a.l2 != 0;                                                                           \
    int64_t i = lo;                                                                                          \
    for (; i + W <= hi; i += W) {                                                                            \
      VEC gi = MUL(sign, LOAD(g + i)), wi = LOAD(w + i);                                                      \
      if (a.decoupled)                                                                                       \
        wi = MUL(wi, decay);                                                                                 \
      else if (has_l2)                                                                                       \
        gi = ADD(gi, MUL(l2, wi));                                                                           \
      const VEC mi = ADD(MUL(LOAD(m + i), b1), MUL(c1, gi));                                                  \
      const VEC vi = ADD(MUL(LOAD(v + i), b2), MUL(MUL(c2, gi), gi));                                         \
      STORE(m + i, mi);                                                                                      \
      STORE(v + i, vi);                                                                                      \
      STORE(w + i, ADD(wi, DIV(MUL(ns, mi), ADD(DIV(SQRT(vi), bc), eps))));                                   \
    }                                                                                                        \
    return i;                                                                                                \
  }
TG_ADAM_SIMD("avx512f", adam_avx512, 16, __m512, _mm512_set1_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_mul_ps, _mm512_add_ps,
             _mm512_div_ps, _mm512_sqrt_ps)
TG_ADAM_SIMD("avx2", adam_avx2, 8, __m256, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_mul_ps, _mm256_add_ps,
             _mm256_div_ps, _mm256_sqrt_ps)
#undef TG_ADAM_SIMD
#endif

void adam_f32(float* w, const float* g, float* m, float* v, float* vmax, int64_t n, const double* h) {
  const AdamF32 a(h);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static const int simd = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 512 : __builtin_cpu_supports("avx2") ? 256 : 0;
  }();
#else
  constexpr int simd = 0;
#endif
  split(n, [&](int64_t lo, int64_t hi) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (vmax == nullptr && simd == 512) lo = adam_avx512(a, w, g, m, v, lo, hi);
    if (vmax == nullptr && simd >= 256) lo = adam_avx2(a, w, g, m, v, lo, hi);
#endif
    // each line is one statement of adamFloat32 in optim/adam.ts
    for (int64_t i = lo; i < hi; i++) {
      float gi = a.sign * g[i], wi = w[i];
      if (a.decoupled)
        wi = wi * a.decay;
      else if (a.l2 != 0)
        gi = gi + a.l2 * wi;
      const float mi = m[i] * a.b1 + a.c1 * gi;
      m[i] = mi;
      float second = v[i] * a.b2 + a.c2 * gi * gi;
      v[i] = second;
      if (vmax != nullptr) {
        const float x = vmax[i];  // Math.max: NaN wins, +0 beats −0
        second = (x != x || second != second) ? NAN : x > second ? x : second > x ? second : (std::signbit(x) ? second : x);
        vmax[i] = second;
      }
      w[i] = wi + (a.neg_step * mi) / (std::sqrt(second) / a.bc + a.eps);
    }
  });
}

void copy_f32(const float* x, const int64_t* sx, int nd, const int64_t* shape, float* out) {
  const Walk w = make_walk(nd, shape, sx, nullptr, 1);
  if (w.nd == 1 && w.s[0][0] == 1) {
    std::memcpy(out, x, static_cast<size_t>(w.shape[0]) * sizeof(float));
    return;
  }
  unary_walk<Copy>(w, x, out);
}

void copy_u8_f32(const uint8_t* x, const int64_t* sx, int nd, const int64_t* shape, float* out) {
  const Walk w = make_walk(nd, shape, sx, nullptr, 1);
  // the walker steps float pointers; walk byte offsets through a null-based float pointer instead
  split(total(w), [&](int64_t lo, int64_t hi) {
    int64_t idx[kMaxDims];
    int64_t rem = lo, off = 0;
    for (int d = w.nd - 1; d >= 0; d--) {
      idx[d] = rem % w.shape[d];
      rem /= w.shape[d];
      off += idx[d] * w.s[0][d];
    }
    const int last = w.nd - 1;
    for (int64_t pos = lo; pos < hi;) {
      const int64_t count = std::min(w.shape[last] - idx[last], hi - pos);
      const uint8_t* p = x + off;
      const int64_t s = w.s[0][last];
      for (int64_t i = 0; i < count; i++) out[pos + i] = p[i * s] != 0 ? 1.0f : 0.0f;
      pos += count;
      off += (count - 1) * s;
      idx[last] += count - 1;
      for (int d = last; d >= 0; d--) {
        if (++idx[d] < w.shape[d]) {
          off += w.s[0][d];
          break;
        }
        off -= (w.shape[d] - 1) * w.s[0][d];
        idx[d] = 0;
      }
    }
  });
}

namespace {
// output columns whose tap lands inside the input along one axis: [lo, hi)
inline void tap_range(int64_t shift, int64_t stride, int64_t size, int64_t out, int64_t* lo, int64_t* hi) {
  auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
  *lo = std::min(out, std::max<int64_t>(0, ceil_div(-shift, stride)));
  *hi = std::max(*lo, std::min(out, ceil_div(size - shift, stride)));
}
}  // namespace

// Runs body(plane) for every (n, c) plane, claimed by the pool's threads when the work is large.
// Threads claim runs of neighbouring planes (about 8 per thread): one claim per plane made the
// shared counter and the cache lines between two threads' planes bounce, and a 2×2 pooling or
// col2im plane is too little work to pay for that (col2im ran slower on 2 threads than on 1).
template <class Body>
void for_planes(int64_t planes, int64_t work, Body body) {
  const int T = work >= kParallelMin && planes > 1 ? num_threads() : 1;
  if (T <= 1) {
    for (int64_t p = 0; p < planes; p++) body(p);
    return;
  }
  const int64_t run = (planes + 8 * T - 1) / (8 * T);
  const int64_t runs = (planes + run - 1) / run;
  std::atomic<int64_t> next{0};
  parallel_run(T, [&] {
    for (int64_t r; (r = next.fetch_add(1, std::memory_order_relaxed)) < runs;)
      for (int64_t p = r * run, end = std::min(planes, p + run); p < end; p++) body(p);
  });
}

void im2col_f32(const float* x, const int64_t* sx, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                float* out) {
  const int64_t plane_elems = w.kh * w.kw * w.ho * w.wo;
  // one task per (n, c) plane: it writes its own kh·kw rows of the columns
  for_planes(N * C, N * C * plane_elems, [&](int64_t nc) {
    const int64_t n = nc / C, c = nc % C;
    const float* plane = x + n * sx[0] + c * sx[1];
    float* o = out + nc * plane_elems;
    for (int64_t i = 0; i < w.kh; i++)
      for (int64_t j = 0; j < w.kw; j++) {
        const int64_t shift = j * w.dw - w.pw;
        int64_t wlo, whi;
        tap_range(shift, w.sw, W, w.wo, &wlo, &whi);
        for (int64_t ho = 0; ho < w.ho; ho++, o += w.wo) {
          const int64_t hi_ = ho * w.sh - w.ph + i * w.dh;
          // the output is uninitialised (no calloc): taps outside x are zeroed here
          if (hi_ < 0 || hi_ >= H) {
            std::memset(o, 0, static_cast<size_t>(w.wo) * sizeof(float));
            continue;
          }
          if (wlo > 0) std::memset(o, 0, static_cast<size_t>(wlo) * sizeof(float));
          if (whi < w.wo) std::memset(o + whi, 0, static_cast<size_t>(w.wo - whi) * sizeof(float));
          const float* row = plane + hi_ * sx[2] + shift * sx[3];
          const int64_t step = w.sw * sx[3];
          if (step == 1)
            std::memcpy(o + wlo, row + wlo, static_cast<size_t>(whi - wlo) * sizeof(float));
          else
            for (int64_t wo = wlo; wo < whi; wo++) o[wo] = row[wo * step];
        }
      }
  });
}

void col2im_f32(const float* cols, const int64_t* sc, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                float* out) {
  // one task per (n, c) plane of the image; within it, the js reference's order of additions
  for_planes(N * C, N * C * w.kh * w.kw * w.ho * w.wo, [&](int64_t nc) {
    const int64_t n = nc / C, c = nc % C;
    float* plane = out + nc * H * W;
    std::memset(plane, 0, static_cast<size_t>(H * W) * sizeof(float));  // out is uninitialised
    for (int64_t i = 0; i < w.kh; i++)
      for (int64_t j = 0; j < w.kw; j++) {
        const float* src = cols + n * sc[0] + ((c * w.kh + i) * w.kw + j) * sc[1];
        const int64_t shift = j * w.dw - w.pw;
        int64_t wlo, whi;
        tap_range(shift, w.sw, W, w.wo, &wlo, &whi);
        for (int64_t ho = 0; ho < w.ho; ho++) {
          const int64_t hi_ = ho * w.sh - w.ph + i * w.dh;
          if (hi_ < 0 || hi_ >= H) continue;
          float* row = plane + hi_ * W + shift;
          const float* l = src + ho * w.wo * sc[2];
          for (int64_t wo = wlo; wo < whi; wo++) row[wo * w.sw] += l[wo * sc[2]];
        }
      }
  });
}

// Advances the odometer over the outer reduced axes [0, rl) to the start of the next innermost
// run; true when every run has been visited.
static inline bool next_run(int64_t* idx, const float*& p, const int64_t* rshape, const int64_t* rstrides, int rl) {
  for (int d = rl - 1; d >= 0; d--) {
    if (++idx[d] < rshape[d]) {
      p += rstrides[d];
      return false;
    }
    p -= (rshape[d] - 1) * rstrides[d];
    idx[d] = 0;
  }
  return true;
}

// sum[g] += p[i·step + g] for g < 32, i < rows, in that order per g (doubles): the compiler
// vectorizes the 32 independent chains (AVX-512 / AVX2 clones chosen at run time).
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target_clones("avx512f", "avx2", "default")))  // ifunc: ELF/glibc only
#endif
void sum32_rows(const float* p, int64_t rows, int64_t step, double* sum) {
  double acc[32];
  for (int g = 0; g < 32; g++) acc[g] = sum[g];
  for (int64_t i = 0; i < rows; i++) {
    const float* q = p + i * step;
    for (int g = 0; g < 32; g++) acc[g] += static_cast<double>(q[g]);
  }
  for (int g = 0; g < 32; g++) sum[g] = acc[g];
}

void reduce_f32(int op, const float* x, int nk, const int64_t* kshape, const int64_t* kstrides, int nr,
                const int64_t* rshape, const int64_t* rstrides, void* out) {
  int64_t n_out = 1, n_red = 1;
  for (int d = 0; d < nk; d++) n_out *= kshape[d];
  for (int d = 0; d < nr; d++) n_red *= rshape[d];
  const int rl = nr - 1;
  // one output element: walk the reduced axes in row-major order (odometer, innermost run strided)
  auto one = [&](const float* base, int64_t o) {
    int64_t idx[kMaxDims] = {0};
    const float* p = base;
    const int64_t inner = nr > 0 ? rshape[rl] : 1, step = nr > 0 ? rstrides[rl] : 0;
    double sum = 0;
    float best = 0;
    int64_t best_at = 0, r = 0;
    bool done = false;
    const bool want_max = op == kMax || op == kArgmax;
    while (!done) {
      if (op == kSum) {
        for (int64_t i = 0; i < inner; i++) sum += p[i * step];
      } else {
        for (int64_t i = 0; i < inner; i++, r++) {
          const float v = p[i * step];
          if (r == 0) {
            best = v;
          } else if (v != v || (want_max ? v > best : v < best)) {
            best = v;
            best_at = r;
          }
          if (best != best) break;  // NaN: nothing can replace it
        }
        if (best != best) break;
      }
      done = next_run(idx, p, rshape, rstrides, rl);  // next run of the innermost reduced axis
    }
    if (op == kSum)
      static_cast<float*>(out)[o] = static_cast<float>(sum);
    else if (op == kMax || op == kMin)
      static_cast<float*>(out)[o] = best;
    else
      static_cast<int32_t*>(out)[o] = static_cast<int32_t>(best_at);
  };
  // Eight neighbouring outputs' sums at once, each in its own order as `one` adds: one double
  // add chain is latency-bound (4 cycles an add), eight independent chains are not. For a conv
  // bias gradient (sum over N, H, W) or a sum over the batch of weight gradients.
  auto sum8 = [&](const float* base, int64_t s, int64_t o) {
    int64_t idx[kMaxDims] = {0};
    const float* p = base;
    const int64_t inner = nr > 0 ? rshape[rl] : 1, step = nr > 0 ? rstrides[rl] : 0;
    double sum[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (bool done = false; !done;) {
      for (int64_t i = 0; i < inner; i++) {
        const float* q = p + i * step;
        for (int g = 0; g < 8; g++) sum[g] += q[g * s];
      }
      done = next_run(idx, p, rshape, rstrides, rl);
    }
    for (int g = 0; g < 8; g++) static_cast<float*>(out)[o + g] = static_cast<float>(sum[g]);
  };
  // Thirty-two neighbouring contiguous outputs (a sum over leading axes: a bias gradient [rows, N]
  // → [N]), the same per-output order; vector loads and double adds (see sum32_rows).
  auto sum32 = [&](const float* base, int64_t o) {
    int64_t idx[kMaxDims] = {0};
    const float* p = base;
    const int64_t inner = nr > 0 ? rshape[rl] : 1, step = nr > 0 ? rstrides[rl] : 0;
    double sum[32] = {};
    for (bool done = false; !done;) {
      sum32_rows(p, inner, step, sum);
      done = next_run(idx, p, rshape, rstrides, rl);
    }
    for (int g = 0; g < 32; g++) static_cast<float*>(out)[o + g] = static_cast<float>(sum[g]);
  };
  if (n_red == 0) {  // only sums reach here (the front end rejects empty max/min)
    for (int64_t o = 0; o < n_out; o++) static_cast<float*>(out)[o] = 0.0f;
    return;
  }
  Walk w = make_walk(nk, kshape, kstrides, nullptr, 1);
  auto body = [&](int64_t lo, int64_t hi) {
    walk_range(w, x, nullptr, lo, hi, [&](const float* p, const float*, int64_t at, int64_t n, int64_t s, int64_t) {
      int64_t i = 0;
      if (op == kSum && s == 1)
        for (; i + 32 <= n; i += 32) sum32(p + i, at + i);
      if (op == kSum)
        for (; i + 8 <= n; i += 8) sum8(p + i * s, s, at + i);
      for (; i < n; i++) one(p + i * s, at + i);
    });
  };
  if (n_out > 1 && n_out * n_red >= kParallelMin) {
    const int T = num_threads();
    const int64_t chunk = std::max<int64_t>(1, (n_out + 4 * T - 1) / (4 * T));
    const int64_t chunks = (n_out + chunk - 1) / chunk;
    std::atomic<int64_t> next{0};
    parallel_run(T, [&] {
      for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) body(c * chunk, std::min(n_out, (c + 1) * chunk));
    });
  } else {
    body(0, n_out);
  }
}

void maxpool2d_f32(const float* x, const int64_t* sx, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                   float* values, int32_t* indices) {
  // the geometry in locals: the stores below may alias nothing, but the compiler cannot know that
  const int64_t kh = w.kh, kw = w.kw, sh = w.sh, sw = w.sw, ph = w.ph, pw = w.pw, dh = w.dh, dw = w.dw, Ho = w.ho, Wo = w.wo;
  const int64_t s2 = sx[2], s3 = sx[3], plane_out = Ho * Wo;
  // 2×2 windows at stride 2 wholly inside a row-contiguous input (the common pooling layer)
  const bool pairs = kh == 2 && kw == 2 && sh == 2 && sw == 2 && ph == 0 && pw == 0 && dh == 1 && dw == 1 && s3 == 1 &&
                     2 * Ho <= H && 2 * Wo <= W;
  for_planes(N * C, N * C * plane_out * kh * kw, [&](int64_t nc) {
    const int64_t n = nc / C, c = nc % C;
    const float* plane = x + n * sx[0] + c * sx[1];
    float* vo = values + nc * plane_out;
    int32_t* io = indices + nc * plane_out;
    if (pairs) {
      // the taps in the general loop's order, with its test: a later tap wins when greater or NaN
      for (int64_t ho = 0; ho < Ho; ho++) {
        const float* r0 = plane + 2 * ho * s2;
        const float* r1 = r0 + s2;
        const int32_t top = static_cast<int32_t>(2 * ho * W);
        for (int64_t wo = 0; wo < Wo; wo++) {
          float best = r0[2 * wo];
          int32_t arg = top + static_cast<int32_t>(2 * wo);
          float v = r0[2 * wo + 1];
          if (v > best || v != v) best = v, arg = top + static_cast<int32_t>(2 * wo + 1);
          v = r1[2 * wo];
          if (v > best || v != v) best = v, arg = top + static_cast<int32_t>(W + 2 * wo);
          v = r1[2 * wo + 1];
          if (v > best || v != v) best = v, arg = top + static_cast<int32_t>(W + 2 * wo + 1);
          vo[ho * Wo + wo] = best;
          io[ho * Wo + wo] = arg;
        }
      }
      return;
    }
    for (int64_t ho = 0; ho < Ho; ho++)
      for (int64_t wo = 0; wo < Wo; wo++) {
        float best = -INFINITY;
        int64_t arg = -1;
        for (int64_t i = 0; i < kh; i++) {
          const int64_t hi_ = ho * sh - ph + i * dh;
          if (hi_ < 0 || hi_ >= H) continue;
          for (int64_t j = 0; j < kw; j++) {
            const int64_t wi = wo * sw - pw + j * dw;
            if (wi < 0 || wi >= W) continue;
            const float v = plane[hi_ * s2 + wi * s3];
            if (arg < 0 || v > best || v != v) {
              best = v;
              arg = hi_ * W + wi;
            }
          }
        }
        vo[ho * Wo + wo] = best;
        io[ho * Wo + wo] = static_cast<int32_t>(arg);
      }
  });
}

void maxpool2d_backward_f32(const float* g, const int64_t* sg, const int32_t* indices, const int64_t* si, int64_t N,
                            int64_t C, int64_t Ho, int64_t Wo, int64_t H, int64_t W, float* out) {
  for_planes(N * C, N * C * Ho * Wo, [&](int64_t nc) {
    const int64_t n = nc / C, c = nc % C;
    float* plane = out + nc * H * W;
    std::memset(plane, 0, static_cast<size_t>(H * W) * sizeof(float));  // out is uninitialised
    const float* gp = g + n * sg[0] + c * sg[1];
    const int32_t* ip = indices + n * si[0] + c * si[1];
    for (int64_t ho = 0; ho < Ho; ho++)
      for (int64_t wo = 0; wo < Wo; wo++) {
        const int32_t k = ip[ho * si[2] + wo * si[3]];
        if (k >= 0 && k < H * W) plane[k] += gp[ho * sg[2] + wo * sg[3]];
      }
  });
}

}  // namespace tg
