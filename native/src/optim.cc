// Fused optimizer updates: one pass over a parameter and its state instead of a dozen
// elementwise ops, each a full read and write of the tensor (AdamW over ResNet-18's 11.7M
// parameters was 30% of a training step as composed ops).
#include "common.h"

#include <cmath>

namespace tsv {

namespace {

// A dense f32 tensor that is updated in place.
float* DenseF32(const View& v, const char* what, int64_t numel) {
  if (v.dtype != DType::F32) Fail(std::string(what) + " must be float32");
  if (v.numel() != numel) Fail(std::string(what) + " has " + std::to_string(v.numel()) + " elements, expected " + std::to_string(numel));
  int64_t expected = 1;
  for (int i = v.ndim() - 1; i >= 0; --i) {
    if (v.shape[i] != 1 && v.strides[i] != expected) Fail(std::string(what) + " must be contiguous");
    expected *= v.shape[i];
  }
  return v.ptr<float>();
}

// adamStep({ param, grad, expAvg, expAvgSq, maxExpAvgSq | null, gradSign, decay, gradDecay, beta1,
//             beta2, bc2Sqrt, eps, stepSize }): per element, in f32,
//   g = sign * grad + gradDecay * w;  w *= decay
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   s = amsgrad ? (vmax = max(vmax, v)) : v
//   w -= stepSize * m / (sqrt(s) / bc2Sqrt + eps)
// param/expAvg/expAvgSq/maxExpAvgSq are dense f32 and updated in place; grad is dense f32 or bf16.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  const char* op = "adamStep";
  const Options o(info, op);
  View param = o.Tensor("param");
  View grad = o.Tensor("grad");
  const int64_t n = param.numel();
  float* w = DenseF32(param, "param", n);
  float* m = DenseF32(o.Tensor("expAvg"), "expAvg", n);
  float* v = DenseF32(o.Tensor("expAvgSq"), "expAvgSq", n);
  View maxView;
  float* vmax = o.OptionalTensor("maxExpAvgSq", &maxView) ? DenseF32(maxView, "maxExpAvgSq", n) : nullptr;
  if (grad.numel() != n) Fail("grad has " + std::to_string(grad.numel()) + " elements, expected " + std::to_string(n));
  if (grad.dtype == DType::F32) DenseF32(grad, "grad", n);
  else if (grad.dtype != DType::BF16) Fail("grad must be float32 or bfloat16");
  const float sign = static_cast<float>(o.Number("gradSign"));
  const float decay = static_cast<float>(o.Number("decay"));
  const float gradDecay = static_cast<float>(o.Number("gradDecay"));
  const float beta1 = static_cast<float>(o.Number("beta1"));
  const float beta2 = static_cast<float>(o.Number("beta2"));
  const float bc2Sqrt = static_cast<float>(o.Number("bc2Sqrt"));
  const float eps = static_cast<float>(o.Number("eps"));
  const float stepSize = static_cast<float>(o.Number("stepSize"));
  const float keep1 = 1.f - beta1, keep2 = 1.f - beta2;
  const float* g32 = grad.dtype == DType::F32 ? grad.ptr<float>() : nullptr;
  const uint16_t* g16 = grad.dtype == DType::BF16 ? grad.ptr<uint16_t>() : nullptr;
#pragma omp parallel for schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    const float raw = g32 ? g32[i] : Bf16ToF32(g16[i]);
    const float g = sign * raw + gradDecay * w[i];
    const float wi = w[i] * decay;
    const float mi = m[i] * beta1 + keep1 * g;
    const float vi = v[i] * beta2 + keep2 * (g * g);
    m[i] = mi;
    v[i] = vi;
    float second = vi;
    if (vmax) second = vmax[i] = std::max(vmax[i], vi);
    w[i] = wi - stepSize * (mi / (std::sqrt(second) / bc2Sqrt + eps));
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Napi::Object exports) { Export(env, exports, "adamStep", AdamStep); }

}  // namespace tsv
