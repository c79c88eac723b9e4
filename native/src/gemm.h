// Single-precision batched matrix product over strided views (see gemm.cc).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace tg {

// One [M,K]·[K,N] problem per batch: A(p,i,k) = a[p*sab + i*sam + k*sak], likewise B; C is
// contiguous [batch, M, N] and fully overwritten. Strides may be anything (transposed, broadcast 0,
// negative). Calls from several threads at once are serialized.
struct SgemmArgs {
  int64_t batch, M, N, K;
  const float* a;
  int64_t sab, sam, sak;
  const float* b;
  int64_t sbb, sbk, sbn;
  float* c;
};

void sgemm(const SgemmArgs& args);

// One product on the calling thread: C[i·ldc + j] = (accumulate ? C[i·ldc + j] : 0) + Σ_k A(i,k)·B(k,j),
// with A(i,k) = a[i*sam + k*sak] and B(k,j) = b[k*sbk + j*sbn]. It takes no lock and packs into the
// calling thread's own buffers, so pool workers may run several at once (conv.cc: one sample
// each). Every element gets the packed path's operations, whatever thread runs it.
void sgemm_serial(int64_t M, int64_t N, int64_t K, const float* a, int64_t sam, int64_t sak, const float* b, int64_t sbk,
                  int64_t sbn, float* c, int64_t ldc, bool accumulate);
// sgemm_serial with B already packed by the caller: column j's sliver (the NR columns from
// j − j mod NR, NR = sgemm_tile's nr) holds B(k, ·) at bp[(j − j mod NR)·K + k·NR + j mod NR], zero
// past N; bp 64-byte aligned. The same operations per element as sgemm_serial.
void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* a, int64_t sam, int64_t sak, const float* bp, float* c,
                  int64_t ldc, bool accumulate);
// The register tile (rows, columns) of the micro-kernel in use: a product's cost in padded tiles.
void sgemm_tile(int* mr, int* nr);

// The micro-kernel in use: "avx512", "avx2+fma" or "generic".
const char* sgemm_kernel_name();
// The micro-kernels this CPU can run, fastest first.
std::vector<std::string> sgemm_kernels();
// Selects a micro-kernel by name ("auto" = the fastest this CPU runs); false if it cannot run here.
bool sgemm_set_kernel(const std::string& name);

// ---- pre-packed linear layers (tg.jit.freeze): W [N, K] packed once into the selected kernel's
// B slivers, then y = x·Wᵀ + bias (then relu) per call without packing W again.
// Bytes a packed W [N, K] takes (header, alignment slack and slivers).
int64_t linear_packed_bytes(int64_t N, int64_t K);
// Packs W(n, k) = w[n*swn + k*swk] into dst (linear_packed_bytes(N, K) bytes, 4-byte aligned).
void linear_pack(int64_t N, int64_t K, const float* w, int64_t swn, int64_t swk, void* dst);
// N and K of a packed W, or false when `bytes` bytes at `packed` do not hold one.
bool linear_packed_shape(const void* packed, int64_t bytes, int64_t* N, int64_t* K);
// C [M, N] (contiguous) = A·Wᵀ, then + bias[j*sbias] (unless null), then relu; A(i,k) = a[i*sam + k*sak].
// Bit-identical to sgemm followed by bias_relu_f32, for any M and thread count.
void linear_packed(int64_t M, const float* a, int64_t sam, int64_t sak, void* packed, const float* bias, int64_t sbias, bool relu,
                   float* c);

// ---- the fused linear layer's gradients from g [M, N] (x [M, K], w [N, K]; any strides): g' = g
// masked by relu's gradient when y (the relu'd output [M, N]) is not null, dx [M, K] = g'·w,
// dw [N, K] = g'ᵀ·x, db [N] = Σ_rows g' (each skipped when null) — the reluBackward, matmul and
// reduce kernels' bits.
struct LinearBackwardArgs {
  int64_t M, N, K;
  const float* g;
  int64_t sg[2];
  const float* x;
  int64_t sx[2];
  const float* w;
  int64_t sw[2];
  const float* y;
  int64_t sy[2];
};
void linear_backward_f32(const LinearBackwardArgs& a, float* dx, float* dw, float* db);

}  // namespace tg
