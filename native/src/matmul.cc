// Batched matmul on oneDNN: out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias[..., N]).
// Batch dims of a and b broadcast where they are 1; any strides are accepted, so a
// transposed view costs nothing. Inputs and output share one dtype (f32 or bf16).
// A 2-D b with a packing holder (a linear layer's weight at inference) is reordered once to the
// layout oneDNN's kernel prefers and reused from the holder while the weight is unchanged; on
// CPUs where matmul is oneDNN's generic sgemm, such a layer runs as a 1×1 convolution instead.
// A packed b may be bf16 beside f32 data (bf16 on a CPU without bf16 kernels, see ExportOneDnn):
// the packing widens it to f32 once.
#include <cmath>

#include "common.h"

namespace tsv {

namespace {

// An epilogue activation by name (the TS side's linear epilogues); "" for none.
dnnl::algorithm EpilogueActivation(const std::string& name) {
  if (name == "geluErf") return dnnl::algorithm::eltwise_gelu_erf;
  if (name == "geluTanh") return dnnl::algorithm::eltwise_gelu_tanh;
  if (name == "relu") return dnnl::algorithm::eltwise_relu;
  Fail("unknown epilogue activation '" + name + "', expected geluErf, geluTanh or relu");
  return dnnl::algorithm::undef;
}

// The primitive, the descs it reads the caller's tensors through and, for packed weights, the
// kernel's weight layout and the reorder to it. userWeights has a's dtype: a bf16 weight packed for
// f32 kernels is read through it as if already widened (see PackedWeights).
struct MatmulPlan {
  dnnl::primitive prim;
  dnnl::memory::desc src, userWeights, bias, dst, residual;
  bool packed = false;
  dnnl::memory::desc weights;
  dnnl::reorder toWeights;
};

// Where the kernel wants the weights in another layout than the caller's, the plan packs them
// into it (once per weight, see PackedWeights).
void PackInto(MatmulPlan& plan, const dnnl::memory::desc& kernelWeights) {
  if (kernelWeights == plan.userWeights) return;
  plan.packed = true;
  plan.weights = kernelWeights;
  plan.toWeights = dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), plan.userWeights, Engine(), kernelWeights));
}

dnnl::primitive_attr EpilogueAttr(const std::string& activation, const dnnl::memory::desc* residual, float scale = 1.f) {
  dnnl::primitive_attr attr;
  if (activation.empty() && residual == nullptr && scale == 1.f) return attr;
  dnnl::post_ops po;
  if (scale != 1.f) po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, scale, 0.f);
  if (!activation.empty()) po.append_eltwise(1.f, EpilogueActivation(activation), 0.f, 0.f);
  if (residual) po.append_binary(dnnl::algorithm::binary_add, *residual);
  attr.set_post_ops(po);
  return attr;
}

// A row-major [M, C] matrix (unit column stride) as an NHWC image [1, C, M, 1], the form in which
// a 1×1 convolution reads and writes it; false when the view is not row-major.
bool AsPixelRows(const View& v, const char* op, dnnl::memory::desc* desc) {
  if (v.ndim() != 2 || (v.shape[1] > 1 && v.strides[1] != 1)) return false;
  const int64_t rows = v.shape[0], cols = v.shape[1], rowStride = v.shape[0] > 1 ? v.strides[0] : cols;
  if (rowStride < cols) return false;
  *desc = dnnl::memory::desc({1, cols, rows, 1}, ToDnnl(v.dtype, op), {rows * rowStride, 1, rowStride, rowStride});
  return true;
}

// A linear layer at inference as a 1×1 convolution over its rows. Where oneDNN's matmul is its
// generic sgemm (CPUs before AVX-512), the convolution's jit kernels with blocked packed weights
// run these shapes 1.2–2× faster (ViT-B's fc1: 75 -> 152 GFLOP/s on AVX2). Only a jit kernel is
// taken (one that blocks the weights; the gemm-based and reference convolutions keep them plain);
// false leaves the matmul in place.
bool ConvolutionForm(const View& a, const View& b, const View* bias, const View& out, const std::string& activation,
                     const View* residual, const char* op, MatmulPlan* plan) {
  dnnl::memory::desc src, dst, res;
  if (!AsPixelRows(a, op, &src) || !AsPixelRows(out, op, &dst)) return false;
  if (residual && !AsPixelRows(*residual, op, &res)) return false;
  if (bias && (bias->shape[0] != 1 || (bias->shape[1] > 1 && bias->strides[1] != 1))) return false;
  const int64_t K = b.shape[0], N = b.shape[1];
  const dnnl::memory::data_type dt = ToDnnl(a.dtype, op);
  const dnnl::memory::desc userWeights({N, K, 1, 1}, dt, {b.strides[1], b.strides[0], 1, 1});
  const dnnl::memory::desc anyWeights({N, K, 1, 1}, dt, dnnl::memory::format_tag::any);
  const dnnl::memory::desc biasDesc = bias ? dnnl::memory::desc({N}, ToDnnl(bias->dtype, op), dnnl::memory::format_tag::x) : dnnl::memory::desc();
  const dnnl::memory::dims unit{1, 1}, zero{0, 0};
  using Conv = dnnl::convolution_forward;
  const auto pk = dnnl::prop_kind::forward_inference;
  const auto alg = dnnl::algorithm::convolution_direct;
  Conv::desc d = bias ? Conv::desc(pk, alg, src, anyWeights, biasDesc, dst, unit, zero, zero, zero)
                      : Conv::desc(pk, alg, src, anyWeights, dst, unit, zero, zero, zero);
  Conv::primitive_desc pd;
  try {
    pd = Conv::primitive_desc(d, EpilogueAttr(activation, residual ? &res : nullptr), Engine());
  } catch (const dnnl::error&) {
    return false;
  }
  if (!IsBlockedLayout(pd.weights_desc()) || pd.src_desc() != src || pd.dst_desc() != dst) return false;
  *plan = MatmulPlan{Conv(pd), src, userWeights, biasDesc, dst, res};
  PackInto(*plan, pd.weights_desc());
  return true;
}

MatmulPlan MakePlan(const View& a, const View& b, const View* bias, const View& out, const std::string& activation,
                    const View* residual, bool pack, float scale, const char* op) {
  View widened = b;
  widened.dtype = a.dtype;
  const dnnl::memory::desc userWeights = widened.desc(op);
  const dnnl::memory::desc weights = pack ? dnnl::memory::desc(userWeights.dims(), userWeights.data_type(), dnnl::memory::format_tag::any) : userWeights;
  const dnnl::memory::desc res = residual ? residual->desc(op) : dnnl::memory::desc();
  dnnl::matmul::desc d = bias ? dnnl::matmul::desc(a.desc(op), weights, bias->desc(op), out.desc(op))
                              : dnnl::matmul::desc(a.desc(op), weights, out.desc(op));
  dnnl::matmul::primitive_desc pd(d, EpilogueAttr(activation, residual ? &res : nullptr, scale), Engine());
  // The matmul is oneDNN's sgemm where AVX2 kernels are the widest and it kept the weights plain.
  if (pack && scale == 1.f && Avx2IsWidest() && !IsBlockedLayout(pd.weights_desc())) {
    MatmulPlan conv;
    if (ConvolutionForm(a, b, bias, out, activation, residual, op, &conv)) return conv;
  }
  MatmulPlan p{dnnl::matmul(pd), a.desc(op), userWeights, bias ? bias->desc(op) : dnnl::memory::desc(), out.desc(op), res};
  if (pack) PackInto(p, pd.weights_desc());
  return p;
}

// matmul({ a, b, bias?, out, activation?, residual?, packedWeights?, scale? }):
// out = act(scale·(a·b + bias)) + residual, the scaling, activation and residual add running as post-ops.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const char* op = "matmul";
  const Options o(info, op);
  View a = o.Tensor("a");
  View b = o.Tensor("b");
  View bias;
  const bool hasBias = o.OptionalTensor("bias", &bias);
  View out = o.Tensor("out");
  const int nd = out.ndim();
  if (nd < 2 || a.ndim() != nd || b.ndim() != nd) Fail("a, b and out must have the same rank >= 2");
  if (a.shape[nd - 1] != b.shape[nd - 2]) Fail("inner dims differ: a " + DimsKey(a.shape) + " b " + DimsKey(b.shape));
  if (hasBias && bias.ndim() != nd) Fail("bias must have the rank of out");
  const std::string activation = o.Name("activation");
  if (!activation.empty()) EpilogueActivation(activation);
  View residual;
  const bool hasResidual = o.OptionalTensor("residual", &residual);
  if (hasResidual) {
    if (residual.shape != out.shape || residual.dtype != out.dtype) Fail("residual must have out's shape and dtype, got " + DimsKey(residual.shape));
  }

  const Napi::Value holder = o.Get("packedWeights");
  const bool pack = nd == 2 && holder.IsObject();
  if (b.dtype != a.dtype && !(pack && a.dtype == DType::F32 && b.dtype == DType::BF16))
    Fail(std::string("b is ") + DTypeName(b.dtype) + " but a is " + DTypeName(a.dtype) + "; only a packed weight may be bfloat16 beside float32 data");
  const float scale = static_cast<float>(o.Number("scale", 1));
  if (!std::isfinite(scale)) Fail("scale must be a finite number");

  std::string key = std::string("mm|") + ViewKey(a) + ViewKey(b) + (hasBias ? ViewKey(bias) : "-;") + ViewKey(out) + activation + "|" +
                    (hasResidual ? ViewKey(residual) : "-") + (pack ? "|pk" : "") + (scale != 1.f ? "|s" + FloatKey(scale) : "");
  const MatmulPlan& plan = CachedPrimitive<MatmulPlan>(
      key, [&]() { return MakePlan(a, b, hasBias ? &bias : nullptr, out, activation, hasResidual ? &residual : nullptr, pack, scale, op); });
  void* weightData = plan.packed ? PackedWeights(holder.As<Napi::Object>(), plan.userWeights, plan.weights, plan.toWeights, b) : b.data();
  const dnnl::engine& eng = Engine();
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, dnnl::memory(plan.src, eng, a.data())},
                                             {DNNL_ARG_WEIGHTS, dnnl::memory(plan.packed ? plan.weights : plan.userWeights, eng, weightData)},
                                             {DNNL_ARG_DST, dnnl::memory(plan.dst, eng, out.data())}};
  if (hasBias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(plan.bias, eng, bias.data()));
  const int residualPostOp = (scale != 1.f ? 1 : 0) + (activation.empty() ? 0 : 1);
  if (hasResidual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(residualPostOp) | DNNL_ARG_SRC_1, dnnl::memory(plan.residual, eng, residual.data()));
  Run(plan.prim, args);
  return info.Env().Undefined();
}

}  // namespace

void RegisterMatmul(Napi::Env env, Napi::Object exports) { ExportOneDnn(env, exports, "matmul", Matmul, {"a", {}, "b", "packedWeights"}); }

}  // namespace tsv
