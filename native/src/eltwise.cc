// Unary elementwise kernels, forward and backward: oneDNN eltwise for the algorithms it has,
// small OpenMP loops (MathOp) where it has none or differs from torch, a broadcasting select
// (where), and oneDNN softmax_v2.
// Eltwise and the math loops take contiguous tensors of one float dtype (the TS side makes
// them so); they run over the flat buffer, so primitives are cached by element count alone.
#include <cmath>

#include "common.h"
#include "strided.h"

namespace tsv {

namespace {

using dnnl::algorithm;

// Codes shared with src/tensor/ops/unary.ts (ELTWISE_ALG). The *Dst variants compute the same
// forward but their backward reads the forward's output instead of its input.
enum Alg : int {
  Relu, GeluErf, GeluTanh, Logistic, Tanh, Exp, Log, Sqrt, Abs, Swish, Clip, Linear, Pow, Square,
  ReluDst, LogisticDst, TanhDst, ExpDst, SqrtDst, kAlgCount
};

algorithm ToAlgorithm(int alg) {
  switch (alg) {
    case Relu: return algorithm::eltwise_relu;
    case GeluErf: return algorithm::eltwise_gelu_erf;
    case GeluTanh: return algorithm::eltwise_gelu_tanh;
    case Logistic: return algorithm::eltwise_logistic;
    case Tanh: return algorithm::eltwise_tanh;
    case Exp: return algorithm::eltwise_exp;
    case Log: return algorithm::eltwise_log;
    case Sqrt: return algorithm::eltwise_sqrt;
    case Abs: return algorithm::eltwise_abs;
    case Swish: return algorithm::eltwise_swish;
    case Clip: return algorithm::eltwise_clip;
    case Linear: return algorithm::eltwise_linear;
    case Pow: return algorithm::eltwise_pow;
    case Square: return algorithm::eltwise_square;
    case ReluDst: return algorithm::eltwise_relu_use_dst_for_bwd;
    case LogisticDst: return algorithm::eltwise_logistic_use_dst_for_bwd;
    case TanhDst: return algorithm::eltwise_tanh_use_dst_for_bwd;
    case ExpDst: return algorithm::eltwise_exp_use_dst_for_bwd;
    case SqrtDst: return algorithm::eltwise_sqrt_use_dst_for_bwd;
  }
  Fail("unknown eltwise algorithm code " + std::to_string(alg));
}

int ReadAlg(const Napi::CallbackInfo& info) {
  int alg = info[0].As<Napi::Number>().Int32Value();
  if (alg < 0 || alg >= kAlgCount) Fail("unknown eltwise algorithm code " + std::to_string(alg));
  return alg;
}

void CheckFloat(const View& v, const char* what) {
  if (v.dtype != DType::F32 && v.dtype != DType::BF16)
    Fail(std::string(what) + " has dtype " + DTypeName(v.dtype) + ", expected float32 or bfloat16");
}

// Every tensor must be contiguous, of `first`'s shape and dtype.
void CheckSame(const View& first, const char* firstName, std::initializer_list<std::pair<const View*, const char*>> rest) {
  CheckFloat(first, firstName);
  if (!first.contiguous()) Fail(std::string(firstName) + " must be contiguous");
  for (const auto& [v, name] : rest) {
    if (v->shape != first.shape) Fail(std::string(name) + " has shape " + DimsKey(v->shape) + ", expected " + DimsKey(first.shape));
    if (v->dtype != first.dtype) Fail(std::string(name) + " has dtype " + DTypeName(v->dtype) + ", expected " + DTypeName(first.dtype));
    if (!v->contiguous()) Fail(std::string(name) + " must be contiguous");
  }
}

dnnl::memory::desc FlatDesc(const View& v, const char* op) {
  return dnnl::memory::desc({v.numel()}, ToDnnl(v.dtype, op), dnnl::memory::format_tag::a);
}

dnnl::memory FlatMem(const View& v, const char* op) { return dnnl::memory(FlatDesc(v, op), Engine(), v.data()); }

// The exact bits: primitives bake alpha and beta in, so nearby values must not share a key.
std::string FloatKey(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return std::to_string(bits);
}

std::string EltwiseKey(const char* kind, int alg, float alpha, float beta, const View& v) {
  return std::string(kind) + "|" + std::to_string(alg) + "|" + FloatKey(alpha) + "|" + FloatKey(beta) + "|" +
         std::to_string(static_cast<int>(v.dtype)) + "|" + std::to_string(v.numel());
}

dnnl::eltwise_forward::primitive_desc ForwardPd(int alg, float alpha, float beta, const View& v, const char* op) {
  dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_training, ToAlgorithm(alg), FlatDesc(v, op), alpha, beta);
  return dnnl::eltwise_forward::primitive_desc(d, Engine());
}

// eltwise(alg, alpha, beta, src, dst); dst may be src (in place).
Napi::Value Eltwise(const Napi::CallbackInfo& info) {
  const char* op = "eltwise";
  const int alg = ReadAlg(info);
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  const float beta = info[2].As<Napi::Number>().FloatValue();
  View src = ReadView(info[3], op, "src");
  View dst = ReadView(info[4], op, "dst");
  CheckSame(src, "src", {{&dst, "dst"}});
  if (src.numel() == 0) return info.Env().Undefined();
  auto& prim = CachedPrimitive<dnnl::eltwise_forward>(EltwiseKey("eltf", alg, alpha, beta, src), [&]() {
    return dnnl::eltwise_forward(ForwardPd(alg, alpha, beta, src, op));
  });
  Run(prim, {{DNNL_ARG_SRC, FlatMem(src, op)}, {DNNL_ARG_DST, FlatMem(dst, op)}});
  return info.Env().Undefined();
}

// eltwiseBackward(alg, alpha, beta, data, diffDst, diffSrc); data is the forward's dst for
// the *Dst algorithms, else its src.
Napi::Value EltwiseBackward(const Napi::CallbackInfo& info) {
  const char* op = "eltwiseBackward";
  const int alg = ReadAlg(info);
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  const float beta = info[2].As<Napi::Number>().FloatValue();
  View data = ReadView(info[3], op, "data");
  View diffDst = ReadView(info[4], op, "diffDst");
  View diffSrc = ReadView(info[5], op, "diffSrc");
  CheckSame(data, "data", {{&diffDst, "diffDst"}, {&diffSrc, "diffSrc"}});
  if (data.numel() == 0) return info.Env().Undefined();
  auto& prim = CachedPrimitive<dnnl::eltwise_backward>(EltwiseKey("eltb", alg, alpha, beta, data), [&]() {
    auto hint = ForwardPd(alg, alpha, beta, data, op);
    dnnl::eltwise_backward::desc d(ToAlgorithm(alg), FlatDesc(data, op), FlatDesc(data, op), alpha, beta);
    return dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(d, Engine(), hint));
  });
  const bool useDst = alg >= ReluDst;
  Run(prim, {{useDst ? DNNL_ARG_DST : DNNL_ARG_SRC, FlatMem(data, op)},
             {DNNL_ARG_DIFF_DST, FlatMem(diffDst, op)},
             {DNNL_ARG_DIFF_SRC, FlatMem(diffSrc, op)}});
  return info.Env().Undefined();
}

// Codes shared with src/tensor/ops/unary.ts (MATH_OP): what oneDNN eltwise lacks, and what
// its jit computes unlike torch at special values (NaN through relu, clip and exp; log near 1).
enum MathOp : int { MathErf, MathSin, MathCos, MathLog, MathClamp, MathRelu, MathExp, MathRsqrt };

// F32ToBf16 without branches, so that the loops below vectorize.
inline uint16_t RoundToBf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const uint32_t quiet = (bits >> 16) | 0x40u;
  return static_cast<uint16_t>((bits & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
}

template <class F>
void MapFloat(const View& src, const View& dst, F f) {
  const int64_t n = src.numel();
  if (src.dtype == DType::F32) {
    const float* x = src.ptr<float>();
    float* y = dst.ptr<float>();
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  } else {
    const uint16_t* x = src.ptr<uint16_t>();
    uint16_t* y = dst.ptr<uint16_t>();
#pragma omp parallel for schedule(static) if (n > (1 << 14))
    for (int64_t i = 0; i < n; ++i) y[i] = RoundToBf16(f(Bf16ToF32(x[i])));
  }
}

// unaryMath(op, alpha, beta, src, dst); clamp bounds are alpha and beta.
Napi::Value UnaryMath(const Napi::CallbackInfo& info) {
  const char* name = "unaryMath";
  const int op = info[0].As<Napi::Number>().Int32Value();
  const float alpha = info[1].As<Napi::Number>().FloatValue();
  const float beta = info[2].As<Napi::Number>().FloatValue();
  View src = ReadView(info[3], name, "src");
  View dst = ReadView(info[4], name, "dst");
  CheckSame(src, "src", {{&dst, "dst"}});
  switch (op) {
    case MathErf: MapFloat(src, dst, [](float x) { return std::erf(x); }); break;
    case MathSin: MapFloat(src, dst, [](float x) { return std::sin(x); }); break;
    case MathCos: MapFloat(src, dst, [](float x) { return std::cos(x); }); break;
    case MathLog: MapFloat(src, dst, [](float x) { return std::log(x); }); break;
    // As torch: NaN stays NaN, and min > max gives max everywhere.
    case MathClamp: MapFloat(src, dst, [alpha, beta](float x) { return std::isnan(x) ? x : std::min(std::max(x, alpha), beta); }); break;
    case MathRelu: MapFloat(src, dst, [](float x) { return x > 0.f || x != x ? x : 0.f; }); break;
    case MathExp: MapFloat(src, dst, [](float x) { return std::exp(x); }); break;
    case MathRsqrt: MapFloat(src, dst, [](float x) { return 1.f / std::sqrt(x); }); break;
    default: Fail("unknown math op code " + std::to_string(op));
  }
  return info.Env().Undefined();
}

// out = cond ? a : b over out's shape. Selection copies bits, so T is just the element width.
template <class T>
void Select(const View& cond, const View& a, const View& b, const View& out) {
  const StridedLayout<4> layout = CollapseDims<4>(out.shape, {&cond.strides, &a.strides, &b.strides, &out.strides});
  const int64_t ic = layout.innerStride(0), ia = layout.innerStride(1), ib = layout.innerStride(2), io = layout.innerStride(3);
  const uint8_t* pc = cond.ptr<uint8_t>();
  const T* pa = a.ptr<T>();
  const T* pb = b.ptr<T>();
  T* po = out.ptr<T>();
  ForEachChunk(layout, [&](const std::array<int64_t, 4>& at, int64_t begin, int64_t end) {
    const uint8_t* xc = pc + at[0];
    const T* xa = pa + at[1];
    const T* xb = pb + at[2];
    T* xo = po + at[3];
    // Both sides are loaded unconditionally so that the selects vectorize.
    if (ic == 1 && ia == 1 && ib == 1 && io == 1) {
      for (int64_t i = begin; i < end; ++i) { const T x = xa[i], y = xb[i]; xo[i] = xc[i] ? x : y; }
    } else if (ic == 1 && ia == 1 && ib == 0 && io == 1) {
      const T y = xb[0];
      for (int64_t i = begin; i < end; ++i) { const T x = xa[i]; xo[i] = xc[i] ? x : y; }
    } else if (ic == 1 && ia == 0 && ib == 1 && io == 1) {
      const T x = xa[0];
      for (int64_t i = begin; i < end; ++i) { const T y = xb[i]; xo[i] = xc[i] ? x : y; }
    } else {
      for (int64_t i = begin; i < end; ++i) xo[i * io] = xc[i * ic] ? xa[i * ia] : xb[i * ib];
    }
  });
}

// where(cond, a, b, out)
Napi::Value Where(const Napi::CallbackInfo& info) {
  const char* name = "where";
  View cond = ReadView(info[0], name, "cond");
  View a = ReadView(info[1], name, "a");
  View b = ReadView(info[2], name, "b");
  View out = ReadView(info[3], name, "out");
  if (cond.dtype != DType::Bool) Fail(std::string("cond has dtype ") + DTypeName(cond.dtype) + ", expected bool");
  if (a.dtype != b.dtype || out.dtype != a.dtype)
    Fail(std::string("a, b and out must share a dtype, got ") + DTypeName(a.dtype) + ", " + DTypeName(b.dtype) + ", " +
         DTypeName(out.dtype));
  for (const View* v : {&cond, &a, &b}) {
    if (v->shape != out.shape) Fail("operands must be expanded to out's shape " + DimsKey(out.shape) + ", got " + DimsKey(v->shape));
  }
  if (out.numel() == 0) return info.Env().Undefined();
  switch (ElemSize(out.dtype)) {
    case 1: Select<uint8_t>(cond, a, b, out); break;
    case 2: Select<uint16_t>(cond, a, b, out); break;
    case 4: Select<uint32_t>(cond, a, b, out); break;
    default: Select<uint64_t>(cond, a, b, out); break;
  }
  return info.Env().Undefined();
}

// Softmax runs on a contiguous tensor viewed as [outer, C, inner] with the axis in the middle,
// so primitives are shared between shapes that agree on those three sizes.
struct SoftmaxShape {
  dnnl::memory::dims dims;
  int axis;
};

SoftmaxShape SoftmaxDims(const View& v, int axis) {
  if (axis < 0 || axis >= std::max(v.ndim(), 1)) Fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(v.ndim()));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; ++i) outer *= v.shape[i];
  for (int i = axis + 1; i < v.ndim(); ++i) inner *= v.shape[i];
  const int64_t c = v.ndim() == 0 ? 1 : v.shape[axis];
  if (inner == 1) return {{outer, c}, 1};
  return {{outer, c, inner}, 1};
}

dnnl::memory::desc SoftmaxDesc(const SoftmaxShape& s, const View& v, const char* op) {
  return dnnl::memory::desc(s.dims, ToDnnl(v.dtype, op), s.dims.size() == 2 ? dnnl::memory::format_tag::ab : dnnl::memory::format_tag::abc);
}

std::string SoftmaxKey(const char* kind, bool isLog, const SoftmaxShape& s, const View& v) {
  return std::string(kind) + "|" + (isLog ? "log" : "acc") + "|" + std::to_string(static_cast<int>(v.dtype)) + "|" + DimsKey(s.dims);
}

dnnl::softmax_v2_forward::primitive_desc SoftmaxForwardPd(bool isLog, const SoftmaxShape& s, const View& v, const char* op) {
  auto md = SoftmaxDesc(s, v, op);
  dnnl::softmax_v2_forward::desc d(dnnl::prop_kind::forward_training, isLog ? algorithm::softmax_log : algorithm::softmax_accurate,
                                   md, md, s.axis);
  return dnnl::softmax_v2_forward::primitive_desc(d, Engine());
}

// softmax(src, dst, axis, isLog)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  const char* op = "softmax";
  View src = ReadView(info[0], op, "src");
  View dst = ReadView(info[1], op, "dst");
  const int axis = info[2].As<Napi::Number>().Int32Value();
  const bool isLog = info[3].As<Napi::Boolean>().Value();
  CheckSame(src, "src", {{&dst, "dst"}});
  SoftmaxShape s = SoftmaxDims(src, axis);
  if (src.numel() == 0) return info.Env().Undefined();
  auto& prim = CachedPrimitive<dnnl::softmax_v2_forward>(SoftmaxKey("smf", isLog, s, src), [&]() {
    return dnnl::softmax_v2_forward(SoftmaxForwardPd(isLog, s, src, op));
  });
  auto md = SoftmaxDesc(s, src, op);
  Run(prim, {{DNNL_ARG_SRC, dnnl::memory(md, Engine(), src.data())}, {DNNL_ARG_DST, dnnl::memory(md, Engine(), dst.data())}});
  return info.Env().Undefined();
}

// softmaxBackward(dst, diffDst, diffSrc, axis, isLog); dst is the forward's output.
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  const char* op = "softmaxBackward";
  View dst = ReadView(info[0], op, "dst");
  View diffDst = ReadView(info[1], op, "diffDst");
  View diffSrc = ReadView(info[2], op, "diffSrc");
  const int axis = info[3].As<Napi::Number>().Int32Value();
  const bool isLog = info[4].As<Napi::Boolean>().Value();
  CheckSame(dst, "dst", {{&diffDst, "diffDst"}, {&diffSrc, "diffSrc"}});
  SoftmaxShape s = SoftmaxDims(dst, axis);
  if (dst.numel() == 0) return info.Env().Undefined();
  auto& prim = CachedPrimitive<dnnl::softmax_v2_backward>(SoftmaxKey("smb", isLog, s, dst), [&]() {
    auto hint = SoftmaxForwardPd(isLog, s, dst, op);
    auto md = SoftmaxDesc(s, dst, op);
    dnnl::softmax_v2_backward::desc d(isLog ? algorithm::softmax_log : algorithm::softmax_accurate, md, md, md, s.axis);
    return dnnl::softmax_v2_backward(dnnl::softmax_v2_backward::primitive_desc(d, Engine(), hint));
  });
  auto md = SoftmaxDesc(s, dst, op);
  Run(prim, {{DNNL_ARG_DST, dnnl::memory(md, Engine(), dst.data())},
             {DNNL_ARG_DIFF_DST, dnnl::memory(md, Engine(), diffDst.data())},
             {DNNL_ARG_DIFF_SRC, dnnl::memory(md, Engine(), diffSrc.data())}});
  return info.Env().Undefined();
}

}  // namespace

void RegisterEltwise(Napi::Env env, Napi::Object exports) {
  ExportOneDnn(env, exports, "eltwise", Eltwise);
  ExportOneDnn(env, exports, "eltwiseBackward", EltwiseBackward);
  Export(env, exports, "unaryMath", UnaryMath);
  Export(env, exports, "where", Where);
  ExportOneDnn(env, exports, "softmax", Softmax);
  ExportOneDnn(env, exports, "softmaxBackward", SoftmaxBackward);
}

}  // namespace tsv
