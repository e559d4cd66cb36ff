// Winograd F(4×4, 3×3) convolution for inference: 3×3, stride 1, padding 1, channels-last f32.
// Each 6×6 input tile becomes 36 transformed points; one GEMM per point multiplies the
// tiles' channels by the transformed weights; the output transform gives 4×4 outputs per tile.
// That is 36 multiplies per 16 outputs instead of 144, which on AVX2 CPUs (where oneDNN 2.x has
// only direct 3×3 kernels) makes ResNet's 3×3 convolutions 2–3× faster at batch 16.
#pragma once

#include "common.h"

namespace tsv {

// What the output transform applies, as the direct kernel's post-ops do:
// y = act((conv + bias) * scale + shift + residual), the residual being y's prior contents
// (`accumulate`: on channels-last tensors the caller always passes a residual that way).
struct WinogradEpilogue {
  const float* bias = nullptr;
  const float* scale = nullptr;
  const float* shift = nullptr;
  bool accumulate = false;
  bool relu = false;
};

// Whether inference 3×3 convs take the Winograd path under `mode` (0 never, 1 on CPUs without
// AVX-512, 2 everywhere; -1: the process setting, setConvWinograd, whose default is 1).
bool WinogradEnabled(int mode = -1);

// Whether x [N,C,H,W] -> y [N,K,H,W] with weight w [K,C,3,3] fits the Winograd kernel and gains
// from it under `mode` (as WinogradEnabled). stride/padL/padR/dilation in oneDNN's convention (dilation 0 = none).
bool WinogradApplies(const View& x, const View& w, const View& y, const Dims& stride, const Dims& padL, const Dims& padR,
                     const Dims& dilation, int64_t groups, int mode);

// w's transformed weights: cached in `holder` ({ buffer?: ArrayBuffer }, see PackedBuffer) when it is
// an object, else transformed into scratch memory for this call.
const float* WinogradWeights(const View& w, const Napi::Value& holder);

// y = epilogue(conv3x3(x, weights)) with `packed` from WinogradWeights.
void WinogradConv(const View& x, const float* packed, const View& y, const WinogradEpilogue& e);

void RegisterWinograd(Napi::Env env, Napi::Object exports);

}  // namespace tsv
