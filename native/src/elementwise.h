// Float32 elementwise and window kernels over strided views (see elementwise.cc).
#pragma once
#include <cstdint>

namespace tg {

constexpr int kMaxDims = 16;

// A strided view of float32 (or uint8 for conditions) storage, already offset to its first element.
struct View {
  int nd;
  int64_t shape[kMaxDims];
  int64_t strides[kMaxDims];
};

// Binary ops in the front end's order: add sub mul div maximum minimum eq ne gt ge lt le.
enum BinaryOp { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kEq, kNe, kGt, kGe, kLt, kLe, kNumBinary };
// Unary ops computed exactly as the js reference does (IEEE-exact): neg abs relu sqrt rsqrt sign.
enum UnaryOp { kNeg, kAbs, kRelu, kSqrt, kRsqrt, kSign, kNumUnary };

// out (contiguous, float32 or uint8 for comparisons) = a op b, both broadcast to `shape` (strides 0).
void binary_f32(int op, const float* a, const int64_t* sa, const float* b, const int64_t* sb, int nd,
                const int64_t* shape, void* out);
void unary_f32(int op, const float* x, const int64_t* sx, int nd, const int64_t* shape, float* out);
// Contiguous copy of a float32 view.
void copy_f32(const float* x, const int64_t* sx, int nd, const int64_t* shape, float* out);
// Contiguous float32 copy of a bool (uint8) view: 0 or 1.
void copy_u8_f32(const uint8_t* x, const int64_t* sx, int nd, const int64_t* shape, float* out);

// Window geometry as in src/backend/backend.ts (Window2d).
struct Window {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw, ho, wo;
};
// x [N, C, H, W] (strides sx) → columns [N, C·kh·kw, Ho·Wo], zero outside x.
void im2col_f32(const float* x, const int64_t* sx, int64_t N, int64_t C, int64_t H, int64_t W, const Window& w,
                float* out);
// columns [N, C·kh·kw, Ho·Wo] (strides sc) summed into zeros [N, C, H, W].
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
// g [N, C, Ho, Wo] (strides sg) scatter-added at `indices` (strides si) into zeros [N, C, H, W].
void maxpool2d_backward_f32(const float* g, const int64_t* sg, const int32_t* indices, const int64_t* si, int64_t N,
                            int64_t C, int64_t Ho, int64_t Wo, int64_t H, int64_t W, float* out);

}  // namespace tg
