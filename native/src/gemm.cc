// sgemm: BLIS-style blocking (jc → pc → ic → jr → ir) over packed panels with register-tile
// micro-kernels: 12×32 AVX-512, 6×16 AVX2/FMA, and a portable 6×16 kernel in plain C++ (the
// compiler vectorizes it for the baseline ISA). The SIMD kernels are compiled through target
// attributes, so the whole file builds without -mavx2, and one is chosen at run time with
// __builtin_cpu_supports. Packing reads any strides, so transposed, broadcast and negative-stride
// views cost nothing beyond the O(n²) pack.
//
// Products of at most four rows with a column-major B (batch-1 inference, x · Wᵀ) skip packing
// B and transpose its tiles in registers instead, with the same per-element arithmetic.
//
// Threads: for one large product, every K block's packed B panel is shared — threads first pack
// its slivers, then claim tasks (a block of rows × a range of columns: pack those rows of A,
// run the micro-kernels) from an atomic counter. A batch of small products hands out whole
// matrices instead. Each output element is computed by the same sequence of operations whatever
// the thread count, so results are bit-identical across thread counts.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "elementwise.h"
#include "scratch.h"
#include "thread_pool.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define TG_X86_GNU 1
#include <immintrin.h>
#if !defined(__clang__)
// GCC 12's AVX-512 headers trip this warning on their own _mm512_undefined_ps()
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define TG_PAUSE() _mm_pause()
#else
#define TG_PAUSE() ((void)0)
#endif

namespace tg {
namespace {

#ifndef TG_KC512
#define TG_KC512 256
#endif
#ifndef TG_MC512
#define TG_MC512 240
#endif
constexpr int MR_MAX = 12;
constexpr int NR_MAX = 32;

// C[0:mr, 0:nr] (row stride ldc) = (accumulate ? C : 0) + Ap·Bp over kc steps, where Ap holds
// kc groups of MR floats and Bp kc groups of NR floats (the kernel's own MR, NR).
using MicroKernel = void (*)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                             bool accumulate, int mr, int nr);
using PackA = void (*)(const float* A, int64_t sam, int64_t sak, int64_t mc, int64_t kc, float* Ap);
using PackB = void (*)(const float* B, int64_t sbk, int64_t sbn, int64_t kc, int64_t nc, float* Bp);

struct Kernel {
  const char* name;
  MicroKernel run;
  PackA pack_a;
  PackB pack_b;
  int mr, nr;
  // depth of a packed panel (an A sliver mr×kc and the B sliver kc×nr stay in L1), rows of a
  // packed A block (in L2), columns of a packed B panel (L2/L3)
  int64_t kc, mc, nc;
  bool (*supported)();
};

// ---------------------------------------------------------------- packing

// Ap ← A[0:mc, 0:kc] as ceil(mc/MR) slivers of kc×MR (zero rows past mc).
template <int MR>
void pack_a(const float* A, int64_t sam, int64_t sak, int64_t mc, int64_t kc, float* Ap) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, mc - ir));
    const float* src = A + ir * sam;
    float* dst = Ap + ir * kc;
    if (mr == MR && sak == 1) {
      // row-major A: MR contiguous rows, interleaved
      for (int64_t k = 0; k < kc; k++)
        for (int i = 0; i < MR; i++) dst[k * MR + i] = src[i * sam + k];
    } else if (mr == MR && sam == 1) {
      // column-major A (a transposed view): each step reads MR contiguous floats
      for (int64_t k = 0; k < kc; k++) std::memcpy(dst + k * MR, src + k * sak, MR * sizeof(float));
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const float* s = src + k * sak;
        int i = 0;
        for (; i < mr; i++) dst[k * MR + i] = s[i * sam];
        for (; i < MR; i++) dst[k * MR + i] = 0.0f;
      }
    }
  }
}

bool has_avx2();

// dst[k*nr + j] = src[j*sbn + k] for j < nr, k < kc: nr columns, each contiguous along k.
void transpose_to_panel_scalar(const float* src, int64_t sbn, int64_t k0, int64_t kc, int nr, float* dst) {
  for (int j = 0; j < nr; j++) {
    const float* s = src + j * sbn;
    for (int64_t k = k0; k < kc; k++) dst[k * nr + j] = s[k];
  }
}

#ifdef TG_X86_GNU
// 8×8 tiles transposed in registers.
__attribute__((target("avx2"))) void transpose_to_panel_avx2(const float* src, int64_t sbn, int64_t kc, int nr, float* dst) {
  const int64_t k8 = kc & ~int64_t{7};
  for (int j0 = 0; j0 < nr; j0 += 8) {
    const float* s = src + j0 * sbn;
    for (int64_t k = 0; k < k8; k += 8) {
      __m256 r0 = _mm256_loadu_ps(s + k), r1 = _mm256_loadu_ps(s + sbn + k), r2 = _mm256_loadu_ps(s + 2 * sbn + k),
             r3 = _mm256_loadu_ps(s + 3 * sbn + k), r4 = _mm256_loadu_ps(s + 4 * sbn + k), r5 = _mm256_loadu_ps(s + 5 * sbn + k),
             r6 = _mm256_loadu_ps(s + 6 * sbn + k), r7 = _mm256_loadu_ps(s + 7 * sbn + k);
      const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                   t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                   t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
      const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)), u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
                   u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)), u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)),
                   u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)), u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2)),
                   u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)), u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
      float* d = dst + k * nr + j0;
      _mm256_storeu_ps(d + 0 * nr, _mm256_permute2f128_ps(u0, u4, 0x20));
      _mm256_storeu_ps(d + 1 * nr, _mm256_permute2f128_ps(u1, u5, 0x20));
      _mm256_storeu_ps(d + 2 * nr, _mm256_permute2f128_ps(u2, u6, 0x20));
      _mm256_storeu_ps(d + 3 * nr, _mm256_permute2f128_ps(u3, u7, 0x20));
      _mm256_storeu_ps(d + 4 * nr, _mm256_permute2f128_ps(u0, u4, 0x31));
      _mm256_storeu_ps(d + 5 * nr, _mm256_permute2f128_ps(u1, u5, 0x31));
      _mm256_storeu_ps(d + 6 * nr, _mm256_permute2f128_ps(u2, u6, 0x31));
      _mm256_storeu_ps(d + 7 * nr, _mm256_permute2f128_ps(u3, u7, 0x31));
    }
  }
  transpose_to_panel_scalar(src, sbn, k8, kc, nr, dst);
}
#endif

void transpose_to_panel(const float* src, int64_t sbn, int64_t kc, int nr, float* dst) {
#ifdef TG_X86_GNU
  if (nr % 8 == 0 && has_avx2()) return transpose_to_panel_avx2(src, sbn, kc, nr, dst);
#endif
  transpose_to_panel_scalar(src, sbn, 0, kc, nr, dst);
}

// Bp ← B[0:kc, 0:nc] as ceil(nc/NR) slivers of kc×NR (zero columns past nc).
template <int NR>
void pack_b(const float* B, int64_t sbk, int64_t sbn, int64_t kc, int64_t nc, float* Bp) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, nc - jr));
    const float* src = B + jr * sbn;
    float* dst = Bp + jr * kc;
    if (nr == NR && sbn == 1) {
      for (int64_t k = 0; k < kc; k++) std::memcpy(dst + k * NR, src + k * sbk, NR * sizeof(float));
    } else if (nr == NR && sbk == 1) {
      // B is a transposed view (columns contiguous; a Linear layer's weight): transpose tiles
      transpose_to_panel(src, sbn, kc, NR, dst);
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const float* s = src + k * sbk;
        int j = 0;
        for (; j < nr; j++) dst[k * NR + j] = s[j * sbn];
        for (; j < NR; j++) dst[k * NR + j] = 0.0f;
      }
    }
  }
}

// ---------------------------------------------------------------- micro-kernels

template <int NR>
inline void store_tile(const float* tile, float* C, int64_t ldc, bool accumulate, int mr, int nr) {
  for (int i = 0; i < mr; i++) {
    float* c = C + i * ldc;
    const float* t = tile + i * NR;
    if (accumulate)
      for (int j = 0; j < nr; j++) c[j] += t[j];
    else
      for (int j = 0; j < nr; j++) c[j] = t[j];
  }
}

void kernel_generic(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, bool accumulate,
                    int mr, int nr) {
  constexpr int MR = 6, NR = 16;
  // one row of the tile at a time: its 16 sums stay in vector registers (4 SSE / 2 AVX / NEON x4)
  for (int i = 0; i < mr; i++) {
    float acc[NR] = {};
    for (int64_t k = 0; k < kc; k++) {
      const float a = Ap[k * MR + i];
      const float* b = Bp + k * NR;
#pragma GCC unroll 16
      for (int j = 0; j < NR; j++) acc[j] += a * b[j];
    }
    float* c = C + i * ldc;
    if (accumulate)
      for (int j = 0; j < nr; j++) c[j] += acc[j];
    else
      for (int j = 0; j < nr; j++) c[j] = acc[j];
  }
}

bool always() { return true; }

#ifdef TG_X86_GNU
bool cpu_has(const char* what) {
  __builtin_cpu_init();
  if (std::strcmp(what, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return __builtin_cpu_supports("avx512f");
}
bool has_avx2() {
  static const bool ok = cpu_has("avx2");
  return ok;
}
bool has_avx512() {
  static const bool ok = cpu_has("avx512f") && has_avx2();
  return ok;
}

// The first R < 6 rows of a 6×16 tile (short products: batch-1 inference), with exactly the
// full kernel's operations per element, so results do not depend on how many rows a call has.
template <int R>
__attribute__((target("avx2,fma"))) void kernel_avx2_rows(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                                                            bool accumulate, int nr) {
  constexpr int MR = 6, NR = 16;
  __m256 c0[R], c1[R];
  for (int i = 0; i < R; i++) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(Bp);
    const __m256 b1 = _mm256_load_ps(Bp + 8);
    for (int i = 0; i < R; i++) {
      const __m256 a = _mm256_broadcast_ss(Ap + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
    Ap += MR;
    Bp += NR;
  }
  alignas(64) float tile[R * NR];
  for (int i = 0; i < R; i++) {
    _mm256_store_ps(tile + i * NR, c0[i]);
    _mm256_store_ps(tile + i * NR + 8, c1[i]);
  }
  store_tile<NR>(tile, C, ldc, accumulate, R, nr);
}

// 6×16: twelve 8-float accumulators, two B vectors, one broadcast A value.
__attribute__((target("avx2,fma"))) void kernel_avx2(int64_t kc, const float* Ap, const float* Bp, float* C,
                                                       int64_t ldc, bool accumulate, int mr, int nr) {
  constexpr int MR = 6, NR = 16;
  switch (mr) {
    case 1: return kernel_avx2_rows<1>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 2: return kernel_avx2_rows<2>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 3: return kernel_avx2_rows<3>(kc, Ap, Bp, C, ldc, accumulate, nr);
    default: break;
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  // the C tile is read (accumulate) or written after the loop: start fetching its lines now
  for (int i = 0; i < MR; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + NR - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(Bp);
    const __m256 b1 = _mm256_load_ps(Bp + 8);
    __m256 a = _mm256_broadcast_ss(Ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(Ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(Ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(Ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(Ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(Ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
    float* c = C;
#define TG_ROW(r0, r1)                              \
  if (accumulate) {                                 \
    r0 = _mm256_add_ps(r0, _mm256_loadu_ps(c));     \
    r1 = _mm256_add_ps(r1, _mm256_loadu_ps(c + 8)); \
  }                                                 \
  _mm256_storeu_ps(c, r0);                          \
  _mm256_storeu_ps(c + 8, r1);                      \
  c += ldc;
    TG_ROW(c00, c01) TG_ROW(c10, c11) TG_ROW(c20, c21) TG_ROW(c30, c31) TG_ROW(c40, c41) TG_ROW(c50, c51)
#undef TG_ROW
    return;
  }
  alignas(64) float tile[MR * NR];
  _mm256_store_ps(tile + 0 * NR, c00), _mm256_store_ps(tile + 0 * NR + 8, c01);
  _mm256_store_ps(tile + 1 * NR, c10), _mm256_store_ps(tile + 1 * NR + 8, c11);
  _mm256_store_ps(tile + 2 * NR, c20), _mm256_store_ps(tile + 2 * NR + 8, c21);
  _mm256_store_ps(tile + 3 * NR, c30), _mm256_store_ps(tile + 3 * NR + 8, c31);
  _mm256_store_ps(tile + 4 * NR, c40), _mm256_store_ps(tile + 4 * NR + 8, c41);
  _mm256_store_ps(tile + 5 * NR, c50), _mm256_store_ps(tile + 5 * NR + 8, c51);
  store_tile<NR>(tile, C, ldc, accumulate, mr, nr);
}

// The first R ≤ 6 rows of a 12×32 tile, with exactly the full kernel's operations per element.
template <int R>
__attribute__((target("avx512f"))) void kernel_avx512_rows(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc,
                                                             bool accumulate, int nr) {
  constexpr int MR = 12, NR = 32;
  __m512 c0[R], c1[R];
  for (int i = 0; i < R; i++) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_load_ps(Bp);
    const __m512 b1 = _mm512_load_ps(Bp + 16);
    for (int i = 0; i < R; i++) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    Ap += MR;
    Bp += NR;
  }
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF) : nr <= 16 ? __mmask16(0) : __mmask16((1u << (nr - 16)) - 1);
  for (int i = 0; i < R; i++) {
    float* c = C + i * ldc;
    __m512 r0 = c0[i], r1 = c1[i];
    if (accumulate) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, c));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, r0);
    _mm512_mask_storeu_ps(c + 16, m1, r1);
  }
}

// 12×32: twenty-four 16-float accumulators, two B vectors, A values broadcast from memory;
// partial tiles use masked loads and stores.
__attribute__((target("avx512f"))) void kernel_avx512(int64_t kc, const float* Ap, const float* Bp, float* C,
                                                        int64_t ldc, bool accumulate, int mr, int nr) {
  constexpr int MR = 12, NR = 32;
  switch (mr) {
    case 1: return kernel_avx512_rows<1>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 2: return kernel_avx512_rows<2>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 3: return kernel_avx512_rows<3>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 4: return kernel_avx512_rows<4>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 5: return kernel_avx512_rows<5>(kc, Ap, Bp, C, ldc, accumulate, nr);
    case 6: return kernel_avx512_rows<6>(kc, Ap, Bp, C, ldc, accumulate, nr);
    default: break;
  }
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(C + i * ldc + NR - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_load_ps(Bp);
    const __m512 b1 = _mm512_load_ps(Bp + 16);
#pragma GCC unroll 12
    for (int i = 0; i < MR; i++) {
      const __m512 a = _mm512_set1_ps(Ap[i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
    Ap += MR;
    Bp += NR;
  }
  const __mmask16 m0 = nr >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << nr) - 1);
  const __mmask16 m1 = nr >= 32 ? __mmask16(0xFFFF) : nr <= 16 ? __mmask16(0) : __mmask16((1u << (nr - 16)) - 1);
#pragma GCC unroll 12
  for (int i = 0; i < MR; i++) {
    if (i >= mr) break;
    float* c = C + i * ldc;
    __m512 r0 = c0[i], r1 = c1[i];
    if (accumulate) {
      r0 = _mm512_add_ps(r0, _mm512_maskz_loadu_ps(m0, c));
      r1 = _mm512_add_ps(r1, _mm512_maskz_loadu_ps(m1, c + 16));
    }
    _mm512_mask_storeu_ps(c, m0, r0);
    _mm512_mask_storeu_ps(c + 16, m1, r1);
  }
}
#endif

const Kernel kKernels[] = {
#ifdef TG_X86_GNU
    {"avx512", kernel_avx512, pack_a<12>, pack_b<32>, 12, 32, TG_KC512, TG_MC512, 3072, has_avx512},
    {"avx2+fma", kernel_avx2, pack_a<6>, pack_b<16>, 6, 16, 256, 240, 3072, has_avx2},
#endif
    {"generic", kernel_generic, pack_a<6>, pack_b<16>, 6, 16, 256, 240, 3072, always},
};
constexpr int kNumKernels = sizeof kKernels / sizeof kKernels[0];

int fastest_kernel() {
  for (int i = 0; i < kNumKernels; i++)
    if (kKernels[i].supported()) return i;
  return kNumKernels - 1;
}

int& selected_kernel() {
  static int k = [] {
    const char* env = std::getenv("TG_NATIVE_KERNEL");
    if (env != nullptr)
      for (int i = 0; i < kNumKernels; i++)
        if (std::strcmp(env, kKernels[i].name) == 0 && kKernels[i].supported()) return i;
    return fastest_kernel();
  }();
  return k;
}

// ---------------------------------------------------------------- drivers

// Per-thread packing buffers, kept between calls.
ScratchBuffer& thread_a() {
  static thread_local ScratchBuffer b;
  return b;
}
ScratchBuffer& thread_b() {
  static thread_local ScratchBuffer b;
  return b;
}
// The B panel shared by all threads of one parallel product (sgemm calls are serialized).
ScratchBuffer& shared_b() {
  static ScratchBuffer b;
  return b;
}

struct Problem {
  int64_t M, N, K;
  const float* A;
  int64_t sam, sak;
  const float* B;
  int64_t sbk, sbn;
  float* C;
  int64_t ldc;      // C's row stride (N for sgemm's contiguous outputs)
  bool accumulate;  // C += A·B instead of C = A·B (sgemm_serial's callers)
};

inline int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

// Rows [i0, i1) × packed B columns [j0, j1) of the K block [pc, pc+kc) of one column panel at jc.
// Column jr's sliver starts at Bp + jr·bk: bk = kc for a panel packed here, the whole depth K for
// a caller's pre-packed B (sgemm_packed).
void compute_block(const Kernel& kr, const Problem& p, int64_t jc, int64_t pc, int64_t kc, const float* Bp,
                   int64_t i0, int64_t i1, int64_t j0, int64_t j1, float* Ap, int64_t bk) {
  for (int64_t ic = i0; ic < i1; ic += kr.mc) {
    const int64_t mc = std::min(kr.mc, i1 - ic);
    kr.pack_a(p.A + ic * p.sam + pc * p.sak, p.sam, p.sak, mc, kc, Ap);
    for (int64_t jr = j0; jr < j1; jr += kr.nr) {
      const int nr = static_cast<int>(std::min<int64_t>(kr.nr, j1 - jr));
      for (int64_t ir = 0; ir < mc; ir += kr.mr) {
        const int mr = static_cast<int>(std::min<int64_t>(kr.mr, mc - ir));
        kr.run(kc, Ap + ir * kc, Bp + jr * bk, p.C + (ic + ir) * p.ldc + jc + jr, p.ldc, p.accumulate || pc > 0, mr, nr);
      }
    }
  }
}

// The whole product on the calling thread.
void gemm_serial(const Kernel& kr, const Problem& p) {
  float* Ap = thread_a().get(kr.mc * kr.kc);
  float* Bp = thread_b().get(kr.kc * round_up(std::min(kr.nc, p.N), kr.nr));
  for (int64_t jc = 0; jc < p.N; jc += kr.nc) {
    const int64_t nc = std::min(kr.nc, p.N - jc);
    for (int64_t pc = 0; pc < p.K; pc += kr.kc) {
      const int64_t kc = std::min(kr.kc, p.K - pc);
      kr.pack_b(p.B + pc * p.sbk + jc * p.sbn, p.sbk, p.sbn, kc, nc, Bp);
      compute_block(kr, p, jc, pc, kc, Bp, 0, p.M, 0, nc, Ap, kc);
    }
  }
}

// One product on up to T threads: a shared B panel per K block, then row × column tasks.
void gemm_parallel(const Kernel& kr, const Problem& p, int T) {
  float* Bp = shared_b().get(kr.kc * round_up(std::min(kr.nc, p.N), kr.nr));
  const int64_t row_units = (p.M + kr.mr - 1) / kr.mr;
  const int64_t rows_per_task = kr.mr * std::clamp<int64_t>((row_units + 4 * T - 1) / (4 * T), 1, kr.mc / kr.mr);
  const int64_t row_tasks = (p.M + rows_per_task - 1) / rows_per_task;
  for (int64_t jc = 0; jc < p.N; jc += kr.nc) {
    const int64_t nc = std::min(kr.nc, p.N - jc);
    const int64_t slivers = (nc + kr.nr - 1) / kr.nr;
    // columns are split too when there are too few row blocks to keep every thread busy
    int64_t col_chunks = row_tasks >= 2 * T ? 1 : std::min<int64_t>(slivers, (4 * T + row_tasks - 1) / row_tasks);
    const int64_t slivers_per_chunk = (slivers + col_chunks - 1) / col_chunks;
    col_chunks = (slivers + slivers_per_chunk - 1) / slivers_per_chunk;
    const int64_t tasks = row_tasks * col_chunks;
    const int64_t pack_chunk = std::max<int64_t>(1, slivers / (4 * T));
    const int64_t packs = (slivers + pack_chunk - 1) / pack_chunk;
    for (int64_t pc = 0; pc < p.K; pc += kr.kc) {
      const int64_t kc = std::min(kr.kc, p.K - pc);
      std::atomic<int64_t> next_pack{0}, packed{0}, next_task{0};
      parallel_run(T, [&] {
        for (int64_t c; (c = next_pack.fetch_add(1, std::memory_order_relaxed)) < packs;) {
          const int64_t s0 = c * pack_chunk, s1 = std::min(slivers, s0 + pack_chunk);
          const int64_t j0 = s0 * kr.nr, j1 = std::min(nc, s1 * kr.nr);
          kr.pack_b(p.B + pc * p.sbk + (jc + j0) * p.sbn, p.sbk, p.sbn, kc, j1 - j0, Bp + j0 * kc);
          packed.fetch_add(1, std::memory_order_release);
        }
        while (packed.load(std::memory_order_acquire) < packs) TG_PAUSE();
        float* Ap = thread_a().get(kr.mc * kr.kc);
        for (int64_t t; (t = next_task.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
          const int64_t r = t / col_chunks, cc = t % col_chunks;
          const int64_t i0 = r * rows_per_task, i1 = std::min(p.M, i0 + rows_per_task);
          const int64_t j0 = cc * slivers_per_chunk * kr.nr, j1 = std::min(nc, (cc + 1) * slivers_per_chunk * kr.nr);
          compute_block(kr, p, jc, pc, kc, Bp, i0, i1, j0, j1, Ap, kc);
        }
      });
    }
  }
}

// ---- few rows times a column-major B (batch-1 inference: x · Wᵀ with W [out, in] contiguous)
// Packing B (a transpose) would cost more than a product of ≤ 4 rows. Instead, 8×8 tiles of B
// are transposed in registers and used at once. Each output element still gets exactly the
// packed kernels' operations in the same order — a chain of FMAs over each KC block, stored
// then added — so a row's result does not depend on how many rows the call has.

constexpr int64_t kFewRows = 4;

bool few_rows_colmajor(const Problem& p) { return p.M <= kFewRows && p.sbk == 1 && p.sbn != 1; }

// Columns [j0, j1), plain C++: t = t + a·b per step, like kernel_generic (no FMA contraction).
void few_rows_generic(const Problem& p, int64_t kcb, int64_t j0, int64_t j1) {
  for (int64_t m = 0; m < p.M; m++)
    for (int64_t j = j0; j < j1; j++) {
      const float* b = p.B + j * p.sbn;
      float* c = p.C + m * p.N + j;
      for (int64_t pc = 0; pc < p.K; pc += kcb) {
        const int64_t kc = std::min(kcb, p.K - pc);
        float t = 0.0f;
        for (int64_t k = pc; k < pc + kc; k++) t += p.A[m * p.sam + k * p.sak] * b[k];
        if (pc == 0)
          *c = t;
        else
          *c += t;
      }
    }
}

#ifdef TG_X86_GNU
// v[kk] = B[k + kk][j .. j + 8] for kk < 8, from eight columns of B (each contiguous along k).
// The 128-bit halves are loaded straight into place (vinsertf128 from memory runs on any ALU
// port), so only two in-lane stages remain: 8 unpacks and 8 shuffles per 8×8 tile (measured
// better than 4 shuffles + 8 blends, and than the three-stage transpose in registers)
// (the shuffle port, not the FMAs, limits few-row products).
__attribute__((target("avx2"))) inline __m256 load_halves(const float* lo, const float* hi) {
  return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
}

__attribute__((target("avx2"))) inline void load_transposed(const float* s, int64_t sbn, __m256 v[8]) {
  const float* s4 = s + 4 * sbn;
  for (int h = 0; h < 2; h++) {
    const int64_t k = 4 * h;
    const __m256 a0 = load_halves(s + k, s4 + k), a1 = load_halves(s + sbn + k, s4 + sbn + k),
                 a2 = load_halves(s + 2 * sbn + k, s4 + 2 * sbn + k), a3 = load_halves(s + 3 * sbn + k, s4 + 3 * sbn + k);
    const __m256 t0 = _mm256_unpacklo_ps(a0, a1), t1 = _mm256_unpackhi_ps(a0, a1), t2 = _mm256_unpacklo_ps(a2, a3),
                 t3 = _mm256_unpackhi_ps(a2, a3);
    v[4 * h + 0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    v[4 * h + 1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    v[4 * h + 2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    v[4 * h + 3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  }
}

// R rows × CB blocks of 8 columns starting at jb: CB·R independent FMA chains hide the latency.
template <int R, int CB>
__attribute__((target("avx2,fma"))) void few_rows_block(const Problem& p, int64_t kcb, int64_t jb) {
  for (int64_t pc = 0; pc < p.K; pc += kcb) {
    const int64_t kc = std::min(kcb, p.K - pc), kend = pc + kc, k8 = pc + (kc & ~int64_t{7});
    __m256 acc[CB][R];
    for (int c = 0; c < CB; c++)
      for (int m = 0; m < R; m++) acc[c][m] = _mm256_setzero_ps();
    for (int64_t k = pc; k < k8; k += 8) {
      __m256 a[R][8];
      for (int m = 0; m < R; m++)
        for (int kk = 0; kk < 8; kk++) a[m][kk] = _mm256_set1_ps(p.A[m * p.sam + (k + kk) * p.sak]);
      for (int c = 0; c < CB; c++) {
        __m256 v[8];
        load_transposed(p.B + (jb + 8 * c) * p.sbn + k, p.sbn, v);
        for (int kk = 0; kk < 8; kk++)
          for (int m = 0; m < R; m++) acc[c][m] = _mm256_fmadd_ps(a[m][kk], v[kk], acc[c][m]);
      }
    }
    for (int64_t k = k8; k < kend; k++)
      for (int c = 0; c < CB; c++) {
        const float* s = p.B + (jb + 8 * c) * p.sbn + k;
        const __m256 v = _mm256_set_ps(s[7 * p.sbn], s[6 * p.sbn], s[5 * p.sbn], s[4 * p.sbn], s[3 * p.sbn], s[2 * p.sbn], s[p.sbn], s[0]);
        for (int m = 0; m < R; m++) acc[c][m] = _mm256_fmadd_ps(_mm256_set1_ps(p.A[m * p.sam + k * p.sak]), v, acc[c][m]);
      }
    for (int c = 0; c < CB; c++)
      for (int m = 0; m < R; m++) {
        float* out = p.C + m * p.N + jb + 8 * c;
        _mm256_storeu_ps(out, pc == 0 ? acc[c][m] : _mm256_add_ps(acc[c][m], _mm256_loadu_ps(out)));
      }
  }
}

template <int R>
__attribute__((target("avx2,fma"))) void few_rows_avx2(const Problem& p, int64_t kcb, int64_t j0, int64_t j1) {
  constexpr int CB = R <= 2 ? 4 : 2;
  int64_t jb = j0;
  for (; jb + 8 * CB <= j1; jb += 8 * CB) few_rows_block<R, CB>(p, kcb, jb);
  for (; jb + 8 <= j1; jb += 8) few_rows_block<R, 1>(p, kcb, jb);
  // the last < 8 columns, one element at a time (the same FMA chain)
  for (int64_t j = jb; j < j1; j++) {
    const float* b = p.B + j * p.sbn;
    for (int m = 0; m < R; m++) {
      float* c = p.C + m * p.N + j;
      for (int64_t pc = 0; pc < p.K; pc += kcb) {
        const int64_t kc = std::min(kcb, p.K - pc);
        float t = 0.0f;
        for (int64_t k = pc; k < pc + kc; k++) t = std::fma(p.A[m * p.sam + k * p.sak], b[k], t);
        *c = pc == 0 ? t : *c + t;
      }
    }
  }
}
#endif

// Columns [j0, j1) of a few-rows product with the selected kernel's arithmetic.
void few_rows(const Kernel& kr, const Problem& p, int64_t j0, int64_t j1) {
#ifdef TG_X86_GNU
  if (kr.run != kernel_generic) {
    switch (p.M) {
      case 1: return few_rows_avx2<1>(p, kr.kc, j0, j1);
      case 2: return few_rows_avx2<2>(p, kr.kc, j0, j1);
      case 3: return few_rows_avx2<3>(p, kr.kc, j0, j1);
      default: return few_rows_avx2<4>(p, kr.kc, j0, j1);
    }
  }
#endif
  few_rows_generic(p, kr.kc, j0, j1);
}

// One product on the calling thread, by the cheaper path for its shape.
void gemm_one(const Kernel& kr, const Problem& p) {
  if (few_rows_colmajor(p))
    few_rows(kr, p, 0, p.N);
  else
    gemm_serial(kr, p);
}

// A few-rows product on up to T threads: ranges of columns claimed from a counter.
void few_rows_parallel(const Kernel& kr, const Problem& p, int T) {
  const int64_t chunk = (std::max<int64_t>(32, (p.N + 4 * T - 1) / (4 * T)) + 7) & ~int64_t{7};
  const int64_t chunks = (p.N + chunk - 1) / chunk;
  std::atomic<int64_t> next{0};
  parallel_run(T, [&] {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) few_rows(kr, p, c * chunk, std::min(p.N, (c + 1) * chunk));
  });
}


std::mutex& call_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void sgemm_serial(int64_t M, int64_t N, int64_t K, const float* a, int64_t sam, int64_t sak, const float* b, int64_t sbk,
                  int64_t sbn, float* c, int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t i = 0; i < M; i++) std::memset(c + i * ldc, 0, static_cast<size_t>(N) * sizeof(float));
    return;
  }
  gemm_serial(kKernels[selected_kernel()], Problem{M, N, K, a, sam, sak, b, sbk, sbn, c, ldc, accumulate});
}

void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* a, int64_t sam, int64_t sak, const float* bp, float* c,
                  int64_t ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return sgemm_serial(M, N, 0, a, sam, sak, bp, 0, 0, c, ldc, accumulate);
  const Kernel& kr = kKernels[selected_kernel()];
  const Problem p{M, N, K, a, sam, sak, nullptr, 0, 0, c, ldc, accumulate};
  float* Ap = thread_a().get(kr.mc * kr.kc);
  // gemm_serial's K blocks over B already in panels; the caller keeps B small enough for L2
  for (int64_t pc = 0; pc < K; pc += kr.kc) compute_block(kr, p, 0, pc, std::min(kr.kc, K - pc), bp + pc * kr.nr, 0, M, 0, N, Ap, K);
}

void sgemm_tile(int* mr, int* nr) {
  const Kernel& kr = kKernels[selected_kernel()];
  *mr = kr.mr;
  *nr = kr.nr;
}

const char* sgemm_kernel_name() { return kKernels[selected_kernel()].name; }

std::vector<std::string> sgemm_kernels() {
  std::vector<std::string> out;
  for (const Kernel& k : kKernels)
    if (k.supported()) out.emplace_back(k.name);
  return out;
}

bool sgemm_set_kernel(const std::string& name) {
  std::lock_guard<std::mutex> lk(call_mutex());
  if (name == "auto") {
    selected_kernel() = fastest_kernel();
    return true;
  }
  for (int i = 0; i < kNumKernels; i++)
    if (name == kKernels[i].name && kKernels[i].supported()) {
      selected_kernel() = i;
      return true;
    }
  return false;
}

void sgemm(const SgemmArgs& g) {
  std::lock_guard<std::mutex> lk(call_mutex());
  const Kernel& kr = kKernels[selected_kernel()];
  if (g.batch <= 0 || g.M <= 0 || g.N <= 0) return;
  auto problem = [&](int64_t b) {
    return Problem{g.M, g.N, g.K, g.a + b * g.sab, g.sam, g.sak, g.b + b * g.sbb, g.sbk, g.sbn, g.c + b * g.M * g.N, g.N, false};
  };
  if (g.K == 0) {
    std::memset(g.c, 0, static_cast<size_t>(g.batch * g.M * g.N) * sizeof(float));
    return;
  }
  const double per_matrix = static_cast<double>(g.M) * g.N * g.K;
  const int T = static_cast<int>(std::min<double>(num_threads(), std::max(1.0, g.batch * per_matrix / kMinWorkPerThread)));
  if (T <= 1) {
    for (int64_t b = 0; b < g.batch; b++) gemm_one(kr, problem(b));
    return;
  }
  const bool whole_matrices = g.batch > 1 && (g.batch % T == 0 || g.batch >= 4 * T || per_matrix < 2 * kMinWorkPerThread);
  if (whole_matrices) {
    std::atomic<int64_t> next{0};
    parallel_run(T, [&] {
      for (int64_t b; (b = next.fetch_add(1, std::memory_order_relaxed)) < g.batch;) gemm_one(kr, problem(b));
    });
    return;
  }
  for (int64_t b = 0; b < g.batch; b++) {
    const Problem p = problem(b);
    if (few_rows_colmajor(p))
      few_rows_parallel(kr, p, T);
    else
      gemm_parallel(kr, p, T);
  }
}

}  // namespace tg

// ---------------------------------------------------------------- pre-packed linear layers
// A frozen model (tg.jit.freeze) packs each weight W [N, K] once into the selected kernel's B
// slivers over the whole depth: sliver s holds W(s·NR + j, k) at s·NR·K + k·NR + j (zero past N),
// so block pc of a sliver is the panel pack_b would build, at + pc·NR. Products then skip packing
// B: ≤ kFewRows rows stream the slivers in order (gemv), more rows run the micro-kernels on them.
// Every output element still gets sgemm's operations in sgemm's order (one multiply-add chain per
// KC block from zero, blocks added in order; FMA unless the generic kernel is selected), then
// bias_relu_f32's add and relu, so a frozen layer is bit-identical to the ordinary one for any
// row count and any thread count.
namespace tg {
namespace {

constexpr uint32_t kPackedMagic = 0x4b503754;  // "T7PK"
constexpr int64_t kHeaderBytes = 64;

struct PackedHeader {
  uint32_t magic;
  int32_t nr;
  int32_t pad;  // floats between the header and the 64-byte aligned slivers
  int32_t unused;
  int64_t N, K;
};

int aligned_pad(const void* packed) {
  const auto addr = reinterpret_cast<uintptr_t>(packed) + kHeaderBytes;
  return static_cast<int>(((64 - (addr & 63)) & 63) / 4);
}

// The slivers, 64-byte aligned. V8 does not move an ArrayBuffer's memory, but should the buffer
// ever sit at another alignment than when it was packed, the slivers move to the new position.
float* packed_slivers(void* packed) {
  auto* h = static_cast<PackedHeader*>(packed);
  float* base = reinterpret_cast<float*>(static_cast<char*>(packed) + kHeaderBytes);
  const int pad = aligned_pad(packed);
  if (pad != h->pad) {
    const int64_t n = (h->N + h->nr - 1) / h->nr * h->nr * h->K;
    std::memmove(base + pad, base + h->pad, static_cast<size_t>(n) * sizeof(float));
    h->pad = pad;
  }
  return base + pad;
}

struct PackedProblem {
  int64_t M, N, K;
  const float* A;
  int64_t sam, sak;
  const float* Bp;  // slivers
  int nr;
  const float* bias;
  int64_t sbias;
  bool relu;
  float* C;  // [M, N]
};

// bias_relu_f32's operations on C[m, j0:j1): + bias, then relu (NaN kept, −0 → +0).
void packed_epilogue(const PackedProblem& p, int64_t m0, int64_t m1, int64_t j0, int64_t j1) {
  if (p.bias == nullptr && !p.relu) return;
  for (int64_t m = m0; m < m1; m++) bias_relu_row(p.C + m * p.N, j0, j1, p.bias, p.sbias, p.relu);
}

// A gemv's finished tile (R rows of `width` floats, or whatever of them is left of C's N columns
// from column j0) into C; zeros when K is 0 (then no K block wrote the tile).
void store_gemv_tile(const PackedProblem& p, int R, const float* tile, int64_t width, int64_t j0) {
  const int64_t jn = std::min<int64_t>(width, p.N - j0);
  for (int m = 0; m < R; m++) {
    float* out = p.C + m * p.N + j0;
    if (p.K == 0)
      std::fill(out, out + jn, 0.0f);
    else
      std::memcpy(out, tile + m * width, static_cast<size_t>(jn) * sizeof(float));
  }
}

// Slivers [s0, s1) of a ≤ kFewRows-row product in plain C++: t = t + a·b (kernel_generic's order).
void gemv_packed_generic(const PackedProblem& p, int64_t kcb, int64_t s0, int64_t s1) {
  const int nr = p.nr;
  for (int64_t s = s0; s < s1; s++) {
    const int64_t jn = std::min<int64_t>(nr, p.N - s * nr);
    for (int64_t m = 0; m < p.M; m++) {
      float t[NR_MAX], c[NR_MAX];
      for (int64_t pc = 0; pc < p.K; pc += kcb) {
        const int64_t kend = std::min(p.K, pc + kcb);
        for (int j = 0; j < nr; j++) t[j] = 0.0f;
        const float* b = p.Bp + s * nr * p.K + pc * nr;
        for (int64_t k = pc; k < kend; k++, b += nr) {
          const float a = p.A[m * p.sam + k * p.sak];
          for (int j = 0; j < nr; j++) t[j] += a * b[j];
        }
        for (int j = 0; j < nr; j++) c[j] = pc == 0 ? t[j] : c[j] + t[j];
      }
      float* out = p.C + m * p.N + s * nr;
      for (int64_t j = 0; j < jn; j++) out[j] = p.K == 0 ? 0.0f : c[j];
    }
  }
}

#ifdef TG_X86_GNU
// R rows × S slivers of NR columns from sliver s: R·S·NR/16 independent FMA chains, each sliver
// one sequential stream. Block sums go through a tile in memory (once per KC block).
template <int R, int S, int NR>
__attribute__((target("avx512f"))) void gemv512_block(const PackedProblem& p, int64_t kcb, int64_t s) {
  constexpr int V = NR / 16;
  alignas(64) float tile[R][S * NR];
  for (int64_t pc = 0; pc < p.K; pc += kcb) {
    const int64_t kend = std::min(p.K, pc + kcb);
    __m512 acc[R][S][V];
    for (int m = 0; m < R; m++)
      for (int q = 0; q < S; q++)
        for (int v = 0; v < V; v++) acc[m][q][v] = _mm512_setzero_ps();
    const float* b = p.Bp + s * NR * p.K + pc * NR;
    for (int64_t k = pc; k < kend; k++, b += NR) {
      __m512 a[R];
      for (int m = 0; m < R; m++) a[m] = _mm512_set1_ps(p.A[m * p.sam + k * p.sak]);
      for (int q = 0; q < S; q++)
        for (int v = 0; v < V; v++) {
          const __m512 bv = _mm512_load_ps(b + q * NR * p.K + 16 * v);
          for (int m = 0; m < R; m++) acc[m][q][v] = _mm512_fmadd_ps(a[m], bv, acc[m][q][v]);
        }
    }
    for (int m = 0; m < R; m++)
      for (int q = 0; q < S; q++)
        for (int v = 0; v < V; v++) {
          float* t = &tile[m][q * NR + 16 * v];
          _mm512_store_ps(t, pc == 0 ? acc[m][q][v] : _mm512_add_ps(acc[m][q][v], _mm512_load_ps(t)));
        }
  }
  store_gemv_tile(p, R, tile[0], S * NR, s * NR);
}

// The same with 8-lane vectors (an AVX2 CPU, or slivers packed for another kernel).
template <int R, int S, int NR>
__attribute__((target("avx2,fma"))) void gemv256_block(const PackedProblem& p, int64_t kcb, int64_t s) {
  constexpr int V = NR / 8;
  alignas(64) float tile[R][S * NR];
  for (int64_t pc = 0; pc < p.K; pc += kcb) {
    const int64_t kend = std::min(p.K, pc + kcb);
    __m256 acc[R][S][V];
    for (int m = 0; m < R; m++)
      for (int q = 0; q < S; q++)
        for (int v = 0; v < V; v++) acc[m][q][v] = _mm256_setzero_ps();
    const float* b = p.Bp + s * NR * p.K + pc * NR;
    for (int64_t k = pc; k < kend; k++, b += NR) {
      __m256 a[R];
      for (int m = 0; m < R; m++) a[m] = _mm256_broadcast_ss(p.A + m * p.sam + k * p.sak);
      for (int q = 0; q < S; q++)
        for (int v = 0; v < V; v++) {
          const __m256 bv = _mm256_load_ps(b + q * NR * p.K + 8 * v);
          for (int m = 0; m < R; m++) acc[m][q][v] = _mm256_fmadd_ps(a[m], bv, acc[m][q][v]);
        }
    }
    for (int m = 0; m < R; m++)
      for (int q = 0; q < S; q++)
        for (int v = 0; v < V; v++) {
          float* t = &tile[m][q * NR + 8 * v];
          _mm256_store_ps(t, pc == 0 ? acc[m][q][v] : _mm256_add_ps(acc[m][q][v], _mm256_load_ps(t)));
        }
  }
  store_gemv_tile(p, R, tile[0], S * NR, s * NR);
}

// Slivers [s0, s1): groups of S, then the rest one at a time. S·(NR/lanes)·R ≈ 8 chains hide
// the FMA latency without running out of registers.
template <int R, int NR, bool W512>
void gemv_rows(const PackedProblem& p, int64_t kcb, int64_t s0, int64_t s1) {
  constexpr int lanes = W512 ? 16 : 8;
  constexpr int S = std::max(1, 8 / (R * (NR / lanes)));
  int64_t s = s0;
  for (; s + S <= s1; s += S) {
    if constexpr (W512)
      gemv512_block<R, S, NR>(p, kcb, s);
    else
      gemv256_block<R, S, NR>(p, kcb, s);
  }
  constexpr int S2 = S / 2 > 1 ? S / 2 : 1;
  for (; S2 > 1 && s + S2 <= s1; s += S2) {
    if constexpr (W512)
      gemv512_block<R, S2, NR>(p, kcb, s);
    else
      gemv256_block<R, S2, NR>(p, kcb, s);
  }
  for (; s < s1; s++) {
    if constexpr (W512)
      gemv512_block<R, 1, NR>(p, kcb, s);
    else
      gemv256_block<R, 1, NR>(p, kcb, s);
  }
}

template <int NR, bool W512>
void gemv_simd(const PackedProblem& p, int64_t kcb, int64_t s0, int64_t s1) {
  switch (p.M) {
    case 1: return gemv_rows<1, NR, W512>(p, kcb, s0, s1);
    case 2: return gemv_rows<2, NR, W512>(p, kcb, s0, s1);
    case 3: return gemv_rows<3, NR, W512>(p, kcb, s0, s1);
    default: return gemv_rows<4, NR, W512>(p, kcb, s0, s1);
  }
}
#endif

// Slivers [s0, s1) of a ≤ kFewRows-row product with the selected kernel's arithmetic.
void gemv_packed(const Kernel& kr, const PackedProblem& p, int64_t s0, int64_t s1) {
#ifdef TG_X86_GNU
  if (kr.run != kernel_generic && (p.nr == 16 || p.nr == 32)) {
    if (p.nr == 32 && has_avx512()) return gemv_simd<32, true>(p, kr.kc, s0, s1);
    if (p.nr == 32) return gemv_simd<32, false>(p, kr.kc, s0, s1);
    if (has_avx512()) return gemv_simd<16, true>(p, kr.kc, s0, s1);
    return gemv_simd<16, false>(p, kr.kc, s0, s1);
  }
#endif
  gemv_packed_generic(p, kr.kc, s0, s1);
}

// Rows [i0, i1) × slivers [s0, s1) with the micro-kernel (its NR is the slivers' NR) on the
// pre-packed B: pack_a per KC block, as compute_block does.
void gemm_packed_block(const Kernel& kr, const PackedProblem& p, int64_t i0, int64_t i1, int64_t s0, int64_t s1, float* Ap) {
  for (int64_t ic = i0; ic < i1; ic += kr.mc) {
    const int64_t mc = std::min(kr.mc, i1 - ic);
    for (int64_t pc = 0; pc < p.K; pc += kr.kc) {
      const int64_t kc = std::min(kr.kc, p.K - pc);
      kr.pack_a(p.A + ic * p.sam + pc * p.sak, p.sam, p.sak, mc, kc, Ap);
      for (int64_t s = s0; s < s1; s++) {
        const int nr = static_cast<int>(std::min<int64_t>(kr.nr, p.N - s * kr.nr));
        for (int64_t ir = 0; ir < mc; ir += kr.mr) {
          const int mr = static_cast<int>(std::min<int64_t>(kr.mr, mc - ir));
          kr.run(kc, Ap + ir * kc, p.Bp + s * kr.nr * p.K + pc * kr.nr, p.C + (ic + ir) * p.N + s * kr.nr, p.N, pc > 0, mr, nr);
        }
      }
    }
  }
}

// Rows [i0, i1) × slivers [s0, s1) by the right path, epilogue included.
void linear_packed_task(const Kernel& kr, const PackedProblem& p, int64_t i0, int64_t i1, int64_t s0, int64_t s1) {
  const int64_t j0 = s0 * p.nr, j1 = std::min(p.N, s1 * p.nr);
  if (p.K == 0) {
    for (int64_t m = i0; m < i1; m++) std::fill(p.C + m * p.N + j0, p.C + m * p.N + j1, 0.0f);
  } else if (p.nr == kr.nr && i1 - i0 > kFewRows) {
    gemm_packed_block(kr, p, i0, i1, s0, s1, thread_a().get(kr.mc * kr.kc));
  } else {
    // slivers packed for another kernel (setKernel after freezing) take the gemv, 4 rows at a time
    for (int64_t m = i0; m < i1; m += kFewRows) {
      PackedProblem q = p;
      q.M = std::min(kFewRows, i1 - m);
      q.A = p.A + m * p.sam;
      q.C = p.C + m * p.N;
      gemv_packed(kr, q, s0, s1);
    }
  }
  packed_epilogue(p, i0, i1, j0, j1);
}

}  // namespace

int64_t linear_packed_bytes(int64_t N, int64_t K) {
  // room for the widest slivers, whichever kernel linear_pack then finds selected
  return kHeaderBytes + 64 + (N + NR_MAX - 1) / NR_MAX * NR_MAX * K * static_cast<int64_t>(sizeof(float));
}

void linear_pack(int64_t N, int64_t K, const float* w, int64_t swn, int64_t swk, void* dst) {
  const int nr = kKernels[selected_kernel()].nr;
  auto* h = static_cast<PackedHeader*>(dst);
  *h = PackedHeader{kPackedMagic, nr, aligned_pad(dst), 0, N, K};
  float* bp = packed_slivers(dst);
  for (int64_t s = 0; s * nr < N; s++) {
    float* sliver = bp + s * nr * K;
    for (int j = 0; j < nr; j++) {
      const int64_t n = s * nr + j;
      for (int64_t k = 0; k < K; k++) sliver[k * nr + j] = n < N ? w[n * swn + k * swk] : 0.0f;
    }
  }
}

bool linear_packed_shape(const void* packed, int64_t bytes, int64_t* N, int64_t* K) {
  if (bytes < kHeaderBytes + 64) return false;
  const auto* h = static_cast<const PackedHeader*>(packed);
  if (h->magic != kPackedMagic || (h->nr != 16 && h->nr != 32) || h->N < 0 || h->K < 0) return false;
  if (bytes < kHeaderBytes + 64 + (h->N + h->nr - 1) / h->nr * h->nr * h->K * static_cast<int64_t>(sizeof(float))) return false;
  *N = h->N;
  *K = h->K;
  return true;
}

void linear_packed(int64_t M, const float* a, int64_t sam, int64_t sak, void* packed, const float* bias, int64_t sbias, bool relu,
                   float* c) {
  std::lock_guard<std::mutex> lk(call_mutex());
  const Kernel& kr = kKernels[selected_kernel()];
  const auto* h = static_cast<const PackedHeader*>(packed);
  const PackedProblem p{M, h->N, h->K, a, sam, sak, packed_slivers(packed), h->nr, bias, sbias, relu, c};
  if (M <= 0 || p.N <= 0) return;
  const int64_t slivers = (p.N + p.nr - 1) / p.nr;
  const double work = static_cast<double>(M) * p.N * std::max<int64_t>(p.K, 1);
  const int T = static_cast<int>(std::min<double>({static_cast<double>(num_threads()), std::max(1.0, work / kMinWorkPerThread),
                                                   static_cast<double>(slivers * ((M + kr.mc - 1) / kr.mc))}));
  if (T <= 1) return linear_packed_task(kr, p, 0, M, 0, slivers);
  // tasks: row blocks × sliver chunks, about four per thread, claimed from a counter
  const int64_t row_tasks = M <= kFewRows ? 1 : (M + kr.mc - 1) / kr.mc;
  const int64_t rows_per_task = M <= kFewRows ? M : round_up((M + row_tasks - 1) / row_tasks, kr.mr);
  // a few-row chunk keeps at least 4 slivers: the gemv interleaves that many streams
  const int64_t max_chunks = M <= kFewRows ? std::max<int64_t>(1, slivers / 4) : slivers;
  const int64_t col_chunks = std::clamp<int64_t>((4 * T + row_tasks - 1) / row_tasks, 1, max_chunks);
  const int64_t per_chunk = (slivers + col_chunks - 1) / col_chunks;
  const int64_t chunks = (slivers + per_chunk - 1) / per_chunk;
  const int64_t tasks = row_tasks * chunks;
  std::atomic<int64_t> next{0};
  parallel_run(T, [&] {
    for (int64_t t; (t = next.fetch_add(1, std::memory_order_relaxed)) < tasks;) {
      const int64_t r = t / chunks, cc = t % chunks;
      const int64_t s0 = cc * per_chunk;
      linear_packed_task(kr, p, r * rows_per_task, std::min(M, (r + 1) * rows_per_task), s0, std::min(slivers, s0 + per_chunk));
    }
  });
}

}  // namespace tg

namespace tg {

void linear_backward_f32(const LinearBackwardArgs& a, float* dx, float* dw, float* db) {
  const int64_t M = a.M, N = a.N, K = a.K;
  const float* gy = a.g;
  int64_t sgm = a.sg[0], sgn = a.sg[1];
  std::vector<float> masked;
  if (a.y != nullptr) {
    // the reluBackward kernel's bits, into a contiguous g' the products and the sum read
    masked.resize(static_cast<size_t>(M * N));
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) masked[i * N + j] = relu_grad_f32(a.g[i * a.sg[0] + j * a.sg[1]], a.y[i * a.sy[0] + j * a.sy[1]]);
    gy = masked.data();
    sgm = N, sgn = 1;
  }
  // the composite's matmuls g'·w and g'ᵀ·x: sgemm's per-element operations do not depend on layout
  if (dx != nullptr && M * K > 0) sgemm(SgemmArgs{1, M, K, N, gy, 0, sgm, sgn, a.w, 0, a.sw[0], a.sw[1], dx});
  if (dw != nullptr && N * K > 0) sgemm(SgemmArgs{1, N, K, M, gy, 0, sgn, sgm, a.x, 0, a.sx[0], a.sx[1], dw});
  if (db != nullptr) {
    // sum(0) as reduce_f32: each column in row order, in double, rounded once
    std::vector<double> s(static_cast<size_t>(N), 0.0);
    for (int64_t i = 0; i < M; i++)
      for (int64_t j = 0; j < N; j++) s[j] += gy[i * sgm + j * sgn];
    for (int64_t j = 0; j < N; j++) db[j] = static_cast<float>(s[j]);
  }
}

}  // namespace tg
