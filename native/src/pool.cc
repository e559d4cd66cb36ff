// Pooling: max and average pooling (1-D/2-D/3-D, dilation, asymmetric padding) on oneDNN,
// forward and backward, plus our own adaptive average pooling for output sizes that do
// not divide the input (bins of uneven width, which oneDNN has no primitive for).
//
// Pooling runs on the caller's layout (row-major or dense channels-last, both have fast
// oneDNN kernels), so max pooling's workspace stays valid between forward and backward as
// long as both sides use the same layouts, which the tensor layer guarantees.
#include <omp.h>

#include <algorithm>

#include "common.h"

namespace tsv {

namespace {

using dnnl::memory;

// Codes shared with src/tensor/ops/pool.ts (POOL_ALG).
enum Alg : int { Max = 0, AvgIncludePad = 1, AvgExcludePad = 2 };

dnnl::algorithm ToAlgorithm(int alg) {
  switch (alg) {
    case Max: return dnnl::algorithm::pooling_max;
    case AvgIncludePad: return dnnl::algorithm::pooling_avg_include_padding;
    case AvgExcludePad: return dnnl::algorithm::pooling_avg_exclude_padding;
  }
  Fail("unknown pooling algorithm code " + std::to_string(alg));
}

struct PoolGeom {
  int alg = Max;
  Dims kernel, stride, padL, padR, dilation;  // dilation in oneDNN's convention (torch - 1)

  std::string Key() const {
    return std::to_string(alg) + "k" + DimsKey(kernel) + "s" + DimsKey(stride) + "l" + DimsKey(padL) + "r" + DimsKey(padR) + "d" +
           DimsKey(dilation) + "|";
  }
};

// Reads alg, kernel, stride, padLeft, padRight, dilation (torch convention) for src -> dst.
PoolGeom ReadGeom(const Options& o, const View& src, const View& dst) {
  const int spatial = src.ndim() - 2;
  if (spatial < 1 || spatial > 3) Fail("tensors must have rank 3, 4 or 5, got " + std::to_string(src.ndim()));
  if (dst.ndim() != src.ndim()) Fail("input and output ranks differ");
  if (src.dtype != dst.dtype) Fail("input and output dtypes differ");
  if (src.dtype != DType::F32 && src.dtype != DType::BF16) Fail(std::string("dtype ") + DTypeName(src.dtype) + " is not supported");
  if (src.shape[0] != dst.shape[0] || src.shape[1] != dst.shape[1]) Fail("input and output differ in batch or channels");
  PoolGeom g;
  g.alg = static_cast<int>(o.Number("alg"));
  ToAlgorithm(g.alg);
  g.kernel = o.List("kernel");
  g.stride = o.List("stride");
  g.padL = o.List("padLeft");
  g.padR = o.List("padRight");
  g.dilation = o.List("dilation");
  const Dims* lists[] = {&g.kernel, &g.stride, &g.padL, &g.padR, &g.dilation};
  for (const Dims* d : lists)
    if (static_cast<int>(d->size()) != spatial) Fail("geometry lists must have " + std::to_string(spatial) + " entries");
  for (int i = 0; i < spatial; ++i) {
    if (g.kernel[i] < 1 || g.stride[i] < 1 || g.dilation[i] < 1 || g.padL[i] < 0 || g.padR[i] < 0)
      Fail("kernel, stride and dilation must be positive and padding non-negative");
    const int64_t span = (g.kernel[i] - 1) * g.dilation[i] + 1;
    const int64_t padded = src.shape[i + 2] + g.padL[i] + g.padR[i] - span;
    if (padded < 0 || padded / g.stride[i] + 1 != dst.shape[i + 2])
      Fail("spatial dim " + std::to_string(i + 2) + ": sizes " + std::to_string(src.shape[i + 2]) + " -> " +
           std::to_string(dst.shape[i + 2]) + " do not match the pooling geometry");
    g.dilation[i] -= 1;
  }
  if (src.numel() == 0 || dst.numel() == 0) Fail("empty tensors are handled by the caller");
  return g;
}

dnnl::pooling_v2_forward::primitive_desc ForwardDesc(const PoolGeom& g, const memory::desc& src, const memory::desc& dst, bool training) {
  dnnl::pooling_v2_forward::desc d(training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
                                   ToAlgorithm(g.alg), src, dst, g.stride, g.kernel, g.dilation, g.padL, g.padR);
  return dnnl::pooling_v2_forward::primitive_desc(d, Engine());
}

struct ForwardPlan {
  dnnl::pooling_v2_forward prim;
  memory::desc workspace;
};

void FreeWorkspace(Napi::Env env, void* data, size_t* bytes) {
  std::free(data);
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(*bytes));
  delete bytes;
}

// poolForward({ alg, x, out, ...geometry, training }) -> workspace ArrayBuffer | null
Napi::Value PoolForward(const Napi::CallbackInfo& info) {
  const char* op = "poolForward";
  Napi::Env env = info.Env();
  const Options o(info, op);
  View x = o.Tensor("x");
  View out = o.Tensor("out");
  const PoolGeom g = ReadGeom(o, x, out);
  const bool training = o.Flag("training") && g.alg == Max;
  const std::string key = std::string("poolF|") + (training ? "T" : "I") + g.Key() + ViewKey(x) + ViewKey(out);
  const ForwardPlan& plan = CachedPrimitive<ForwardPlan>(key, [&]() {
    auto pd = ForwardDesc(g, x.desc(op), out.desc(op), training);
    return ForwardPlan{dnnl::pooling_v2_forward(pd), pd.workspace_desc()};
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, x.mem(op)}, {DNNL_ARG_DST, out.mem(op)}};
  const size_t wsBytes = plan.workspace.get_size();
  if (!training || wsBytes == 0) {
    Run(plan.prim, args);
    return env.Null();
  }
  void* ws = std::aligned_alloc(64, ((wsBytes + 63) / 64) * 64);
  if (ws == nullptr) Fail("out of memory allocating a " + std::to_string(wsBytes) + "-byte pooling workspace");
  args.emplace(DNNL_ARG_WORKSPACE, memory(plan.workspace, Engine(), ws));
  try {
    Run(plan.prim, args);
  } catch (...) {
    std::free(ws);
    throw;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(wsBytes));
  return Napi::ArrayBuffer::New(env, ws, wsBytes, FreeWorkspace, new size_t(wsBytes));
}

struct BackwardPlan {
  dnnl::pooling_v2_backward prim;
  memory::desc workspace;
};

// poolBackward({ alg, gradOut, gradIn, ...geometry, workspace })
Napi::Value PoolBackward(const Napi::CallbackInfo& info) {
  const char* op = "poolBackward";
  const Options o(info, op);
  View gy = o.Tensor("gradOut");
  View gx = o.Tensor("gradIn");
  const PoolGeom g = ReadGeom(o, gx, gy);
  const std::string key = std::string("poolB|") + g.Key() + ViewKey(gx) + ViewKey(gy);
  const BackwardPlan& plan = CachedPrimitive<BackwardPlan>(key, [&]() {
    auto hint = ForwardDesc(g, gx.desc(op), gy.desc(op), true);
    dnnl::pooling_v2_backward::desc d(ToAlgorithm(g.alg), gx.desc(op), gy.desc(op), g.stride, g.kernel, g.dilation, g.padL, g.padR);
    dnnl::pooling_v2_backward::primitive_desc pd(d, Engine(), hint);
    return BackwardPlan{dnnl::pooling_v2_backward(pd), pd.workspace_desc()};
  });
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, gy.mem(op)}, {DNNL_ARG_DIFF_SRC, gx.mem(op)}};
  const size_t wsBytes = plan.workspace.get_size();
  if (wsBytes > 0) {
    const Napi::Value workspace = o.Get("workspace");
    if (!workspace.IsArrayBuffer()) Fail("max pooling backward needs the workspace of its forward call");
    Napi::ArrayBuffer ws = workspace.As<Napi::ArrayBuffer>();
    if (ws.ByteLength() != wsBytes) Fail("workspace has " + std::to_string(ws.ByteLength()) + " bytes, expected " + std::to_string(wsBytes));
    args.emplace(DNNL_ARG_WORKSPACE, memory(plan.workspace, Engine(), ws.Data()));
  }
  Run(plan.prim, args);
  return info.Env().Undefined();
}

// ---- adaptive average pooling ----------------------------------------------------------

// torch's bins: output i of n over an input of length L covers [floor(i·L/n), ceil((i+1)·L/n)).
struct Bins {
  std::vector<int64_t> start, end;
  Bins(int64_t in, int64_t out) : start(out), end(out) {
    for (int64_t i = 0; i < out; ++i) {
      start[i] = (i * in) / out;
      end[i] = ((i + 1) * in + out - 1) / out;
    }
  }
  int64_t count(int64_t i) const { return end[i] - start[i]; }
};

// [planes, D, H, W] views of the contiguous input and output (missing leading spatial dims are 1).
struct AdaptiveShape {
  int64_t planes;
  int64_t in[3], out[3];
};

AdaptiveShape ReadAdaptive(const View& x, const View& y) {
  const int nd = x.ndim();
  if (nd < 3 || nd > 5 || y.ndim() != nd) Fail("input and output must share a rank of 3, 4 or 5");
  if (!x.contiguous() || !y.contiguous()) Fail("input and output must be contiguous");
  if (x.dtype != y.dtype || (x.dtype != DType::F32 && x.dtype != DType::BF16)) Fail("input and output must share a float dtype");
  if (x.shape[0] != y.shape[0] || x.shape[1] != y.shape[1]) Fail("input and output differ in batch or channels");
  AdaptiveShape s{x.shape[0] * x.shape[1], {1, 1, 1}, {1, 1, 1}};
  for (int i = 2; i < nd; ++i) {
    s.in[5 - nd + i - 2] = x.shape[i];
    s.out[5 - nd + i - 2] = y.shape[i];
    if (x.shape[i] < 1 || y.shape[i] < 1) Fail("spatial sizes must be positive");
  }
  return s;
}

template <class S> inline float LoadF(const S* p, int64_t i) { return static_cast<float>(p[i]); }
template <> inline float LoadF<uint16_t>(const uint16_t* p, int64_t i) { return Bf16ToF32(p[i]); }
template <class S> inline void StoreF(S* p, int64_t i, float v) { p[i] = v; }
template <> inline void StoreF<uint16_t>(uint16_t* p, int64_t i, float v) { p[i] = F32ToBf16(v); }

template <class S>
void AdaptiveForward(const S* x, S* y, const AdaptiveShape& s) {
  const Bins bd(s.in[0], s.out[0]), bh(s.in[1], s.out[1]), bw(s.in[2], s.out[2]);
  const int64_t inPlane = s.in[0] * s.in[1] * s.in[2], outPlane = s.out[0] * s.out[1] * s.out[2];
#pragma omp parallel for schedule(static) if (s.planes * inPlane > (1 << 15))
  for (int64_t p = 0; p < s.planes; ++p) {
    const S* src = x + p * inPlane;
    S* dst = y + p * outPlane;
    int64_t o = 0;
    for (int64_t od = 0; od < s.out[0]; ++od)
      for (int64_t oh = 0; oh < s.out[1]; ++oh)
        for (int64_t ow = 0; ow < s.out[2]; ++ow, ++o) {
          float acc = 0;
          for (int64_t d = bd.start[od]; d < bd.end[od]; ++d)
            for (int64_t h = bh.start[oh]; h < bh.end[oh]; ++h) {
              const int64_t row = (d * s.in[1] + h) * s.in[2];
              for (int64_t w = bw.start[ow]; w < bw.end[ow]; ++w) acc += LoadF(src, row + w);
            }
          StoreF(dst, o, acc / static_cast<float>(bd.count(od) * bh.count(oh) * bw.count(ow)));
        }
  }
}

// Each plane scatters its output grads over their bins into an f32 row of a per-thread
// buffer (bins overlap), then stores it; the buffer is allocated before the parallel region.
template <class S>
void AdaptiveBackward(const S* gy, S* gx, const AdaptiveShape& s) {
  const Bins bd(s.in[0], s.out[0]), bh(s.in[1], s.out[1]), bw(s.in[2], s.out[2]);
  const int64_t inPlane = s.in[0] * s.in[1] * s.in[2], outPlane = s.out[0] * s.out[1] * s.out[2];
  const bool parallel = s.planes * inPlane > (1 << 15);
  std::vector<float> scratch(static_cast<size_t>(parallel ? omp_get_max_threads() : 1) * inPlane);
#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t p = 0; p < s.planes; ++p) {
    const S* src = gy + p * outPlane;
    float* acc = scratch.data() + static_cast<size_t>(parallel ? omp_get_thread_num() : 0) * inPlane;
    std::fill(acc, acc + inPlane, 0.0f);
    int64_t o = 0;
    for (int64_t od = 0; od < s.out[0]; ++od)
      for (int64_t oh = 0; oh < s.out[1]; ++oh)
        for (int64_t ow = 0; ow < s.out[2]; ++ow, ++o) {
          const float v = LoadF(src, o) / static_cast<float>(bd.count(od) * bh.count(oh) * bw.count(ow));
          for (int64_t d = bd.start[od]; d < bd.end[od]; ++d)
            for (int64_t h = bh.start[oh]; h < bh.end[oh]; ++h) {
              float* row = acc + (d * s.in[1] + h) * s.in[2];
              for (int64_t w = bw.start[ow]; w < bw.end[ow]; ++w) row[w] += v;
            }
        }
    S* dst = gx + p * inPlane;
    for (int64_t i = 0; i < inPlane; ++i) StoreF(dst, i, acc[i]);
  }
}

// adaptiveAvgPool(x, out)
Napi::Value AdaptiveAvgPool(const Napi::CallbackInfo& info) {
  const char* op = "adaptiveAvgPool";
  View x = ReadView(info[0], op, "x");
  View y = ReadView(info[1], op, "out");
  const AdaptiveShape s = ReadAdaptive(x, y);
  if (x.dtype == DType::F32) AdaptiveForward(x.ptr<float>(), y.ptr<float>(), s);
  else AdaptiveForward(x.ptr<uint16_t>(), y.ptr<uint16_t>(), s);
  return info.Env().Undefined();
}

// adaptiveAvgPoolBackward(gradOut, gradIn)
Napi::Value AdaptiveAvgPoolBackward(const Napi::CallbackInfo& info) {
  const char* op = "adaptiveAvgPoolBackward";
  View gy = ReadView(info[0], op, "gradOut");
  View gx = ReadView(info[1], op, "gradIn");
  const AdaptiveShape s = ReadAdaptive(gx, gy);
  if (gx.dtype == DType::F32) AdaptiveBackward(gy.ptr<float>(), gx.ptr<float>(), s);
  else AdaptiveBackward(gy.ptr<uint16_t>(), gx.ptr<uint16_t>(), s);
  return info.Env().Undefined();
}

}  // namespace

void RegisterPool(Napi::Env env, Napi::Object exports) {
  ExportOneDnn(env, exports, "poolForward", PoolForward, {"x"});
  ExportOneDnn(env, exports, "poolBackward", PoolBackward, {"gradOut"});
  Export(env, exports, "adaptiveAvgPool", AdaptiveAvgPool);
  Export(env, exports, "adaptiveAvgPoolBackward", AdaptiveAvgPoolBackward);
}

}  // namespace tsv
