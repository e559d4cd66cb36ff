// Batch and layer normalization, forward and backward. Data tensors are f32 or bf16;
// statistics, scale and shift are f32 vectors. Batch norm takes src of rank 2..5 (N, C, ...)
// in the layout it comes in (the tensor layer passes row-major or channels-last): row-major
// planes run on our own kernels, everything else on oneDNN. Layer norm runs on oneDNN over a
// row-major [rows, D] block normalized over D.
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"

namespace tsv {

namespace {

using dnnl::normalization_flags;
using dnnl::prop_kind;

normalization_flags Flags(bool scale, bool shift, bool globalStats) {
  unsigned f = 0;
  if (scale) f |= static_cast<unsigned>(normalization_flags::use_scale);
  if (shift) f |= static_cast<unsigned>(normalization_flags::use_shift);
  if (globalStats) f |= static_cast<unsigned>(normalization_flags::use_global_stats);
  return static_cast<normalization_flags>(f);
}

bool IsFloat(DType dt) { return dt == DType::F32 || dt == DType::BF16; }

// An optional f32 vector field of n elements, contiguous; false where it is absent or null.
bool ReadVector(const Options& o, const char* what, int64_t n, View& v) {
  if (!o.OptionalTensor(what, &v)) return false;
  if (v.dtype != DType::F32) Fail(std::string(what) + " must be float32, got " + DTypeName(v.dtype));
  if (v.numel() != n || !v.contiguous())
    Fail(std::string(what) + " must be a contiguous vector of " + std::to_string(n) + " elements, got shape [" +
         DimsKey(v.shape) + "]");
  return true;
}

void CheckData(const View& v, const char* what) {
  if (!IsFloat(v.dtype)) Fail(std::string(what) + " must be float32 or bfloat16, got " + DTypeName(v.dtype));
}

void CheckSame(const View& a, const View& b, const char* what) {
  if (a.shape != b.shape || a.dtype != b.dtype)
    Fail(std::string(what) + " must match the data in shape and dtype: [" + DimsKey(b.shape) + "] " + DTypeName(b.dtype) +
         " vs [" + DimsKey(a.shape) + "] " + DTypeName(a.dtype));
}

void CheckSameLayout(const View& a, const View& b, const char* what) {
  CheckSame(a, b, what);
  if (a.strides != b.strides) Fail(std::string(what) + " must have the strides of its partner [" + DimsKey(a.strides) + "]");
}

dnnl::memory F32Mem(const View& v, int64_t n) {
  return dnnl::memory({{n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a}, Engine(), v.data());
}

// Scratch for a diff scale/shift that oneDNN writes but the caller did not ask for.
dnnl::memory ScratchF32(std::vector<float>& buf, int64_t n) {
  buf.assign(static_cast<size_t>(n), 0.f);
  return dnnl::memory({{n}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a}, Engine(), buf.data());
}

// ---- batch normalization, row-major --------------------------------------------------
// oneDNN 2.6 runs row-major (ncsp) batch norm on a generic kernel several times slower than
// a plain loop, so these kernels take that layout: N·C planes of S contiguous elements.
// Channels-last and [N, C] data go to oneDNN's jit kernels below.

template <class T> inline float Ld(T v) { return v; }
template <> inline float Ld<uint16_t>(uint16_t v) { return Bf16ToF32(v); }
template <class T> inline T St(float v) { return v; }
template <> inline uint16_t St<uint16_t>(float v) { return F32ToBf16(v); }

struct Planes {
  int64_t N, C, S;
  int64_t count() const { return N * C; }
  double perChannel() const { return static_cast<double>(N * S); }
};

Planes PlanesOf(const View& x) {
  Planes g{x.shape[0], x.shape[1], 1};
  for (int d = 2; d < x.ndim(); ++d) g.S *= x.shape[d];
  return g;
}

// Σ a[i]·(b[i] − shift) over a plane (b only, squared, when a is null), in 8 independent
// float lanes so the loop vectorizes, totalled in double.
template <class T>
double PlaneDot(const T* a, const T* b, int64_t n, float shift) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  if (a == nullptr) {
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) { const float v = Ld(b[i + k]) - shift; lanes[k] += v * v; }
  } else {
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) lanes[k] += Ld(a[i + k]) * (Ld(b[i + k]) - shift);
  }
  double total = 0;
  for (int k = 0; k < 8; ++k) total += lanes[k];
  for (; i < n; ++i) {
    const double v = Ld(b[i]) - shift;
    total += a == nullptr ? v * v : Ld(a[i]) * v;
  }
  return total;
}

template <class T>
double PlaneSum(const T* p, int64_t n) {
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; ++k) lanes[k] += Ld(p[i + k]);
  double total = 0;
  for (int k = 0; k < 8; ++k) total += lanes[k];
  for (; i < n; ++i) total += Ld(p[i]);
  return total;
}

// Per-channel totals of per-plane values, summed over n in a fixed order (deterministic).
void ChannelTotals(const std::vector<double>& perPlane, const Planes& g, std::vector<double>& out) {
  out.assign(static_cast<size_t>(g.C), 0.0);
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t c = 0; c < g.C; ++c) out[c] += perPlane[n * g.C + c];
}

bool ParallelPlanes(const Planes& g) { return g.count() > 1 && g.count() * g.S > (1 << 15); }

// Batch mean and biased variance per channel, in two passes (mean, then squares about it).
template <class T>
void PlanarStats(const T* x, const Planes& g, float* mean, float* var) {
  std::vector<double> plane(static_cast<size_t>(g.count())), total;
#pragma omp parallel for schedule(static) if (ParallelPlanes(g))
  for (int64_t p = 0; p < g.count(); ++p) plane[p] = PlaneSum(x + p * g.S, g.S);
  ChannelTotals(plane, g, total);
  for (int64_t c = 0; c < g.C; ++c) mean[c] = static_cast<float>(total[c] / g.perChannel());
#pragma omp parallel for schedule(static) if (ParallelPlanes(g))
  for (int64_t p = 0; p < g.count(); ++p) plane[p] = PlaneDot<T>(nullptr, x + p * g.S, g.S, mean[p % g.C]);
  ChannelTotals(plane, g, total);
  for (int64_t c = 0; c < g.C; ++c) var[c] = static_cast<float>(total[c] / g.perChannel());
}

std::vector<float> InvStd(const float* var, int64_t C, float eps) {
  std::vector<float> out(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) out[c] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var[c]) + eps));
  return out;
}

template <class T>
void PlanarForward(const View& x, const View& out, float* mean, float* var, const float* weight, const float* bias,
                   float eps, bool training) {
  const Planes g = PlanesOf(x);
  const T* src = x.ptr<T>();
  T* dst = out.ptr<T>();
  if (training) PlanarStats(src, g, mean, var);
  const std::vector<float> invstd = InvStd(var, g.C, eps);
  std::vector<float> scale(static_cast<size_t>(g.C)), shift(static_cast<size_t>(g.C));
  for (int64_t c = 0; c < g.C; ++c) {
    scale[c] = (weight ? weight[c] : 1.f) * invstd[c];
    shift[c] = (bias ? bias[c] : 0.f) - mean[c] * scale[c];
  }
#pragma omp parallel for schedule(static) if (ParallelPlanes(g))
  for (int64_t p = 0; p < g.count(); ++p) {
    const float a = scale[p % g.C], b = shift[p % g.C];
    const T* xp = src + p * g.S;
    T* yp = dst + p * g.S;
    for (int64_t i = 0; i < g.S; ++i) yp[i] = St<T>(Ld(xp[i]) * a + b);
  }
}

// dx = w·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)) with batch statistics, w·invstd·dy with
// global ones; dw = Σ dy·x̂, db = Σ dy.
template <class T>
void PlanarBackward(const View& x, const View& gradOut, const View& gradIn, const float* mean, const float* var,
                    const float* weight, float* gradWeight, float* gradBias, float eps, bool globalStats) {
  const Planes g = PlanesOf(x);
  const T* src = x.ptr<T>();
  const T* dy = gradOut.ptr<T>();
  T* dx = gradIn.ptr<T>();
  const std::vector<float> invstd = InvStd(var, g.C, eps);
  std::vector<double> sumDy(static_cast<size_t>(g.C), 0.0), sumDyX(static_cast<size_t>(g.C), 0.0);
  if (!globalStats || gradWeight || gradBias) {
    std::vector<double> planeDy(static_cast<size_t>(g.count())), planeDyX(static_cast<size_t>(g.count()));
#pragma omp parallel for schedule(static) if (ParallelPlanes(g))
    for (int64_t p = 0; p < g.count(); ++p) {
      planeDy[p] = PlaneSum(dy + p * g.S, g.S);
      planeDyX[p] = PlaneDot(dy + p * g.S, src + p * g.S, g.S, mean[p % g.C]);
    }
    ChannelTotals(planeDy, g, sumDy);
    ChannelTotals(planeDyX, g, sumDyX);
  }
  for (int64_t c = 0; c < g.C; ++c) {
    if (gradWeight) gradWeight[c] = static_cast<float>(sumDyX[c] * invstd[c]);
    if (gradBias) gradBias[c] = static_cast<float>(sumDy[c]);
  }
  std::vector<float> k(static_cast<size_t>(g.C)), meanDy(static_cast<size_t>(g.C)), xCoef(static_cast<size_t>(g.C));
  for (int64_t c = 0; c < g.C; ++c) {
    k[c] = (weight ? weight[c] : 1.f) * invstd[c];
    meanDy[c] = globalStats ? 0.f : static_cast<float>(sumDy[c] / g.perChannel());
    xCoef[c] = globalStats ? 0.f : static_cast<float>(sumDyX[c] * invstd[c] * invstd[c] / g.perChannel());
  }
#pragma omp parallel for schedule(static) if (ParallelPlanes(g))
  for (int64_t p = 0; p < g.count(); ++p) {
    const int64_t c = p % g.C;
    const float kc = k[c], md = meanDy[c], xc = xCoef[c], m = mean[c];
    const T* xp = src + p * g.S;
    const T* gp = dy + p * g.S;
    T* dp = dx + p * g.S;
    for (int64_t i = 0; i < g.S; ++i) dp[i] = St<T>(kc * (Ld(gp[i]) - md - (Ld(xp[i]) - m) * xc));
  }
}

// Row-major data with more than one element per plane takes the kernels above.
bool IsPlanar(const View& x) { return x.ndim() > 2 && x.contiguous() && PlanesOf(x).S > 1; }

float* F32Ptr(const View& v, bool present) { return present ? v.ptr<float>() : nullptr; }

// ---- batch normalization, oneDNN ---------------------------------------------------------

dnnl::batch_normalization_forward::primitive_desc BnormFwdPd(const View& x, float eps, normalization_flags flags,
                                                              prop_kind kind) {
  dnnl::batch_normalization_forward::desc d(kind, x.desc("batchNormForward"), eps, flags);
  return dnnl::batch_normalization_forward::primitive_desc(d, Engine());
}

// batchNormForward({ x, mean, variance, weight?, bias?, out, eps, training })
Napi::Value BatchNormForward(const Napi::CallbackInfo& info) {
  const char* op = "batchNormForward";
  const Options o(info, op);
  View x = o.Tensor("x");
  CheckData(x, "x");
  if (x.ndim() < 2 || x.ndim() > 5) Fail("x must have rank 2..5, got shape [" + DimsKey(x.shape) + "]");
  const int64_t C = x.shape[1];
  View mean, var, weight, bias;
  if (!ReadVector(o, "mean", C, mean)) Fail("mean is required");
  if (!ReadVector(o, "variance", C, var)) Fail("variance is required");
  const bool hasWeight = ReadVector(o, "weight", C, weight);
  const bool hasBias = ReadVector(o, "bias", C, bias);
  View out = o.Tensor("out");
  CheckSameLayout(x, out, "out");
  const float eps = static_cast<float>(o.Number("eps"));
  const bool training = o.Flag("training");
  if (x.numel() == 0) return info.Env().Undefined();
  if (IsPlanar(x)) {
    if (x.dtype == DType::F32)
      PlanarForward<float>(x, out, mean.ptr<float>(), var.ptr<float>(), F32Ptr(weight, hasWeight), F32Ptr(bias, hasBias), eps, training);
    else
      PlanarForward<uint16_t>(x, out, mean.ptr<float>(), var.ptr<float>(), F32Ptr(weight, hasWeight), F32Ptr(bias, hasBias), eps, training);
    return info.Env().Undefined();
  }

  const normalization_flags flags = Flags(hasWeight, hasBias, !training);
  const prop_kind kind = training ? prop_kind::forward_training : prop_kind::forward_inference;
  const std::string key = std::string("bnf|") + ViewKey(x) + FloatKey(eps) + "|" +
                          std::to_string(static_cast<unsigned>(flags)) + (training ? "t" : "i");
  auto& prim = CachedPrimitive<dnnl::batch_normalization_forward>(
      key, [&]() { return dnnl::batch_normalization_forward(BnormFwdPd(x, eps, flags, kind)); });
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x.mem(op)},
                                             {DNNL_ARG_DST, out.mem(op)},
                                             {DNNL_ARG_MEAN, F32Mem(mean, C)},
                                             {DNNL_ARG_VARIANCE, F32Mem(var, C)}};
  if (hasWeight) args.emplace(DNNL_ARG_SCALE, F32Mem(weight, C));
  if (hasBias) args.emplace(DNNL_ARG_SHIFT, F32Mem(bias, C));
  Run(prim, args);
  return info.Env().Undefined();
}

// batchNormBackward({ x, gradOut, mean, variance, weight?, bias?, gradIn, gradWeight?, gradBias?, eps, globalStats })
Napi::Value BatchNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "batchNormBackward";
  const Options o(info, op);
  View x = o.Tensor("x");
  CheckData(x, "x");
  if (x.ndim() < 2 || x.ndim() > 5) Fail("x must have rank 2..5, got shape [" + DimsKey(x.shape) + "]");
  const int64_t C = x.shape[1];
  View gradOut = o.Tensor("gradOut");
  CheckSame(x, gradOut, "gradOut");
  View mean, var, weight, bias, gradWeight, gradBias;
  if (!ReadVector(o, "mean", C, mean)) Fail("mean is required");
  if (!ReadVector(o, "variance", C, var)) Fail("variance is required");
  const bool hasWeight = ReadVector(o, "weight", C, weight);
  const bool hasBias = ReadVector(o, "bias", C, bias);
  View gradIn = o.Tensor("gradIn");
  CheckSameLayout(gradOut, gradIn, "gradIn");
  const bool wantWeight = ReadVector(o, "gradWeight", C, gradWeight);
  const bool wantBias = ReadVector(o, "gradBias", C, gradBias);
  const float eps = static_cast<float>(o.Number("eps"));
  const bool globalStats = o.Flag("globalStats");
  if (wantWeight && !hasWeight) Fail("gradWeight was asked for without a weight");
  if (wantBias && !hasBias) Fail("gradBias was asked for without a bias");
  if (x.numel() == 0) return info.Env().Undefined();
  if (IsPlanar(x) && gradOut.contiguous()) {
    float* gw = F32Ptr(gradWeight, wantWeight);
    float* gb = F32Ptr(gradBias, wantBias);
    if (x.dtype == DType::F32)
      PlanarBackward<float>(x, gradOut, gradIn, mean.ptr<float>(), var.ptr<float>(), F32Ptr(weight, hasWeight), gw, gb, eps, globalStats);
    else
      PlanarBackward<uint16_t>(x, gradOut, gradIn, mean.ptr<float>(), var.ptr<float>(), F32Ptr(weight, hasWeight), gw, gb, eps, globalStats);
    return info.Env().Undefined();
  }

  // Always the full backward (oneDNN 2.6 lacks backward_data for several flag sets); the
  // diff scale/shift nobody asked for land in scratch.
  const normalization_flags flags = Flags(hasWeight, hasBias, globalStats);
  const std::string key = std::string("bnb|") + ViewKey(x) + ViewKey(gradOut) + FloatKey(eps) + "|" +
                          std::to_string(static_cast<unsigned>(flags));
  auto& prim = CachedPrimitive<dnnl::batch_normalization_backward>(key, [&]() {
    auto hint = BnormFwdPd(x, eps, flags, prop_kind::forward_training);
    dnnl::batch_normalization_backward::desc d(prop_kind::backward, gradOut.desc(op), x.desc(op), eps, flags);
    return dnnl::batch_normalization_backward(dnnl::batch_normalization_backward::primitive_desc(d, Engine(), hint));
  });
  std::vector<float> scratchScale, scratchShift;
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x.mem(op)},
                                             {DNNL_ARG_DIFF_DST, gradOut.mem(op)},
                                             {DNNL_ARG_DIFF_SRC, gradIn.mem(op)},
                                             {DNNL_ARG_MEAN, F32Mem(mean, C)},
                                             {DNNL_ARG_VARIANCE, F32Mem(var, C)}};
  if (hasWeight) {
    args.emplace(DNNL_ARG_SCALE, F32Mem(weight, C));
    args.emplace(DNNL_ARG_DIFF_SCALE, wantWeight ? F32Mem(gradWeight, C) : ScratchF32(scratchScale, C));
  }
  if (hasBias) {
    args.emplace(DNNL_ARG_SHIFT, F32Mem(bias, C));
    args.emplace(DNNL_ARG_DIFF_SHIFT, wantBias ? F32Mem(gradBias, C) : ScratchF32(scratchShift, C));
  }
  Run(prim, args);
  return info.Env().Undefined();
}

// ---- layer normalization ------------------------------------------------------------

void CheckRows(const View& x, const char* what) {
  CheckData(x, what);
  if (x.ndim() != 2 || !x.contiguous()) Fail(std::string(what) + " must be a contiguous [rows, D] block, got shape [" + DimsKey(x.shape) + "]");
}

dnnl::memory::desc StatDesc(int64_t rows) {
  return dnnl::memory::desc({rows}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::a);
}

dnnl::layer_normalization_forward::primitive_desc LnormFwdPd(const View& x, float eps, normalization_flags flags,
                                                              prop_kind kind) {
  dnnl::layer_normalization_forward::desc d(kind, x.desc("layerNormForward"), StatDesc(x.shape[0]), eps, flags);
  return dnnl::layer_normalization_forward::primitive_desc(d, Engine());
}

// layerNormForward({ x, weight?, bias?, out, mean?, variance?, eps })
Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  const char* op = "layerNormForward";
  const Options o(info, op);
  View x = o.Tensor("x");
  CheckRows(x, "x");
  const int64_t rows = x.shape[0], D = x.shape[1];
  View weight, bias, mean, var;
  const bool hasWeight = ReadVector(o, "weight", D, weight);
  const bool hasBias = ReadVector(o, "bias", D, bias);
  View out = o.Tensor("out");
  CheckSameLayout(x, out, "out");
  const bool hasMean = ReadVector(o, "mean", rows, mean);
  const bool hasVar = ReadVector(o, "variance", rows, var);
  if (hasMean != hasVar) Fail("mean and variance must be given together");
  const float eps = static_cast<float>(o.Number("eps"));
  if (x.numel() == 0) return info.Env().Undefined();

  const normalization_flags flags = Flags(hasWeight, hasBias, false);
  const prop_kind kind = hasMean ? prop_kind::forward_training : prop_kind::forward_inference;
  const std::string key = std::string("lnf|") + ViewKey(x) + FloatKey(eps) + "|" +
                          std::to_string(static_cast<unsigned>(flags)) + (hasMean ? "t" : "i");
  auto& prim = CachedPrimitive<dnnl::layer_normalization_forward>(
      key, [&]() { return dnnl::layer_normalization_forward(LnormFwdPd(x, eps, flags, kind)); });
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x.mem(op)}, {DNNL_ARG_DST, out.mem(op)}};
  if (hasMean) {
    args.emplace(DNNL_ARG_MEAN, F32Mem(mean, rows));
    args.emplace(DNNL_ARG_VARIANCE, F32Mem(var, rows));
  }
  if (hasWeight) args.emplace(DNNL_ARG_SCALE, F32Mem(weight, D));
  if (hasBias) args.emplace(DNNL_ARG_SHIFT, F32Mem(bias, D));
  Run(prim, args);
  return info.Env().Undefined();
}

// layerNormBackward({ x, gradOut, mean, variance, weight?, bias?, gradIn, gradWeight?, gradBias?, eps })
Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const char* op = "layerNormBackward";
  const Options o(info, op);
  View x = o.Tensor("x");
  CheckRows(x, "x");
  const int64_t rows = x.shape[0], D = x.shape[1];
  View gradOut = o.Tensor("gradOut");
  CheckSameLayout(x, gradOut, "gradOut");
  View mean, var, weight, bias, gradWeight, gradBias;
  if (!ReadVector(o, "mean", rows, mean)) Fail("mean is required");
  if (!ReadVector(o, "variance", rows, var)) Fail("variance is required");
  const bool hasWeight = ReadVector(o, "weight", D, weight);
  const bool hasBias = ReadVector(o, "bias", D, bias);
  View gradIn = o.Tensor("gradIn");
  CheckSameLayout(x, gradIn, "gradIn");
  const bool wantWeight = ReadVector(o, "gradWeight", D, gradWeight);
  const bool wantBias = ReadVector(o, "gradBias", D, gradBias);
  const float eps = static_cast<float>(o.Number("eps"));
  if (wantWeight && !hasWeight) Fail("gradWeight was asked for without a weight");
  if (wantBias && !hasBias) Fail("gradBias was asked for without a bias");
  if (x.numel() == 0) return info.Env().Undefined();

  // Always the full backward (oneDNN 2.6 lacks backward_data for several flag sets); the
  // diff scale/shift nobody asked for land in scratch.
  const normalization_flags flags = Flags(hasWeight, hasBias, false);
  const std::string key = std::string("lnb|") + ViewKey(x) + FloatKey(eps) + "|" + std::to_string(static_cast<unsigned>(flags));
  auto& prim = CachedPrimitive<dnnl::layer_normalization_backward>(key, [&]() {
    auto hint = LnormFwdPd(x, eps, flags, prop_kind::forward_training);
    dnnl::layer_normalization_backward::desc d(prop_kind::backward, gradOut.desc(op), x.desc(op), StatDesc(rows), eps, flags);
    return dnnl::layer_normalization_backward(dnnl::layer_normalization_backward::primitive_desc(d, Engine(), hint));
  });
  std::vector<float> scratchScale, scratchShift;
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, x.mem(op)},
                                             {DNNL_ARG_DIFF_DST, gradOut.mem(op)},
                                             {DNNL_ARG_DIFF_SRC, gradIn.mem(op)},
                                             {DNNL_ARG_MEAN, F32Mem(mean, rows)},
                                             {DNNL_ARG_VARIANCE, F32Mem(var, rows)}};
  if (hasWeight) {
    args.emplace(DNNL_ARG_SCALE, F32Mem(weight, D));
    args.emplace(DNNL_ARG_DIFF_SCALE, wantWeight ? F32Mem(gradWeight, D) : ScratchF32(scratchScale, D));
  }
  if (hasBias) {
    args.emplace(DNNL_ARG_SHIFT, F32Mem(bias, D));
    args.emplace(DNNL_ARG_DIFF_SHIFT, wantBias ? F32Mem(gradBias, D) : ScratchF32(scratchShift, D));
  }
  Run(prim, args);
  return info.Env().Undefined();
}

}  // namespace

void RegisterNorm(Napi::Env env, Napi::Object exports) {
  // Statistics, scale and shift are f32 beside bf16 data; the rest is computed in f32 where oneDNN has no bf16 kernels.
  const Bf16Fallback f32Stats{"x", {"mean", "variance", "weight", "bias", "gradWeight", "gradBias"}};
  ExportOneDnn(env, exports, "batchNormForward", BatchNormForward, f32Stats);
  ExportOneDnn(env, exports, "batchNormBackward", BatchNormBackward, f32Stats);
  ExportOneDnn(env, exports, "layerNormForward", LayerNormForward, f32Stats);
  ExportOneDnn(env, exports, "layerNormBackward", LayerNormBackward, f32Stats);
}

}  // namespace tsv
