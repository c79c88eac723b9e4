// N-API bindings of the native backend. Kernels read and write the tensors' typed arrays in
// place (napi_get_typedarray_info gives their memory; nothing is copied) and run synchronously
// on the calling thread plus the pool's workers. Every view is bounds-checked against its
// array before a kernel touches it.
//
//   sgemm(a: Float32Array, b: Float32Array, c: Float32Array, p: Float64Array[, bias: Float32Array | null])
//     p = [batch, M, N, K, aOffset, sab, sam, sak, bOffset, sbb, sbk, sbn]; c gets batch·M·N.
//     With a fifth argument (the fused linear layer), p also has [biasOffset, biasStride, relu]:
//     then every row of c gets + bias (when not null), then relu (when relu ≠ 0).
//   packLinear(w, p) → ArrayBuffer   p = [N, K, wOffset, swn, swk]: W [N, K] packed once (gemm.h)
//   linearPacked(x, packed, bias | null, out, p)   p = [M, xOffset, sxm, sxk, biasOffset, biasStride, relu]:
//     out [M, N] = x·Wᵀ + bias, then relu, bit-identical to sgemm with the same epilogue
//   binary(op, a, b, out, p)   p = [nd, aOffset, bOffset, shape…, aStrides…, bStrides…]; out is
//                              Float32Array, or Uint8Array for comparisons (op codes: elementwise.h)
//   unary(op, x, out, p) / copy(x, out, p)      p = [nd, offset, shape…, strides…]
//   im2col(x, out, p)   p = [offset, N, C, H, W, 4 strides, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]
//   col2im(cols, out, p) p = [offset, N, C, H, W, 3 strides, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo]
//   reduce(op, x, out, p)  p = [nk, nr, offset, kept shape…, kept strides…, reduced shape…, reduced strides…]
//   maxPool2d(x, values, indices, p)  p as im2col's
//   maxPool2dBackward(g, indices, out, p)  p = [gOffset, iOffset, N, C, Ho, Wo, H, W, 4 g strides, 4 index strides]
//   conv2d(x, w, bias | null, out, p[, relu]) / conv2dBackwardInput(g, w, dx, p[, y, yp]) / conv2dBackwardWeight(g, x, dw, db | null, p[, y, yp])
//     the fused convolution (conv.h); p = [N, C, H, W, O, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo,
//     xOffset, 4 x strides, wOffset, 4 w strides, gOffset, 4 g strides, biasOffset, biasStride]
//   adamStep(w, g, m, v, vmax | null, h)  one Adam/AdamW step in place on w.length elements; h = 9 hyperparameters
//   setThreads(n) / getThreads() / hardwareThreads()
//   kernelName() → the micro-kernel in use ("avx512" | "avx2+fma" | "generic")
//   kernels() → the micro-kernels this CPU can run, fastest first
//   setKernel(name | "auto") → whether it was selected (false: this CPU cannot run it)
#include <node_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "conv.h"
#include "elementwise.h"
#include "gemm.h"
#include "thread_pool.h"

namespace {

#define TG_CALL(env, call)                                      \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error((env), nullptr, "native: N-API failure"); \
      return nullptr;                                           \
    }                                                           \
  } while (0)

struct ArrayArg {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_int8_array;
};

bool get_array(napi_env env, napi_value v, napi_typedarray_type want, const char* what, ArrayArg* out) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "native: %s must be a typed array", what);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, v, &out->type, &out->length, &out->data, &buffer, &byte_offset) != napi_ok ||
      out->type != want) {
    char msg[128];
    std::snprintf(msg, sizeof msg, "native: %s has the wrong element type", what);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  return true;
}

// Whether every element of the view offset + Σ i_d·stride_d (0 ≤ i_d < dim_d) lies in [0, length).
bool view_in_bounds(int64_t offset, const int64_t* dims, const int64_t* strides, int n, size_t length) {
  int64_t lo = offset, hi = offset;
  for (int d = 0; d < n; d++) {
    if (dims[d] == 0) return true;  // empty: nothing is read
    const int64_t span = (dims[d] - 1) * strides[d];
    if (span < 0)
      lo += span;
    else
      hi += span;
  }
  return lo >= 0 && static_cast<uint64_t>(hi) < length;
}

napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 4) {
    napi_throw_type_error(env, nullptr, "native.sgemm: expected (a, b, c, params[, bias])");
    return nullptr;
  }
  ArrayArg a, b, c, p;
  if (!get_array(env, argv[0], napi_float32_array, "sgemm a", &a) ||
      !get_array(env, argv[1], napi_float32_array, "sgemm b", &b) ||
      !get_array(env, argv[2], napi_float32_array, "sgemm c", &c) ||
      !get_array(env, argv[3], napi_float64_array, "sgemm params", &p))
    return nullptr;
  if (p.length < 12) {
    napi_throw_range_error(env, nullptr, "native.sgemm: params needs 12 numbers");
    return nullptr;
  }
  // a fifth argument asks for the fused linear layer's epilogue: p[12..14] = [biasOffset, biasStride, relu]
  napi_valuetype bias_type = napi_undefined;
  if (argc >= 5) TG_CALL(env, napi_typeof(env, argv[4], &bias_type));
  const bool epilogue = bias_type != napi_undefined;
  ArrayArg bias;
  if (epilogue && bias_type != napi_null && !get_array(env, argv[4], napi_float32_array, "sgemm bias", &bias)) return nullptr;
  const size_t np = epilogue ? 15 : 12;
  if (p.length < np) {
    napi_throw_range_error(env, nullptr, "native.sgemm: params needs 15 numbers with a bias argument");
    return nullptr;
  }
  const double* q = static_cast<const double*>(p.data);
  int64_t v[15];
  for (size_t i = 0; i < np; i++) v[i] = static_cast<int64_t>(q[i]);
  const int64_t batch = v[0], M = v[1], N = v[2], K = v[3];
  if (batch < 0 || M < 0 || N < 0 || K < 0) {
    napi_throw_range_error(env, nullptr, "native.sgemm: negative size");
    return nullptr;
  }
  const int64_t adims[3] = {batch, M, K}, astr[3] = {v[5], v[6], v[7]};
  const int64_t bdims[3] = {batch, K, N}, bstr[3] = {v[9], v[10], v[11]};
  if (!view_in_bounds(v[4], adims, astr, 3, a.length) || !view_in_bounds(v[8], bdims, bstr, 3, b.length) ||
      static_cast<uint64_t>(batch * M * N) > c.length) {
    napi_throw_range_error(env, nullptr, "native.sgemm: a view lies outside its array");
    return nullptr;
  }
  const float* bias_data = nullptr;
  if (epilogue && bias_type != napi_null) {
    const int64_t bdim[1] = {N}, bstride[1] = {v[13]};
    if (!view_in_bounds(v[12], bdim, bstride, 1, bias.length)) {
      napi_throw_range_error(env, nullptr, "native.sgemm: the bias view lies outside its array");
      return nullptr;
    }
    bias_data = static_cast<const float*>(bias.data) + v[12];
  }
  tg::SgemmArgs g{batch, M, N, K, static_cast<const float*>(a.data) + v[4], v[5], v[6], v[7],
                  static_cast<const float*>(b.data) + v[8], v[9], v[10], v[11], static_cast<float*>(c.data)};
  tg::sgemm(g);
  // then add, then relu: the same float operations as the separate binary and unary kernels
  if (epilogue) tg::bias_relu_f32(static_cast<float*>(c.data), batch * M, N, bias_data, v[13], v[14] != 0);
  return nullptr;
}

// Reads the Float64Array of integer parameters (argument `index`) into v[0..count).
bool get_params(napi_env env, napi_value arg, size_t count, int64_t* v, size_t* got = nullptr) {
  ArrayArg p;
  if (!get_array(env, arg, napi_float64_array, "params", &p)) return false;
  if (p.length < count) {
    napi_throw_range_error(env, nullptr, "native: too few params");
    return false;
  }
  const double* q = static_cast<const double*>(p.data);
  const size_t n = got != nullptr ? std::min<size_t>(p.length, 3 + 3 * tg::kMaxDims) : count;
  for (size_t i = 0; i < n; i++) v[i] = static_cast<int64_t>(q[i]);
  if (got != nullptr) *got = p.length;
  return true;
}

bool out_of_bounds(napi_env env) {
  napi_throw_range_error(env, nullptr, "native: a view lies outside its array");
  return false;
}

int64_t product(const int64_t* shape, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  return n;
}

// packLinear(w, p): a fresh ArrayBuffer holding W packed for linearPacked.
napi_value PackLinear(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  ArrayArg w;
  int64_t v[5];
  if (argc < 2 || !get_array(env, argv[0], napi_float32_array, "packLinear w", &w) || !get_params(env, argv[1], 5, v)) return nullptr;
  const int64_t N = v[0], K = v[1];
  const int64_t dims[2] = {N, K}, strides[2] = {v[3], v[4]};
  if (N < 0 || K < 0 || !view_in_bounds(v[2], dims, strides, 2, w.length)) return out_of_bounds(env), nullptr;
  const int64_t bytes = tg::linear_packed_bytes(N, K);
  void* data = nullptr;
  napi_value buffer;
  TG_CALL(env, napi_create_arraybuffer(env, static_cast<size_t>(bytes), &data, &buffer));
  tg::linear_pack(N, K, static_cast<const float*>(w.data) + v[2], v[3], v[4], data);
  return buffer;
}

// linearPacked(x, packed, bias | null, out, p): out [M, N] = x·Wᵀ + bias, then relu.
napi_value LinearPacked(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) {
    napi_throw_type_error(env, nullptr, "native.linearPacked: expected (x, packed, bias, out, params)");
    return nullptr;
  }
  napi_valuetype bias_type;
  TG_CALL(env, napi_typeof(env, argv[2], &bias_type));
  ArrayArg x, bias, out;
  int64_t v[7];
  bool is_buffer = false;
  void* packed = nullptr;
  size_t bytes = 0;
  if (napi_is_arraybuffer(env, argv[1], &is_buffer) != napi_ok || !is_buffer ||
      napi_get_arraybuffer_info(env, argv[1], &packed, &bytes) != napi_ok) {
    napi_throw_type_error(env, nullptr, "native.linearPacked: packed must be an ArrayBuffer from packLinear");
    return nullptr;
  }
  if (!get_array(env, argv[0], napi_float32_array, "linearPacked x", &x) ||
      (bias_type != napi_null && !get_array(env, argv[2], napi_float32_array, "linearPacked bias", &bias)) ||
      !get_array(env, argv[3], napi_float32_array, "linearPacked out", &out) || !get_params(env, argv[4], 7, v))
    return nullptr;
  int64_t N = 0, K = 0;
  if (!tg::linear_packed_shape(packed, static_cast<int64_t>(bytes), &N, &K)) {
    napi_throw_type_error(env, nullptr, "native.linearPacked: packed does not hold a packed weight");
    return nullptr;
  }
  const int64_t M = v[0];
  const int64_t xd[2] = {M, K}, xs[2] = {v[2], v[3]}, bd[1] = {N}, bs[1] = {v[5]};
  if (M < 0 || !view_in_bounds(v[1], xd, xs, 2, x.length) || static_cast<uint64_t>(M * N) > out.length ||
      (bias_type != napi_null && !view_in_bounds(v[4], bd, bs, 1, bias.length)))
    return out_of_bounds(env), nullptr;
  const float* b = bias_type != napi_null ? static_cast<const float*>(bias.data) + v[4] : nullptr;
  tg::linear_packed(M, static_cast<const float*>(x.data) + v[1], v[2], v[3], packed, b, v[5], v[6] != 0, static_cast<float*>(out.data));
  return nullptr;
}

napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t op = -1;
  if (argc < 5 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= tg::kNumBinary) {
    napi_throw_type_error(env, nullptr, "native.binary: expected (op, a, b, out, params)");
    return nullptr;
  }
  const bool cmp = op >= tg::kEq && op <= tg::kLe;
  ArrayArg a, b, out;
  int64_t v[3 + 3 * tg::kMaxDims];
  size_t len = 0;
  if (!get_array(env, argv[1], napi_float32_array, "binary a", &a) || !get_array(env, argv[2], napi_float32_array, "binary b", &b) ||
      !get_array(env, argv[3], cmp ? napi_uint8_array : napi_float32_array, "binary out", &out) || !get_params(env, argv[4], 3, v, &len))
    return nullptr;
  const int nd = static_cast<int>(v[0]);
  if (nd < 0 || nd > tg::kMaxDims || len < static_cast<size_t>(3 + 3 * nd)) {
    napi_throw_range_error(env, nullptr, "native.binary: bad rank");
    return nullptr;
  }
  const int64_t* shape = v + 3;
  const int64_t* sa = shape + nd;
  const int64_t* sb = sa + nd;
  const int64_t n = product(shape, nd);
  if (n < 0 || !view_in_bounds(v[1], shape, sa, nd, a.length) || !view_in_bounds(v[2], shape, sb, nd, b.length) ||
      static_cast<uint64_t>(n) > out.length) {
    out_of_bounds(env);
    return nullptr;
  }
  if (n > 0)
    tg::binary_f32(op, static_cast<const float*>(a.data) + v[1], sa, static_cast<const float*>(b.data) + v[2], sb, nd, shape, out.data);
  return nullptr;
}

// unary(op, x, out, p) and copy(x, out, p): shared argument handling.
napi_value UnaryLike(napi_env env, napi_callback_info info, bool is_copy) {
  size_t argc = 4;
  napi_value argv[4];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const size_t first = is_copy ? 0 : 1;
  int32_t op = 0;
  if (argc < first + 3 || (!is_copy && (napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= tg::kNumUnary))) {
    napi_throw_type_error(env, nullptr, "native.unary/copy: expected ([op,] x, out, params)");
    return nullptr;
  }
  ArrayArg x, out;
  int64_t v[3 + 3 * tg::kMaxDims];
  size_t len = 0;
  bool is_typed = false;
  // copy also converts bool (Uint8Array) to float32
  if (is_copy && napi_is_typedarray(env, argv[first], &is_typed) == napi_ok && is_typed) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value buffer;
    size_t byte_offset;
    if (napi_get_typedarray_info(env, argv[first], &type, &length, &data, &buffer, &byte_offset) == napi_ok && type == napi_uint8_array)
      x = ArrayArg{data, length, type};
  }
  if ((x.data == nullptr && !get_array(env, argv[first], napi_float32_array, "x", &x)) ||
      !get_array(env, argv[first + 1], napi_float32_array, "out", &out) || !get_params(env, argv[first + 2], 2, v, &len))
    return nullptr;
  const int nd = static_cast<int>(v[0]);
  if (nd < 0 || nd > tg::kMaxDims || len < static_cast<size_t>(2 + 2 * nd)) {
    napi_throw_range_error(env, nullptr, "native.unary: bad rank");
    return nullptr;
  }
  const int64_t* shape = v + 2;
  const int64_t* sx = shape + nd;
  const int64_t n = product(shape, nd);
  if (n < 0 || !view_in_bounds(v[1], shape, sx, nd, x.length) || static_cast<uint64_t>(n) > out.length) {
    out_of_bounds(env);
    return nullptr;
  }
  if (n == 0) return nullptr;
  const float* px = static_cast<const float*>(x.data) + v[1];
  float* po = static_cast<float*>(out.data);
  if (x.type == napi_uint8_array)
    tg::copy_u8_f32(static_cast<const uint8_t*>(x.data) + v[1], sx, nd, shape, po);
  else if (is_copy)
    tg::copy_f32(px, sx, nd, shape, po);
  else
    tg::unary_f32(op, px, sx, nd, shape, po);
  return nullptr;
}
napi_value Unary(napi_env env, napi_callback_info info) { return UnaryLike(env, info, false); }
napi_value Copy(napi_env env, napi_callback_info info) { return UnaryLike(env, info, true); }

// im2col(x, out, p) / col2im(cols, out, p): p = [offset, N, C, H, W, strides (4 or 3), window (10)].
napi_value Window(napi_env env, napi_callback_info info, bool forward) {
  size_t argc = 3;
  napi_value argv[3];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const int ns = forward ? 4 : 3;
  ArrayArg x, out;
  int64_t v[19];
  if (argc < 3 || !get_array(env, argv[0], napi_float32_array, "x", &x) || !get_array(env, argv[1], napi_float32_array, "out", &out) ||
      !get_params(env, argv[2], 5 + ns + 10, v))
    return nullptr;
  const int64_t N = v[1], C = v[2], H = v[3], W = v[4];
  const int64_t* st = v + 5;
  const int64_t* g = v + 5 + ns;
  const tg::Window w{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]};
  for (int i = 0; i < 10; i++)
    if (g[i] < 0 || (i < 4 && g[i] == 0)) {
      napi_throw_range_error(env, nullptr, "native.im2col: bad window");
      return nullptr;
    }
  if (N < 0 || C < 0 || H < 0 || W < 0) {
    napi_throw_range_error(env, nullptr, "native.im2col: bad size");
    return nullptr;
  }
  const int64_t rows = C * w.kh * w.kw, cols = w.ho * w.wo;
  // the input view: x [N, C, H, W] for im2col, columns [N, C·kh·kw, Ho·Wo] for col2im
  const int64_t in_forward[4] = {N, C, H, W}, in_backward[3] = {N, rows, cols};
  const int64_t out_len = forward ? N * rows * cols : N * C * H * W;
  if (!view_in_bounds(v[0], forward ? in_forward : in_backward, st, ns, x.length) || static_cast<uint64_t>(out_len) > out.length) {
    out_of_bounds(env);
    return nullptr;
  }
  if (out_len == 0) return nullptr;
  const float* px = static_cast<const float*>(x.data) + v[0];
  if (forward)
    tg::im2col_f32(px, st, N, C, H, W, w, static_cast<float*>(out.data));
  else
    tg::col2im_f32(px, st, N, C, H, W, w, static_cast<float*>(out.data));
  return nullptr;
}
napi_value Im2col(napi_env env, napi_callback_info info) { return Window(env, info, true); }
napi_value Col2im(napi_env env, napi_callback_info info) { return Window(env, info, false); }

napi_value Reduce(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t op = -1;
  if (argc < 4 || napi_get_value_int32(env, argv[0], &op) != napi_ok || op < 0 || op >= tg::kNumReduce) {
    napi_throw_type_error(env, nullptr, "native.reduce: expected (op, x, out, params)");
    return nullptr;
  }
  const bool arg = op == tg::kArgmax || op == tg::kArgmin;
  ArrayArg x, out;
  int64_t v[3 + 4 * tg::kMaxDims];
  ArrayArg p;
  if (!get_array(env, argv[1], napi_float32_array, "reduce x", &x) ||
      !get_array(env, argv[2], arg ? napi_int32_array : napi_float32_array, "reduce out", &out) ||
      !get_array(env, argv[3], napi_float64_array, "reduce params", &p))
    return nullptr;
  const double* q = static_cast<const double*>(p.data);
  if (p.length < 3) return out_of_bounds(env), nullptr;
  const int nk = static_cast<int>(q[0]), nr = static_cast<int>(q[1]);
  if (nk < 0 || nr < 0 || nk + nr > tg::kMaxDims || p.length < static_cast<size_t>(3 + 2 * (nk + nr))) {
    napi_throw_range_error(env, nullptr, "native.reduce: bad rank");
    return nullptr;
  }
  for (int i = 0; i < 3 + 2 * (nk + nr); i++) v[i] = static_cast<int64_t>(q[i]);
  const int64_t* ks = v + 3;
  const int64_t* kst = ks + nk;
  const int64_t* rs = kst + nk;
  const int64_t* rst = rs + nr;
  // bounds: the whole view (kept and reduced axes together)
  int64_t all_shape[tg::kMaxDims], all_strides[tg::kMaxDims];
  for (int d = 0; d < nk; d++) all_shape[d] = ks[d], all_strides[d] = kst[d];
  for (int d = 0; d < nr; d++) all_shape[nk + d] = rs[d], all_strides[nk + d] = rst[d];
  if (!view_in_bounds(v[2], all_shape, all_strides, nk + nr, x.length) || static_cast<uint64_t>(product(ks, nk)) > out.length ||
      product(rs, nr) == 0) {
    out_of_bounds(env);
    return nullptr;
  }
  if (product(ks, nk) > 0) tg::reduce_f32(op, static_cast<const float*>(x.data) + v[2], nk, ks, kst, nr, rs, rst, out.data);
  return nullptr;
}

napi_value MaxPool2d(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  ArrayArg x, values, indices;
  int64_t v[19];
  if (argc < 4 || !get_array(env, argv[0], napi_float32_array, "x", &x) || !get_array(env, argv[1], napi_float32_array, "values", &values) ||
      !get_array(env, argv[2], napi_int32_array, "indices", &indices) || !get_params(env, argv[3], 19, v))
    return nullptr;
  const int64_t N = v[1], C = v[2], H = v[3], W = v[4];
  const int64_t* st = v + 5;
  const int64_t* g = v + 9;
  const tg::Window w{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]};
  for (int i = 0; i < 10; i++)
    if (g[i] < 0 || (i < 4 && g[i] == 0)) return out_of_bounds(env), nullptr;
  const int64_t dims[4] = {N, C, H, W};
  const int64_t n_out = N * C * w.ho * w.wo;
  if (N < 0 || C < 0 || H < 0 || W < 0 || !view_in_bounds(v[0], dims, st, 4, x.length) ||
      static_cast<uint64_t>(n_out) > values.length || static_cast<uint64_t>(n_out) > indices.length) {
    out_of_bounds(env);
    return nullptr;
  }
  if (n_out > 0)
    tg::maxpool2d_f32(static_cast<const float*>(x.data) + v[0], st, N, C, H, W, w, static_cast<float*>(values.data),
                      static_cast<int32_t*>(indices.data));
  return nullptr;
}

// The fused convolutions' shared parameters (see the list at the top); offsets[0..3] receive
// the x, w, g and bias offsets. Views are checked by the callers, which know which they read.
bool conv_params(napi_env env, napi_value arg, tg::ConvArgs* a, int64_t* offsets) {
  int64_t v[32];
  if (!get_params(env, arg, 32, v)) return false;
  a->N = v[0], a->C = v[1], a->H = v[2], a->W = v[3], a->O = v[4];
  a->win = tg::Window{v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14]};
  for (int i = 0; i < 5; i++)
    if (v[i] < 0) return out_of_bounds(env);
  for (int i = 5; i < 15; i++)
    if (v[i] < 0 || (i < 9 && v[i] == 0)) {
      napi_throw_range_error(env, nullptr, "native.conv2d: bad window");
      return false;
    }
  offsets[0] = v[15], offsets[1] = v[20], offsets[2] = v[25], offsets[3] = v[30];
  for (int d = 0; d < 4; d++) a->sx[d] = v[16 + d], a->sw[d] = v[21 + d], a->sg[d] = v[26 + d];
  a->sbias = v[31];
  a->x = a->w = a->g = a->bias = nullptr;
  return true;
}

// Points *p at `offset` in `arr` after checking that the 4-D view (dims, strides) lies inside it.
bool conv_view(napi_env env, const ArrayArg& arr, int64_t offset, const int64_t* dims, const int64_t* strides, const float** p) {
  if (!view_in_bounds(offset, dims, strides, 4, arr.length)) return out_of_bounds(env);
  *p = static_cast<const float*>(arr.data) + offset;
  return true;
}

// The optional relu'd output (y, [offset, 4 strides]) after a conv gradient's other arguments:
// points a->y at it (a view of g's shape), or leaves it null when absent.
bool conv_relu_output(napi_env env, size_t argc, napi_value* argv, size_t at, tg::ConvArgs* a) {
  if (argc <= at + 1) return true;
  napi_valuetype t;
  if (napi_typeof(env, argv[at], &t) != napi_ok) {
    napi_throw_error(env, nullptr, "native: N-API failure");
    return false;
  }
  if (t == napi_null || t == napi_undefined) return true;
  ArrayArg y;
  int64_t v[5];
  if (!get_array(env, argv[at], napi_float32_array, "conv2d gradient y", &y) || !get_params(env, argv[at + 1], 5, v)) return false;
  for (int d = 0; d < 4; d++) a->sy[d] = v[1 + d];
  const int64_t gd[4] = {a->N, a->O, a->idx != nullptr ? a->hp : a->win.ho, a->idx != nullptr ? a->wp : a->win.wo};
  return conv_view(env, y, v[0], gd, a->sy, &a->y);
}

// The optional pooled forward's indices (Int32Array, ip = [offset, 4 strides, ph, pw, hp, wp])
// at argv[at], argv[at + 1] of a conv gradient: sets a->idx (then g and y are [N, O, hp, wp]).
bool conv_pool(napi_env env, size_t argc, napi_value* argv, size_t at, tg::ConvArgs* a) {
  if (argc <= at + 1) return true;
  ArrayArg idx;
  int64_t v[9];
  if (!get_array(env, argv[at], napi_int32_array, "conv2d gradient indices", &idx) || !get_params(env, argv[at + 1], 9, v)) return false;
  a->hp = v[7], a->wp = v[8];
  for (int d = 0; d < 4; d++) a->si[d] = v[1 + d];
  const int64_t d[4] = {a->N, a->O, a->hp, a->wp};
  if (a->hp < 0 || a->wp < 0 || !view_in_bounds(v[0], d, a->si, 4, idx.length)) return out_of_bounds(env);
  a->idx = static_cast<const int32_t*>(idx.data) + v[0];
  return true;
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) {
    napi_throw_type_error(env, nullptr, "native.conv2d: expected (x, w, bias, out, params[, relu[, indices, poolParams]])");
    return nullptr;
  }
  napi_valuetype bias_type;
  TG_CALL(env, napi_typeof(env, argv[2], &bias_type));
  ArrayArg x, w, bias, out;
  tg::ConvArgs a;
  int64_t off[4];
  if (!get_array(env, argv[0], napi_float32_array, "conv2d x", &x) || !get_array(env, argv[1], napi_float32_array, "conv2d w", &w) ||
      (bias_type != napi_null && !get_array(env, argv[2], napi_float32_array, "conv2d bias", &bias)) ||
      !get_array(env, argv[3], napi_float32_array, "conv2d out", &out) || !conv_params(env, argv[4], &a, off))
    return nullptr;
  const int64_t xd[4] = {a.N, a.C, a.H, a.W}, wd[4] = {a.O, a.C, a.win.kh, a.win.kw}, bd[4] = {a.O, 1, 1, 1}, bs[4] = {a.sbias, 0, 0, 0};
  if (!conv_view(env, x, off[0], xd, a.sx, &a.x) || !conv_view(env, w, off[1], wd, a.sw, &a.w) ||
      (bias_type != napi_null && !conv_view(env, bias, off[3], bd, bs, &a.bias)))
    return nullptr;
  if (argc > 7) {
    // relu then a non-overlapping max pool: out gets the values, indices the argmax, pp = [ph, pw, hp, wp]
    ArrayArg idx;
    int64_t pp[4];
    if (!get_array(env, argv[6], napi_int32_array, "conv2d indices", &idx) || !get_params(env, argv[7], 4, pp)) return nullptr;
    const uint64_t n = static_cast<uint64_t>(a.N * a.O * pp[2] * pp[3]);
    if (pp[0] <= 0 || pp[1] <= 0 || pp[2] < 0 || pp[3] < 0 || n > out.length || n > idx.length) return out_of_bounds(env), nullptr;
    tg::conv2d_relu_maxpool_f32(a, pp[0], pp[1], pp[2], pp[3], static_cast<float*>(out.data), static_cast<int32_t*>(idx.data));
    return nullptr;
  }
  if (static_cast<uint64_t>(a.N * a.O * a.win.ho * a.win.wo) > out.length) return out_of_bounds(env), nullptr;
  if (argc > 5) {
    bool relu = false;
    TG_CALL(env, napi_get_value_bool(env, argv[5], &relu));
    a.relu = relu;
  }
  tg::conv2d_f32(a, static_cast<float*>(out.data));
  return nullptr;
}

napi_value Conv2dBackwardInput(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  ArrayArg g, w, dx;
  tg::ConvArgs a;
  int64_t off[4];
  if (argc < 4 || !get_array(env, argv[0], napi_float32_array, "conv2dBackwardInput g", &g) ||
      !get_array(env, argv[1], napi_float32_array, "conv2dBackwardInput w", &w) ||
      !get_array(env, argv[2], napi_float32_array, "conv2dBackwardInput dx", &dx) || !conv_params(env, argv[3], &a, off))
    return nullptr;
  if (!conv_pool(env, argc, argv, 6, &a)) return nullptr;
  const int64_t gd[4] = {a.N, a.O, a.idx != nullptr ? a.hp : a.win.ho, a.idx != nullptr ? a.wp : a.win.wo}, wd[4] = {a.O, a.C, a.win.kh, a.win.kw};
  if (!conv_view(env, g, off[2], gd, a.sg, &a.g) || !conv_view(env, w, off[1], wd, a.sw, &a.w) || !conv_relu_output(env, argc, argv, 4, &a)) return nullptr;
  if (static_cast<uint64_t>(a.N * a.C * a.H * a.W) > dx.length) return out_of_bounds(env), nullptr;
  tg::conv2d_backward_input_f32(a, static_cast<float*>(dx.data));
  return nullptr;
}

napi_value Conv2dBackwardWeight(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 5) {
    napi_throw_type_error(env, nullptr, "native.conv2dBackwardWeight: expected (g, x, dw, db, params[, y, yParams[, indices, poolParams]])");
    return nullptr;
  }
  napi_valuetype db_type;
  TG_CALL(env, napi_typeof(env, argv[3], &db_type));
  ArrayArg g, x, dw, db;
  tg::ConvArgs a;
  int64_t off[4];
  if (!get_array(env, argv[0], napi_float32_array, "conv2dBackwardWeight g", &g) ||
      !get_array(env, argv[1], napi_float32_array, "conv2dBackwardWeight x", &x) ||
      !get_array(env, argv[2], napi_float32_array, "conv2dBackwardWeight dw", &dw) ||
      (db_type != napi_null && !get_array(env, argv[3], napi_float32_array, "conv2dBackwardWeight db", &db)) ||
      !conv_params(env, argv[4], &a, off))
    return nullptr;
  if (!conv_pool(env, argc, argv, 7, &a)) return nullptr;
  const int64_t gd[4] = {a.N, a.O, a.idx != nullptr ? a.hp : a.win.ho, a.idx != nullptr ? a.wp : a.win.wo}, xd[4] = {a.N, a.C, a.H, a.W};
  if (!conv_view(env, g, off[2], gd, a.sg, &a.g) || !conv_view(env, x, off[0], xd, a.sx, &a.x) || !conv_relu_output(env, argc, argv, 5, &a)) return nullptr;
  if (static_cast<uint64_t>(a.O * a.C * a.win.kh * a.win.kw) > dw.length || (db_type != napi_null && static_cast<uint64_t>(a.O) > db.length))
    return out_of_bounds(env), nullptr;
  tg::conv2d_backward_weight_f32(a, static_cast<float*>(dw.data), db_type != napi_null ? static_cast<float*>(db.data) : nullptr);
  return nullptr;
}

// linearBackward(g, x, w, y | null, dx | null, dw | null, db | null, p): p = [M, N, K, then offset
// and 2 strides of g, x, w, y]; the fused linear layer's gradients (gemm.h).
napi_value LinearBackward(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 8) {
    napi_throw_type_error(env, nullptr, "native.linearBackward: expected (g, x, w, y, dx, dw, db, params)");
    return nullptr;
  }
  ArrayArg arr[7];
  const char* names[7] = {"linearBackward g", "linearBackward x", "linearBackward w", "linearBackward y", "linearBackward dx", "linearBackward dw", "linearBackward db"};
  bool present[7];
  for (int i = 0; i < 7; i++) {
    napi_valuetype t;
    TG_CALL(env, napi_typeof(env, argv[i], &t));
    present[i] = t != napi_null;
    if ((i < 3 || present[i]) && !get_array(env, argv[i], napi_float32_array, names[i], &arr[i])) return nullptr;
  }
  int64_t v[15];
  if (!get_params(env, argv[7], 15, v)) return nullptr;
  const int64_t M = v[0], N = v[1], K = v[2];
  const int64_t mn[2] = {M, N}, mk[2] = {M, K}, nk[2] = {N, K};
  if (M < 0 || N < 0 || K < 0 || !view_in_bounds(v[3], mn, v + 4, 2, arr[0].length) || !view_in_bounds(v[6], mk, v + 7, 2, arr[1].length) ||
      !view_in_bounds(v[9], nk, v + 10, 2, arr[2].length) || (present[3] && !view_in_bounds(v[12], mn, v + 13, 2, arr[3].length)) ||
      (present[4] && static_cast<uint64_t>(M * K) > arr[4].length) || (present[5] && static_cast<uint64_t>(N * K) > arr[5].length) ||
      (present[6] && static_cast<uint64_t>(N) > arr[6].length))
    return out_of_bounds(env), nullptr;
  auto at = [&](int i, int64_t off) { return present[i] ? static_cast<const float*>(arr[i].data) + off : nullptr; };
  const tg::LinearBackwardArgs a{M, N, K, at(0, v[3]), {v[4], v[5]}, at(1, v[6]), {v[7], v[8]}, at(2, v[9]), {v[10], v[11]}, at(3, v[12]), {v[13], v[14]}};
  auto out = [&](int i) { return present[i] ? static_cast<float*>(arr[i].data) : nullptr; };
  tg::linear_backward_f32(a, out(4), out(5), out(6));
  return nullptr;
}

// adamStep(w, g, m, v, vmax | null, h): one Adam/AdamW step on w.length elements (elementwise.h).
napi_value AdamStep(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 6) {
    napi_throw_type_error(env, nullptr, "native.adamStep: expected (w, g, m, v, vmax, h)");
    return nullptr;
  }
  ArrayArg w, g, m, v, vmax, h;
  napi_valuetype vmax_type;
  TG_CALL(env, napi_typeof(env, argv[4], &vmax_type));
  if (!get_array(env, argv[0], napi_float32_array, "adamStep w", &w) || !get_array(env, argv[1], napi_float32_array, "adamStep g", &g) ||
      !get_array(env, argv[2], napi_float32_array, "adamStep m", &m) || !get_array(env, argv[3], napi_float32_array, "adamStep v", &v) ||
      (vmax_type != napi_null && !get_array(env, argv[4], napi_float32_array, "adamStep vmax", &vmax)) ||
      !get_array(env, argv[5], napi_float64_array, "adamStep h", &h))
    return nullptr;
  const size_t n = w.length;
  if (g.length < n || m.length < n || v.length < n || (vmax_type != napi_null && vmax.length < n) || h.length < 9) {
    napi_throw_range_error(env, nullptr, "native.adamStep: arrays shorter than w, or fewer than 9 hyperparameters");
    return nullptr;
  }
  tg::adam_f32(static_cast<float*>(w.data), static_cast<const float*>(g.data), static_cast<float*>(m.data), static_cast<float*>(v.data),
               vmax_type != napi_null ? static_cast<float*>(vmax.data) : nullptr, static_cast<int64_t>(n), static_cast<const double*>(h.data));
  return nullptr;
}

napi_value MaxPool2dBackward(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  ArrayArg g, idx, out;
  int64_t v[16];
  if (argc < 4 || !get_array(env, argv[0], napi_float32_array, "g", &g) || !get_array(env, argv[1], napi_int32_array, "indices", &idx) ||
      !get_array(env, argv[2], napi_float32_array, "out", &out) || !get_params(env, argv[3], 16, v))
    return nullptr;
  const int64_t N = v[2], C = v[3], Ho = v[4], Wo = v[5], H = v[6], W = v[7];
  const int64_t dims[4] = {N, C, Ho, Wo};
  if (N < 0 || C < 0 || Ho < 0 || Wo < 0 || H < 0 || W < 0 || !view_in_bounds(v[0], dims, v + 8, 4, g.length) ||
      !view_in_bounds(v[1], dims, v + 12, 4, idx.length) || static_cast<uint64_t>(N * C * H * W) > out.length) {
    out_of_bounds(env);
    return nullptr;
  }
  if (N * C * Ho * Wo > 0)
    tg::maxpool2d_backward_f32(static_cast<const float*>(g.data) + v[0], v + 8, static_cast<const int32_t*>(idx.data) + v[1], v + 12,
                               N, C, Ho, Wo, H, W, static_cast<float*>(out.data));
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t n = 0;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) {
    napi_throw_range_error(env, nullptr, "native.setThreads: expected a positive integer");
    return nullptr;
  }
  tg::set_num_threads(n);
  return nullptr;
}

napi_value Int(napi_env env, int v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

napi_value GetThreads(napi_env env, napi_callback_info) { return Int(env, tg::num_threads()); }
napi_value HardwareThreads(napi_env env, napi_callback_info) { return Int(env, tg::hardware_threads()); }

napi_value KernelName(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, tg::sgemm_kernel_name(), NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value Kernels(napi_env env, napi_callback_info) {
  const std::vector<std::string> names = tg::sgemm_kernels();
  napi_value out;
  napi_create_array_with_length(env, names.size(), &out);
  for (size_t i = 0; i < names.size(); i++) {
    napi_value s;
    napi_create_string_utf8(env, names[i].c_str(), names[i].size(), &s);
    napi_set_element(env, out, static_cast<uint32_t>(i), s);
  }
  return out;
}

napi_value SetKernel(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  TG_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char name[32] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "native.setKernel: expected a kernel name");
    return nullptr;
  }
  napi_value out;
  napi_get_boolean(env, tg::sgemm_set_kernel(std::string(name, len)), &out);
  return out;
}

// Tensors' typed arrays come from calloc. glibc serves large blocks with fresh mmap pages and
// trims freed heap tops, so every big kernel output page-faults in (about a third of a training
// step's large elementwise ops on MNIST's CNN). Keep blocks up to 32 MiB on the heap and freed
// memory mapped, so the next step reuses warm pages. TG_NATIVE_MALLOPT=0 keeps glibc's defaults.
void tune_malloc() {
#if defined(__GLIBC__)
  const char* env = std::getenv("TG_NATIVE_MALLOPT");
  if (env != nullptr && std::strcmp(env, "0") == 0) return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

napi_value Init(napi_env env, napi_value exports) {
  tune_malloc();
  const napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"packLinear", nullptr, PackLinear, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"linearPacked", nullptr, LinearPacked, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copy", nullptr, Copy, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"im2col", nullptr, Im2col, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"col2im", nullptr, Col2im, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2d", nullptr, MaxPool2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool2dBackward", nullptr, MaxPool2dBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackwardInput", nullptr, Conv2dBackwardInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackwardWeight", nullptr, Conv2dBackwardWeight, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"linearBackward", nullptr, LinearBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamStep", nullptr, AdamStep, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"getThreads", nullptr, GetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hardwareThreads", nullptr, HardwareThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernelName", nullptr, KernelName, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernels", nullptr, Kernels, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setKernel", nullptr, SetKernel, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return nullptr;
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
