// Float32 elementwise and window kernels over strided views (see elementwise.cc).
#pragma once
#include <cstdint>
#include <cstring>

namespace tg {

constexpr int kMaxDims = 16;

// Relu and its gradient select by bit masks: a relu's signs are random, so a branch mispredicts
// half the time, and GCC will not vectorize a float select (it could trap) but does this.
inline uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline float float_of(uint32_t b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
// relu: x when x > 0 or NaN, else +0
inline float relu_f32(float x) { return float_of(bits_of(x) & -static_cast<uint32_t>((x > 0) | (x != x))); }
// relu's gradient g·(y > 0 ? 1 : 0): g where y > 0, else g·0 (±0, or NaN for an infinite or NaN g)
inline float relu_grad_f32(float g, float y) {
  const uint32_t m = -static_cast<uint32_t>(y > 0);
  return float_of((bits_of(g) & m) | (bits_of(g * 0.0f) & ~m));
}

// A strided view of float32 (or uint8 for conditions) storage, already offset to its first element.
struct View {
  int nd;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
};

// Binary ops in the front end's order: add sub mul div maximum minimum eq ne gt ge lt le, then
// reluGrad (a · (b > 0 ? 1 : 0): relu's gradient g given its output y, float32 out).
enum BinaryOp { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kEq, kNe, kGt, kGe, kLt, kLe, kReluGrad, kNumBinary };
// Unary ops computed exactly as the js reference does (IEEE-exact): neg abs relu sqrt rsqrt sign.
enum UnaryOp { kNeg, kAbs, kRelu, kSqrt, kRsqrt, kSign, kNumUnary };

// out (contiguous, float32 or uint8 for comparisons) = a op b, both broadcast to `shape` (strides 0).
void binary_f32(int op, const float* a, const int64_t* sa, const float* b, const int64_t* sb, int nd,
                const int64_t* shape, void* out);
void unary_f32(int op, const float* x, const int64_t* sx, int nd, const int64_t* shape, float* out);
// The fused linear layer's epilogue on c [rows, N]: c + bias[j·bias_stride] (bias may be null), then
// relu when asked — exactly the binary add and unary relu kernels' operations.
void bias_relu_f32(float* c, int64_t rows, int64_t N, const float* bias, int64_t bias_stride, bool relu);
// The same on one row's columns [j0, j1), on the calling thread.
void bias_relu_row(float* row, int64_t j0, int64_t j1, const float* bias, int64_t bias_stride, bool relu);
// One Adam/AdamW step in place over n float32 elements (vmax null unless AMSGrad), in float32
// with exactly optim/adam.ts's adamFloat32 operations; h = [β₁, β₂, stepSize, √(1−β₂ᵗ), ε, l2,
// decay, decoupled, sign].
void adam_f32(float* w, const float* g, float* m, float* v, float* vmax, int64_t n, const double* h);
// Contiguous copy of a float32 view.
void copy_f32(const float* x, const int64_t* sx, int nd, const int64_t* shape, float* out);
// Contiguous float32 copy of a bool (uint8) view: 0 or 1.
void copy_u8_f32(const uint8_t* x, const int64_t* sx, int nd, const int64_t* shape, float* out);

// Window geometry as in src/backend/backend.ts (Window2d).
struct Window {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;
};
// x [N, C, H, W] (strides sx) → columns [N, C·kh·kw, Ho·Wo], zero outside x (out may be uninitialised).
void im2col_f32(const float* x, const int64_t* sx, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                float* out);
// columns [N, C·kh·kw, Ho·Wo] (strides sc) summed into [N, C, H, W] (zeroed here: out may be uninitialised).
void col2im_f32(const float* cols, const int64_t* sc, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                float* out);

}  // namespace tg

namespace tg {

// Reductions in the js reference's order and precision (sums in double, rounded once).
enum ReduceOp { kSum, kMax, kMin, kArgmax, kArgmin, kNumReduce };
// x offset-applied; kept/red: shapes and strides of the kept (output, row-major) and reduced axes.
// out is float32 (sum/max/min) or int32 (arg*), one element per kept position.
void reduce_f32(int op, const float* x, int nk, const int64_t* kshape, const int64_t* kstrides, int nr,
                const int64_t* rshape, const int64_t* rstrides, void* out);

// Max pooling: values and plane indices (first winner; NaN wins), as the js reference.
void maxpool2d_f32(const float* x, const int64_t* sx, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                   float* values, int32_t* indices);
// g [N, C, Ho, Wo] (strides sg) scatter-added at `indices` (strides si) into [N, C, H, W], zeroed here.
void maxpool2d_backward_f32(const float* g, const int64_t* sg, const int32_t* indices, const int64_t* si, int64_t N,
                            int64_t C, int64_t Ho, int64_t Wo, int64_t H, int64_t W, float* out);

}  // namespace tg
