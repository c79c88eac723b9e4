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

struct Array {
  void* data = nullptr;
  size_t length = 0;
  napi_typedarray_type type = napi_int8_array;
  bool given = false;  // false: an optional argument left null
  template <class T>
  T* at(int64_t offset = 0) const { return given ? static_cast<T*>(data) + offset : nullptr; }
};

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

int64_t product(const int64_t* shape, int nd) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  return n;
}

// One binding's arguments. Every read checks its argument; the first failure throws (TypeError
// for a wrong kind, RangeError for a bad value, both "native.<binding>: argument i …") and makes
// ok() false and every later read a no-op, so a binding reads all it needs and tests ok() once.
class Args {
 public:
  static constexpr size_t kMax = 9;
  Args(napi_env env, napi_callback_info info, const char* name, size_t min) : env_(env), name_(name) {
    if (napi_get_cb_info(env, info, &argc_, argv_, nullptr, nullptr) != napi_ok) fail(false, "%s", "N-API failure");
    else if (argc_ < min) fail(true, "expected %zu arguments, got %zu", min, argc_);
  }
  bool ok() const { return ok_; }
  size_t count() const { return argc_; }
  // Whether argument i is given and not undefined.
  bool given(size_t i) {
    napi_valuetype t = napi_undefined;
    if (ok_ && i < argc_ && napi_typeof(env_, argv_[i], &t) != napi_ok) fail(false, "%s", "N-API failure");
    return ok_ && t != napi_undefined;
  }
  // Whether argument i is given and neither null nor undefined.
  bool present(size_t i) {
    napi_valuetype t = napi_undefined;
    if (ok_ && i < argc_ && napi_typeof(env_, argv_[i], &t) != napi_ok) fail(false, "%s", "N-API failure");
    return ok_ && t != napi_null && t != napi_undefined;
  }
  // A typed array of `type` (or either of two types); an empty Array when `optional` and absent.
  Array array(size_t i, napi_typedarray_type type, bool optional = false, napi_typedarray_type alt = napi_int8_array) {
    Array a;
    if (!ok_ || (optional && !present(i))) return a;
    bool is = false;
    napi_value buffer;
    size_t byte_offset;
    if (i >= argc_ || napi_is_typedarray(env_, argv_[i], &is) != napi_ok || !is) return fail(true, "argument %zu must be a typed array", i), a;
    if (napi_get_typedarray_info(env_, argv_[i], &a.type, &a.length, &a.data, &buffer, &byte_offset) != napi_ok ||
        (a.type != type && (alt == napi_int8_array || a.type != alt)))
      return fail(true, "argument %zu has the wrong element type", i), Array{};
    a.given = true;
    return a;
  }
  Array f32(size_t i, bool optional = false) { return array(i, napi_float32_array, optional); }
  // An integer argument in [lo, hi).
  int32_t int32(size_t i, int32_t lo, int32_t hi) {
    int32_t v = lo;
    if (ok_ && (i >= argc_ || napi_get_value_int32(env_, argv_[i], &v) != napi_ok || v < lo || v >= hi))
      fail(true, "argument %zu must be an integer in [%d, %d)", i, lo, hi);
    return v;
  }
  bool boolean(size_t i) {
    bool v = false;
    if (ok_ && (i >= argc_ || napi_get_value_bool(env_, argv_[i], &v) != napi_ok)) fail(true, "argument %zu must be a boolean", i);
    return v;
  }
  // An ArrayBuffer's memory and size.
  void* buffer(size_t i, size_t* bytes) {
    bool is = false;
    void* data = nullptr;
    if (ok_ && (i >= argc_ || napi_is_arraybuffer(env_, argv_[i], &is) != napi_ok || !is ||
                napi_get_arraybuffer_info(env_, argv_[i], &data, bytes) != napi_ok))
      fail(true, "argument %zu must be an ArrayBuffer", i);
    return data;
  }
  // A Float64Array of at least `need` integer parameters, read into v[0..min(length, cap)); returns its length.
  size_t params(size_t i, size_t need, int64_t* v, size_t cap) {
    const Array p = array(i, napi_float64_array);
    if (!ok_) return 0;
    if (p.length < need) return fail(false, "argument %zu needs %zu numbers", i, need), 0;
    const double* q = p.at<const double>();
    for (size_t k = 0; k < std::min(p.length, cap); k++) v[k] = static_cast<int64_t>(q[k]);
    return p.length;
  }
  template <size_t N>
  size_t params(size_t i, size_t need, int64_t (&v)[N]) { return params(i, need, v, N); }
  // Throws a RangeError unless `cond` (no-op after an earlier failure).
  bool check(bool cond, const char* what = "a view lies outside its array") {
    if (ok_ && !cond) fail(false, "%s", what);
    return ok_;
  }
  // Points *p at `offset` in `arr` when the 4-D view (dims, strides) lies inside it.
  bool view4(const Array& arr, int64_t offset, const int64_t* dims, const int64_t* strides, const float** p) {
    if (check(view_in_bounds(offset, dims, strides, 4, arr.length))) *p = arr.at<const float>(offset);
    return ok_;
  }
  napi_env env() const { return env_; }

 private:
  template <class... T>
  void fail(bool type_error, const char* fmt, T... values) {
    if (!ok_) return;
    ok_ = false;
    char what[160], msg[200];
    std::snprintf(what, sizeof what, fmt, values...);
    std::snprintf(msg, sizeof msg, "native.%s: %s", name_, what);
    (type_error ? napi_throw_type_error : napi_throw_range_error)(env_, nullptr, msg);
  }
  napi_env env_;
  const char* name_;
  size_t argc_ = kMax;
  napi_value argv_[kMax] = {};
  bool ok_ = true;
};

napi_value Sgemm(napi_env env, napi_callback_info info) {
  Args args(env, info, "sgemm", 4);
  const Array a = args.f32(0), b = args.f32(1), c = args.f32(2);
  int64_t v[15] = {};
  const size_t np = args.params(3, 12, v);
  // a fifth argument asks for the fused linear layer's epilogue: p[12..14] = [biasOffset, biasStride, relu]
  const bool epilogue = args.given(4);
  const Array bias = epilogue ? args.f32(4, true) : Array{};
  if (!args.check(!epilogue || np >= 15, "params needs 15 numbers with a bias argument")) return nullptr;
  const int64_t batch = v[0], M = v[1], N = v[2], K = v[3];
  const int64_t adims[3] = {batch, M, K}, astr[3] = {v[5], v[6], v[7]};
  const int64_t bdims[3] = {batch, K, N}, bstr[3] = {v[9], v[10], v[11]}, bd[1] = {N}, bs[1] = {v[13]};
  if (!args.check(batch >= 0 && M >= 0 && N >= 0 && K >= 0, "negative size") ||
      !args.check(view_in_bounds(v[4], adims, astr, 3, a.length) && view_in_bounds(v[8], bdims, bstr, 3, b.length) &&
                  static_cast<uint64_t>(batch * M * N) <= c.length && (!bias.given || view_in_bounds(v[12], bd, bs, 1, bias.length))))
    return nullptr;
  tg::sgemm({batch, M, N, K, a.at<const float>(v[4]), v[5], v[6], v[7], b.at<const float>(v[8]), v[9], v[10], v[11], c.at<float>()});
  // then add, then relu: the same float operations as the separate binary and unary kernels
  if (epilogue) tg::bias_relu_f32(c.at<float>(), batch * M, N, bias.at<const float>(v[12]), v[13], v[14] != 0);
  return nullptr;
}

// packLinear(w, p): a fresh ArrayBuffer holding W packed for linearPacked.
napi_value PackLinear(napi_env env, napi_callback_info info) {
  Args args(env, info, "packLinear", 2);
  const Array w = args.f32(0);
  int64_t v[5] = {};
  args.params(1, 5, v);
  const int64_t dims[2] = {v[0], v[1]}, strides[2] = {v[3], v[4]};
  if (!args.check(v[0] >= 0 && v[1] >= 0 && view_in_bounds(v[2], dims, strides, 2, w.length))) return nullptr;
  void* data = nullptr;
  napi_value buffer;
  if (napi_create_arraybuffer(env, static_cast<size_t>(tg::linear_packed_bytes(v[0], v[1])), &data, &buffer) != napi_ok) return nullptr;
  tg::linear_pack(v[0], v[1], w.at<const float>(v[2]), v[3], v[4], data);
  return buffer;
}

// linearPacked(x, packed, bias | null, out, p): out [M, N] = x·Wᵀ + bias, then relu.
napi_value LinearPacked(napi_env env, napi_callback_info info) {
  Args args(env, info, "linearPacked", 5);
  size_t bytes = 0;
  const Array x = args.f32(0), bias = args.f32(2, true), out = args.f32(3);
  void* packed = args.buffer(1, &bytes);
  int64_t v[7] = {}, N = 0, K = 0;
  args.params(4, 7, v);
  if (!args.check(!args.ok() || tg::linear_packed_shape(packed, static_cast<int64_t>(bytes), &N, &K), "packed does not hold a packed weight"))
    return nullptr;
  const int64_t M = v[0], xd[2] = {M, K}, xs[2] = {v[2], v[3]}, bd[1] = {N}, bs[1] = {v[5]};
  if (!args.check(M >= 0 && view_in_bounds(v[1], xd, xs, 2, x.length) && static_cast<uint64_t>(M * N) <= out.length &&
                  (!bias.given || view_in_bounds(v[4], bd, bs, 1, bias.length))))
    return nullptr;
  tg::linear_packed(M, x.at<const float>(v[1]), v[2], v[3], packed, bias.at<const float>(v[4]), v[5], v[6] != 0, out.at<float>());
  return nullptr;
}

napi_value Binary(napi_env env, napi_callback_info info) {
  Args args(env, info, "binary", 5);
  const int32_t op = args.int32(0, 0, tg::kNumBinary);
  const bool cmp = op >= tg::kEq && op <= tg::kLe;
  const Array a = args.f32(1), b = args.f32(2), out = args.array(3, cmp ? napi_uint8_array : napi_float32_array);
  int64_t v[3 + 3 * tg::kMaxDims] = {};
  const size_t len = args.params(4, 3, v);
  const int nd = static_cast<int>(v[0]);
  if (!args.check(nd >= 0 && nd <= tg::kMaxDims && len >= static_cast<size_t>(3 + 3 * nd), "bad rank")) return nullptr;
  const int64_t *shape = v + 3, *sa = shape + nd, *sb = sa + nd, n = product(shape, nd);
  if (!args.check(n >= 0 && view_in_bounds(v[1], shape, sa, nd, a.length) && view_in_bounds(v[2], shape, sb, nd, b.length) &&
                  static_cast<uint64_t>(n) <= out.length))
    return nullptr;
  if (n > 0) tg::binary_f32(op, a.at<const float>(v[1]), sa, b.at<const float>(v[2]), sb, nd, shape, out.data);
  return nullptr;
}

// unary(op, x, out, p) and copy(x, out, p) (copy also converts bool, a Uint8Array, to float32).
napi_value UnaryLike(napi_env env, napi_callback_info info, bool is_copy) {
  Args args(env, info, is_copy ? "copy" : "unary", is_copy ? 3 : 4);
  const size_t first = is_copy ? 0 : 1;
  const int32_t op = is_copy ? 0 : args.int32(0, 0, tg::kNumUnary);
  const Array x = is_copy ? args.array(0, napi_float32_array, false, napi_uint8_array) : args.f32(1), out = args.f32(first + 1);
  int64_t v[3 + 3 * tg::kMaxDims] = {};
  const size_t len = args.params(first + 2, 2, v);
  const int nd = static_cast<int>(v[0]);
  if (!args.check(nd >= 0 && nd <= tg::kMaxDims && len >= static_cast<size_t>(2 + 2 * nd), "bad rank")) return nullptr;
  const int64_t *shape = v + 2, *sx = shape + nd, n = product(shape, nd);
  if (!args.check(n >= 0 && view_in_bounds(v[1], shape, sx, nd, x.length) && static_cast<uint64_t>(n) <= out.length) || n == 0) return nullptr;
  if (x.type == napi_uint8_array)
    tg::copy_u8_f32(x.at<const uint8_t>(v[1]), sx, nd, shape, out.at<float>());
  else if (is_copy)
    tg::copy_f32(x.at<const float>(v[1]), sx, nd, shape, out.at<float>());
  else
    tg::unary_f32(op, x.at<const float>(v[1]), sx, nd, shape, out.at<float>());
  return nullptr;
}
napi_value Unary(napi_env env, napi_callback_info info) { return UnaryLike(env, info, false); }
napi_value Copy(napi_env env, napi_callback_info info) { return UnaryLike(env, info, true); }

// The 10 window numbers at g as a Window, when valid (kernel and stride positive, none negative).
bool window(Args& args, const int64_t* g, tg::Window* w) {
  bool ok = true;
  for (int i = 0; i < 10; i++) ok = ok && g[i] >= 0 && (i >= 4 || g[i] > 0);
  *w = tg::Window{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9]};
  return args.check(ok, "bad window");
}

// im2col(x, out, p) / col2im(cols, out, p): p = [offset, N, C, H, W, strides (4 or 3), window (10)].
napi_value Window(napi_env env, napi_callback_info info, bool forward) {
  Args args(env, info, forward ? "im2col" : "col2im", 3);
  const int ns = forward ? 4 : 3;
  const Array x = args.f32(0), out = args.f32(1);
  int64_t v[19] = {};
  args.params(2, 5 + ns + 10, v);
  tg::Window w;
  const int64_t N = v[1], C = v[2], H = v[3], W = v[4], *st = v + 5;
  if (!args.ok() || !window(args, v + 5 + ns, &w) || !args.check(N >= 0 && C >= 0 && H >= 0 && W >= 0, "bad size")) return nullptr;
  const int64_t rows = C * w.kh * w.kw, cols = w.ho * w.wo;
  // the input view: x [N, C, H, W] for im2col, columns [N, C·kh·kw, Ho·Wo] for col2im
  const int64_t in_forward[4] = {N, C, H, W}, in_backward[3] = {N, rows, cols};
  const int64_t out_len = forward ? N * rows * cols : N * C * H * W;
  if (!args.check(view_in_bounds(v[0], forward ? in_forward : in_backward, st, ns, x.length) && static_cast<uint64_t>(out_len) <= out.length) ||
      out_len == 0)
    return nullptr;
  (forward ? tg::im2col_f32 : tg::col2im_f32)(x.at<const float>(v[0]), st, N, C, H, W, w, out.at<float>());
  return nullptr;
}
napi_value Im2col(napi_env env, napi_callback_info info) { return Window(env, info, true); }
napi_value Col2im(napi_env env, napi_callback_info info) { return Window(env, info, false); }

napi_value Reduce(napi_env env, napi_callback_info info) {
  Args args(env, info, "reduce", 4);
  const int32_t op = args.int32(0, 0, tg::kNumReduce);
  const bool arg = op == tg::kArgmax || op == tg::kArgmin;
  const Array x = args.f32(1), out = args.array(2, arg ? napi_int32_array : napi_float32_array);
  int64_t v[3 + 4 * tg::kMaxDims] = {};
  const size_t len = args.params(3, 3, v);
  const int nk = static_cast<int>(v[0]), nr = static_cast<int>(v[1]);
  if (!args.check(nk >= 0 && nr >= 0 && nk + nr <= tg::kMaxDims && len >= static_cast<size_t>(3 + 2 * (nk + nr)), "bad rank")) return nullptr;
  const int64_t *ks = v + 3, *kst = ks + nk, *rs = kst + nk, *rst = rs + nr;
  // bounds: the whole view (kept and reduced axes together)
  int64_t all_shape[tg::kMaxDims], all_strides[tg::kMaxDims];
  for (int d = 0; d < nk; d++) all_shape[d] = ks[d], all_strides[d] = kst[d];
  for (int d = 0; d < nr; d++) all_shape[nk + d] = rs[d], all_strides[nk + d] = rst[d];
  if (!args.check(view_in_bounds(v[2], all_shape, all_strides, nk + nr, x.length) && static_cast<uint64_t>(product(ks, nk)) <= out.length &&
                  product(rs, nr) != 0))
    return nullptr;
  if (product(ks, nk) > 0) tg::reduce_f32(op, x.at<const float>(v[2]), nk, ks, kst, nr, rs, rst, out.data);
  return nullptr;
}

napi_value MaxPool2d(napi_env env, napi_callback_info info) {
  Args args(env, info, "maxPool2d", 4);
  const Array x = args.f32(0), values = args.f32(1), indices = args.array(2, napi_int32_array);
  int64_t v[19] = {};
  args.params(3, 19, v);
  tg::Window w;
  if (!args.ok() || !window(args, v + 9, &w)) return nullptr;
  const int64_t N = v[1], C = v[2], H = v[3], W = v[4], dims[4] = {N, C, H, W}, n_out = N * C * w.ho * w.wo;
  if (!args.check(N >= 0 && C >= 0 && H >= 0 && W >= 0 && view_in_bounds(v[0], dims, v + 5, 4, x.length) &&
                  static_cast<uint64_t>(n_out) <= values.length && static_cast<uint64_t>(n_out) <= indices.length))
    return nullptr;
  if (n_out > 0) tg::maxpool2d_f32(x.at<const float>(v[0]), v + 5, N, C, H, W, w, values.at<float>(), indices.at<int32_t>());
  return nullptr;
}

napi_value MaxPool2dBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "maxPool2dBackward", 4);
  const Array g = args.f32(0), idx = args.array(1, napi_int32_array), out = args.f32(2);
  int64_t v[16] = {};
  args.params(3, 16, v);
  const int64_t N = v[2], C = v[3], Ho = v[4], Wo = v[5], H = v[6], W = v[7], dims[4] = {N, C, Ho, Wo};
  if (!args.check(N >= 0 && C >= 0 && Ho >= 0 && Wo >= 0 && H >= 0 && W >= 0 && view_in_bounds(v[0], dims, v + 8, 4, g.length) &&
                  view_in_bounds(v[1], dims, v + 12, 4, idx.length) && static_cast<uint64_t>(N * C * H * W) <= out.length))
    return nullptr;
  if (N * C * Ho * Wo > 0)
    tg::maxpool2d_backward_f32(g.at<const float>(v[0]), v + 8, idx.at<const int32_t>(v[1]), v + 12, N, C, Ho, Wo, H, W, out.at<float>());
  return nullptr;
}

// The fused convolutions' shared parameters (see the list at the top); off[0..3] receive the x,
// w, g and bias offsets. Views are checked by the callers, which know which they read.
bool conv_params(Args& args, size_t i, tg::ConvArgs* a, int64_t* off) {
  int64_t v[32] = {};
  args.params(i, 32, v);
  if (!args.ok() || !args.check(v[0] >= 0 && v[1] >= 0 && v[2] >= 0 && v[3] >= 0 && v[4] >= 0) || !window(args, v + 5, &a->win)) return false;
  a->N = v[0], a->C = v[1], a->H = v[2], a->W = v[3], a->O = v[4];
  off[0] = v[15], off[1] = v[20], off[2] = v[25], off[3] = v[30];
  for (int d = 0; d < 4; d++) a->sx[d] = v[16 + d], a->sw[d] = v[21 + d], a->sg[d] = v[26 + d];
  a->sbias = v[31];
  a->x = a->w = a->g = a->bias = nullptr;
  return true;
}

// A conv gradient's optional pooled-forward indices (Int32Array, ip = [offset, 4 strides, ph, pw,
// hp, wp]) at `at`, at + 1: sets a->idx (then g and y are [N, O, hp, wp]).
bool conv_pool(Args& args, size_t at, tg::ConvArgs* a) {
  if (args.count() <= at + 1) return args.ok();
  const Array idx = args.array(at, napi_int32_array);
  int64_t v[9] = {};
  args.params(at + 1, 9, v);
  if (!args.ok()) return false;
  a->hp = v[7], a->wp = v[8];
  for (int d = 0; d < 4; d++) a->si[d] = v[1 + d];
  const int64_t d[4] = {a->N, a->O, a->hp, a->wp};
  if (args.check(a->hp >= 0 && a->wp >= 0 && view_in_bounds(v[0], d, a->si, 4, idx.length))) a->idx = idx.at<const int32_t>(v[0]);
  return args.ok();
}

// A conv gradient's optional relu'd output (y, [offset, 4 strides]) at `at`, at + 1: points a->y
// at it (a view of g's shape), or leaves it null when absent. Also checks g's view.
bool conv_grad_views(Args& args, size_t at, const Array& g, const int64_t* off, tg::ConvArgs* a) {
  const int64_t gd[4] = {a->N, a->O, a->idx != nullptr ? a->hp : a->win.ho, a->idx != nullptr ? a->wp : a->win.wo};
  if (!args.view4(g, off[2], gd, a->sg, &a->g) || args.count() <= at + 1 || !args.present(at)) return args.ok();
  const Array y = args.f32(at);
  int64_t v[5] = {};
  args.params(at + 1, 5, v);
  if (!args.ok()) return false;
  for (int d = 0; d < 4; d++) a->sy[d] = v[1 + d];
  return args.view4(y, v[0], gd, a->sy, &a->y);
}

napi_value Conv2d(napi_env env, napi_callback_info info) {
  Args args(env, info, "conv2d", 5);
  const Array x = args.f32(0), w = args.f32(1), bias = args.f32(2, true), out = args.f32(3);
  tg::ConvArgs a;
  int64_t off[4];
  if (!conv_params(args, 4, &a, off)) return nullptr;
  const int64_t xd[4] = {a.N, a.C, a.H, a.W}, wd[4] = {a.O, a.C, a.win.kh, a.win.kw}, bd[4] = {a.O, 1, 1, 1}, bs[4] = {a.sbias, 0, 0, 0};
  if (!args.view4(x, off[0], xd, a.sx, &a.x) || !args.view4(w, off[1], wd, a.sw, &a.w) ||
      (bias.given && !args.view4(bias, off[3], bd, bs, &a.bias)))
    return nullptr;
  if (args.count() > 7) {
    // relu then a non-overlapping max pool: out gets the values, indices the argmax, pp = [ph, pw, hp, wp]
    const Array idx = args.array(6, napi_int32_array);
    int64_t pp[4] = {};
    args.params(7, 4, pp);
    const uint64_t n = static_cast<uint64_t>(a.N * a.O * pp[2] * pp[3]);
    if (args.check(pp[0] > 0 && pp[1] > 0 && pp[2] >= 0 && pp[3] >= 0 && n <= out.length && n <= idx.length))
      tg::conv2d_relu_maxpool_f32(a, pp[0], pp[1], pp[2], pp[3], out.at<float>(), idx.at<int32_t>());
    return nullptr;
  }
  a.relu = args.count() > 5 && args.boolean(5);
  if (args.check(static_cast<uint64_t>(a.N * a.O * a.win.ho * a.win.wo) <= out.length)) tg::conv2d_f32(a, out.at<float>());
  return nullptr;
}

// conv2dBackwardInput(g, w, dx, p[, y, yp[, indices, poolParams]])
napi_value Conv2dBackwardInput(napi_env env, napi_callback_info info) {
  Args args(env, info, "conv2dBackwardInput", 4);
  const Array g = args.f32(0), w = args.f32(1), dx = args.f32(2);
  tg::ConvArgs a;
  int64_t off[4];
  if (!conv_params(args, 3, &a, off) || !conv_pool(args, 6, &a)) return nullptr;
  const int64_t wd[4] = {a.O, a.C, a.win.kh, a.win.kw};
  if (conv_grad_views(args, 4, g, off, &a) && args.view4(w, off[1], wd, a.sw, &a.w) &&
      args.check(static_cast<uint64_t>(a.N * a.C * a.H * a.W) <= dx.length))
    tg::conv2d_backward_input_f32(a, dx.at<float>());
  return nullptr;
}

// conv2dBackwardWeight(g, x, dw, db | null, p[, y, yp[, indices, poolParams]])
napi_value Conv2dBackwardWeight(napi_env env, napi_callback_info info) {
  Args args(env, info, "conv2dBackwardWeight", 5);
  const Array g = args.f32(0), x = args.f32(1), dw = args.f32(2), db = args.f32(3, true);
  tg::ConvArgs a;
  int64_t off[4];
  if (!conv_params(args, 4, &a, off) || !conv_pool(args, 7, &a)) return nullptr;
  const int64_t xd[4] = {a.N, a.C, a.H, a.W};
  if (conv_grad_views(args, 5, g, off, &a) && args.view4(x, off[0], xd, a.sx, &a.x) &&
      args.check(static_cast<uint64_t>(a.O * a.C * a.win.kh * a.win.kw) <= dw.length && (!db.given || static_cast<uint64_t>(a.O) <= db.length)))
    tg::conv2d_backward_weight_f32(a, dw.at<float>(), db.at<float>());
  return nullptr;
}

// linearBackward(g, x, w, y | null, dx | null, dw | null, db | null, p): p = [M, N, K, then offset
// and 2 strides of g, x, w, y]; the fused linear layer's gradients (gemm.h).
napi_value LinearBackward(napi_env env, napi_callback_info info) {
  Args args(env, info, "linearBackward", 8);
  Array arr[7];
  for (size_t i = 0; i < 7; i++) arr[i] = args.f32(i, i >= 3);
  int64_t v[15] = {};
  args.params(7, 15, v);
  if (!args.ok()) return nullptr;
  const int64_t M = v[0], N = v[1], K = v[2], mn[2] = {M, N}, mk[2] = {M, K}, nk[2] = {N, K};
  if (!args.check(M >= 0 && N >= 0 && K >= 0 && view_in_bounds(v[3], mn, v + 4, 2, arr[0].length) &&
                  view_in_bounds(v[6], mk, v + 7, 2, arr[1].length) && view_in_bounds(v[9], nk, v + 10, 2, arr[2].length) &&
                  (!arr[3].given || view_in_bounds(v[12], mn, v + 13, 2, arr[3].length)) &&
                  static_cast<uint64_t>(M * K) <= (arr[4].given ? arr[4].length : ~size_t{0}) &&
                  static_cast<uint64_t>(N * K) <= (arr[5].given ? arr[5].length : ~size_t{0}) &&
                  static_cast<uint64_t>(N) <= (arr[6].given ? arr[6].length : ~size_t{0})))
    return nullptr;
  const tg::LinearBackwardArgs a{M, N, K, arr[0].at<const float>(v[3]), {v[4], v[5]}, arr[1].at<const float>(v[6]), {v[7], v[8]},
                                 arr[2].at<const float>(v[9]), {v[10], v[11]}, arr[3].at<const float>(v[12]), {v[13], v[14]}};
  tg::linear_backward_f32(a, arr[4].at<float>(), arr[5].at<float>(), arr[6].at<float>());
  return nullptr;
}

// adamStep(w, g, m, v, vmax | null, h): one Adam/AdamW step on w.length elements (elementwise.h).
napi_value AdamStep(napi_env env, napi_callback_info info) {
  Args args(env, info, "adamStep", 6);
  const Array w = args.f32(0), g = args.f32(1), m = args.f32(2), v = args.f32(3), vmax = args.f32(4, true), h = args.array(5, napi_float64_array);
  const size_t n = w.length;
  if (args.check(g.length >= n && m.length >= n && v.length >= n && (!vmax.given || vmax.length >= n) && h.length >= 9,
                 "arrays shorter than w, or fewer than 9 hyperparameters"))
    tg::adam_f32(w.at<float>(), g.at<const float>(), m.at<float>(), v.at<float>(), vmax.at<float>(), static_cast<int64_t>(n), h.at<const double>());
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  Args args(env, info, "setThreads", 1);
  const int32_t n = args.int32(0, 1, INT32_MAX);
  if (args.ok()) tg::set_num_threads(n);
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
  char name[32] = {0};
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len) != napi_ok) {
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
