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

// The micro-kernel in use: "avx512", "avx2+fma" or "generic".
const char* sgemm_kernel_name();
// The micro-kernels this CPU can run, fastest first.
std::vector<std::string> sgemm_kernels();
// Selects a micro-kernel by name ("auto" = the fastest this CPU runs); false if it cannot run here.
bool sgemm_set_kernel(const std::string& name);

}  // namespace tg
