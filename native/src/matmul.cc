// Batched matmul on oneDNN: out[..., M, N] = a[..., M, K] · b[..., K, N] (+ bias[..., N]).
// Batch dims of a and b broadcast where they are 1; any strides are accepted, so a
// transposed view costs nothing. Inputs and output share one dtype (f32 or bf16).
#include "common.h"

namespace tsv {

namespace {

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

  std::string key = std::string("mm|") + ViewKey(a) + ViewKey(b) + (hasBias ? ViewKey(bias) : "-;") + ViewKey(out);
  auto& prim = CachedPrimitive<dnnl::matmul>(key, [&]() {
    dnnl::matmul::desc d = hasBias ? dnnl::matmul::desc(a.desc(op), b.desc(op), bias.desc(op), out.desc(op))
                                   : dnnl::matmul::desc(a.desc(op), b.desc(op), out.desc(op));
    return dnnl::matmul(dnnl::matmul::primitive_desc(d, Engine()));
  });
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, a.mem(op)}, {DNNL_ARG_WEIGHTS, b.mem(op)}, {DNNL_ARG_DST, out.mem(op)}};
  if (hasBias) args.emplace(DNNL_ARG_BIAS, bias.mem(op));
  Run(prim, args);
  return info.Env().Undefined();
}

}  // namespace

void RegisterMatmul(Napi::Env env, Napi::Object exports) { Export(env, exports, "matmul", Matmul); }

}  // namespace tsv
