// Batched matmul on oneDNN: out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias[..., N]).
// Batch dims of a and b broadcast where they are 1; any strides are accepted, so a
// transposed view costs nothing. Inputs and output share one dtype (f32 or bf16).
// A 2-D b with a packing holder (a linear layer's weight at inference) is reordered once to the
// layout oneDNN's kernel prefers and reused from the holder while the weight is unchanged.
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

// The primitive and, for packed weights, the kernel's weight layout and the reorder to it.
struct MatmulPlan {
  dnnl::matmul prim;
  bool packed = false;
  dnnl::memory::desc weights;
  dnnl::reorder toWeights;
};

// matmul(a, b, bias|null, out, activation?: string|null, residual?: tensor|null, packedWeights?: holder|null):
// out = act(a·b + bias) + residual, the activation and residual add running as post-ops.
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  const char* op = "matmul";
  View a = ReadView(info[0], op, "a");
  View b = ReadView(info[1], op, "b");
  bool hasBias = !IsNullish(info[2]);
  View bias;
  if (hasBias) bias = ReadView(info[2], op, "bias");
  View out = ReadView(info[3], op, "out");
  const int nd = out.ndim();
  if (nd < 2 || a.ndim() != nd || b.ndim() != nd) Fail("a, b and out must have the same rank >= 2");
  if (a.shape[nd - 1] != b.shape[nd - 2]) Fail("inner dims differ: a " + DimsKey(a.shape) + " b " + DimsKey(b.shape));
  if (hasBias && bias.ndim() != nd) Fail("bias must have the rank of out");
  const std::string activation = info.Length() > 4 && info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  const bool hasResidual = info.Length() > 5 && !IsNullish(info[5]);
  View residual;
  if (hasResidual) {
    residual = ReadView(info[5], op, "residual");
    if (residual.shape != out.shape || residual.dtype != out.dtype) Fail("residual must have out's shape and dtype, got " + DimsKey(residual.shape));
  }

  const bool pack = nd == 2 && info.Length() > 6 && info[6].IsObject();

  std::string key = std::string("mm|") + ViewKey(a) + ViewKey(b) + (hasBias ? ViewKey(bias) : "-;") + ViewKey(out) + activation + "|" +
                    (hasResidual ? ViewKey(residual) : "-") + (pack ? "|pk" : "");
  const MatmulPlan& plan = CachedPrimitive<MatmulPlan>(key, [&]() {
    const dnnl::memory::desc userWeights = b.desc(op);
    const dnnl::memory::desc weights = pack ? dnnl::memory::desc(userWeights.dims(), userWeights.data_type(), dnnl::memory::format_tag::any) : userWeights;
    dnnl::matmul::desc d = hasBias ? dnnl::matmul::desc(a.desc(op), weights, bias.desc(op), out.desc(op))
                                   : dnnl::matmul::desc(a.desc(op), weights, out.desc(op));
    dnnl::primitive_attr attr;
    if (!activation.empty() || hasResidual) {
      dnnl::post_ops po;
      if (!activation.empty()) po.append_eltwise(1.f, EpilogueActivation(activation), 0.f, 0.f);
      if (hasResidual) po.append_binary(dnnl::algorithm::binary_add, residual.desc(op));
      attr.set_post_ops(po);
    }
    dnnl::matmul::primitive_desc pd(d, attr, Engine());
    MatmulPlan p{dnnl::matmul(pd)};
    if (pack && pd.weights_desc() != userWeights) {
      p.packed = true;
      p.weights = pd.weights_desc();
      p.toWeights = dnnl::reorder(dnnl::reorder::primitive_desc(Engine(), userWeights, Engine(), p.weights));
    }
    return p;
  });
  dnnl::memory weights = plan.packed
      ? dnnl::memory(plan.weights, Engine(), PackedWeights(info[6].As<Napi::Object>(), b.desc(op), plan.weights, plan.toWeights, b.data()))
      : b.mem(op);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, a.mem(op)}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, out.mem(op)}};
  if (hasBias) args.emplace(DNNL_ARG_BIAS, bias.mem(op));
  if (hasResidual) args.emplace(DNNL_ARG_ATTR_MULTIPLE_POST_OP(activation.empty() ? 0 : 1) | DNNL_ARG_SRC_1, residual.mem(op));
  Run(plan.prim, args);
  return info.Env().Undefined();
}

}  // namespace

void RegisterMatmul(Napi::Env env, Napi::Object exports) { ExportOneDnn(env, exports, "matmul", Matmul); }

}  // namespace tsv
