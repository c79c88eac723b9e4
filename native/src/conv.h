// Fused float32 2-D convolution (groups 1) and its two gradients, one sample's columns at a time
// (see conv.cc).
#pragma once
#include <cstdint>

#include "elementwise.h"

namespace tg {

// Shapes, window and views of one convolution: x [N, C, H, W], w [O, C, kh, kw], g (the output's
// gradient) [N, O, Ho, Wo], bias [O]. Pointers are offset to the first element; strides are in
// elements and may be anything (transposed, negative). Views a call does not read may be null.
struct ConvArgs {
  int64_t N, C, H, W, O;
  Window win;  // win.ho, win.wo: the output size
  const float* x;
  int64_t sx[4];
  const float* w;
  int64_t sw[4];
  const float* g;
  int64_t sg[4];
  const float* bias;  // null: no bias
  int64_t sbias;
  // backward only, may be null: the convolution's relu'd output y [N, O, Ho, Wo]; g is then read
  // masked by relu's gradient (g where y > 0, else g·0: the reluBackward kernel's bits)
  const float* y = nullptr;
  int64_t sy[4] = {0, 0, 0, 0};
  // backward of conv2dReluMaxPool, may be null: the forward's int32 argmax indices idx [N, O, hp, wp]
  // (strides si; each within its Ho·Wo plane); g is then the pooled gradient and y the pooled
  // values, both [N, O, hp, wp], and the gradient is the unfused chain's: maxPool2dBackward's
  // zeros and 0 + g at each argmax, masked by relu's gradient of 0 + the pooled value there
  const int32_t* idx = nullptr;
  int64_t si[4] = {0, 0, 0, 0};
  int64_t hp = 0, wp = 0;
  // conv2d only: relu after the bias (exactly the relu kernel's result, NaN kept, −0 → +0)
  bool relu = false;
  // Set by the kernels themselves: whether their AVX-512 paths run (the CPU has it and the
  // avx512 gemm micro-kernel is selected, so selecting another one tests the portable code).
  bool avx512 = false;
};

// out [N, O, Ho, Wo] (contiguous, may be uninitialised) = w · columns(x) per sample, + bias, then relu when a.relu.
void conv2d_f32(const ConvArgs& a, float* out);
// maxPool2d(relu(conv2d)) for a non-overlapping pool (kernel ph × pw = its stride, no padding)
// with output [hp, wp]: values and int32 plane indices [N, O, hp, wp] exactly as conv2d_f32 then
// maxpool2d_f32 give them, the conv output pooled per block of pool rows in scratch.
void conv2d_relu_maxpool_f32(const ConvArgs& a, int64_t ph, int64_t pw, int64_t hp, int64_t wp, float* values, int32_t* indices);
// dx [N, C, H, W] (contiguous, may be uninitialised) = col2im(wᵀ · g) per sample.
void conv2d_backward_input_f32(const ConvArgs& a, float* dx);
// dw [O, C, kh, kw] = Σ_n g_n · columns(x_n)ᵀ; db [O] = g summed over N, Ho, Wo (when db is not null).
// Samples (and blocks of a large image's positions) are summed in chunks fixed by the shapes,
// whose partial sums are added in a fixed order, so the result is the same for any thread count.
void conv2d_backward_weight_f32(const ConvArgs& a, float* dw, float* db);

}  // namespace tg
