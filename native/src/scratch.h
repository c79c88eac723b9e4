// Growable 64-byte aligned float buffers that kernels keep between calls (packing panels, a
// sample's columns), and the work below which a second thread costs more than it saves.
#pragma once
#include <cstdint>
#include <cstdlib>

namespace tg {

// Multiply-adds below which a second thread costs more than it saves.
constexpr double kMinWorkPerThread = 48.0 * 48.0 * 48.0;

// A 64-byte aligned (a cache line) float buffer that grows to the largest size asked and stays.
struct ScratchBuffer {
  float* p = nullptr;
  int64_t cap = 0;
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  ~ScratchBuffer() { std::free(p); }
  float* get(int64_t n) {
    if (n > cap) {
      std::free(p);
      const size_t bytes = ((static_cast<size_t>(n) * sizeof(float) + 63) / 64) * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      cap = n;
    }
    return p;
  }
};

}  // namespace tg
