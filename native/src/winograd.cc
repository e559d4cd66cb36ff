// Winograd F(4×4, 3×3): the transforms use interpolation points 0, ±1, ±2 and ∞ (Lavin & Gray,
// "Fast Algorithms for Convolutional Neural Networks", 2016). Data flows per chunk of tiles:
// input transform -> 36 GEMMs (oneDNN 1×1 convolutions) -> output transform with the epilogue,
// so a chunk's transformed tiles stay in cache between the three steps.
#include "winograd.h"

#include <algorithm>

namespace tsv {

namespace {

using dnnl::memory;

constexpr int kTile = 6;     // input tile side
constexpr int kOut = 4;      // output tile side
constexpr int kPoints = 36;  // kTile²
// Chunks are sized so one chunk's transformed input and output (36 × tiles × (C + K) floats) fit
// in about this many bytes of cache.
constexpr size_t kChunkBytes = 4u << 20;
// Below this many tiles the GEMMs are too thin to repay reading 4× the weights (ResNet's last
// stage at batch 1 has 4).
constexpr int64_t kMinTiles = 16;

// setConvWinograd's modes.
enum Mode : int { Off = 0, WhereFaster = 1, Always = 2 };
int mode = WhereFaster;

// Eight floats, the AVX2 register; GCC/Clang vector extensions keep the transforms readable.
typedef float Vec __attribute__((vector_size(32)));
typedef float VecUnaligned __attribute__((vector_size(32), aligned(4)));
constexpr int kLanes = 8;

// ScratchBuffer slots: a chunk's transformed tiles and GEMM products, the transformed weights
// before their reorder, and the reordered weights when no holder keeps them.
enum Slot : int { kTilesSlot = 0, kProductsSlot = 1, kPointsSlot = 2, kUncachedWeightsSlot = 3 };

inline Vec Load(const float* p) { return *reinterpret_cast<const VecUnaligned*>(p); }
inline void Store(float* p, Vec v) { *reinterpret_cast<VecUnaligned*>(p) = v; }

// Bᵀ·d for one column of six values (the input transform, applied to rows then columns).
template <class T>
inline void InputPoints(const T (&d)[kTile], T (&o)[kTile]) {
  o[0] = 4 * d[0] - 5 * d[2] + d[4];
  o[1] = -4 * (d[1] + d[2]) + d[3] + d[4];
  o[2] = 4 * (d[1] - d[2]) - d[3] + d[4];
  o[3] = 2 * (d[3] - d[1]) - d[2] + d[4];
  o[4] = 2 * (d[1] - d[3]) - d[2] + d[4];
  o[5] = 4 * d[1] - 5 * d[3] + d[5];
}

// Aᵀ·m: six transformed points to four outputs.
template <class T>
inline void OutputPoints(const T (&m)[kTile], T (&o)[kOut]) {
  o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
  o[1] = m[1] - m[2] + 2 * (m[3] - m[4]);
  o[2] = m[1] + m[2] + 4 * (m[3] + m[4]);
  o[3] = m[1] - m[2] + 8 * (m[3] - m[4]) + m[5];
}

// G·g: three kernel taps to six points.
inline void KernelPoints(const double (&g)[3], double (&o)[kTile]) {
  o[0] = g[0] / 4;
  o[1] = -(g[0] + g[1] + g[2]) / 6;
  o[2] = -(g[0] - g[1] + g[2]) / 6;
  o[3] = g[0] / 24 + g[1] / 12 + g[2] / 6;
  o[4] = g[0] / 24 - g[1] / 12 + g[2] / 6;
  o[5] = g[2];
}

// F·d·Fᵀ for the 1-D transform F (`f`: N values to M): F applied down every column, then along every row.
template <int N, int M, class T, class F>
inline void Transform2D(const T (&d)[N][N], T (&out)[M][M], F f) {
  T down[M][N];
  for (int s = 0; s < N; ++s) {
    T column[N], image[M];
    for (int r = 0; r < N; ++r) column[r] = d[r][s];
    f(column, image);
    for (int r = 0; r < M; ++r) down[r][s] = image[r];
  }
  for (int r = 0; r < M; ++r) f(down[r], out[r]);
}

struct Geometry {
  int64_t n, c, k, h, w, tilesH, tilesW;
  int64_t Tiles() const { return n * tilesH * tilesW; }
};

// Tile index -> image, top-left output row and column.
struct TileOrigin {
  int64_t image, row, col;
};
inline TileOrigin Origin(const Geometry& g, int64_t tile) {
  const int64_t perImage = g.tilesH * g.tilesW, t = tile % perImage;
  return {tile / perImage, (t / g.tilesW) * kOut, (t % g.tilesW) * kOut};
}

inline float* At(const View& v, int64_t n, int64_t row, int64_t col) {
  return v.ptr<float>() + n * v.strides[0] + row * v.strides[2] + col * v.strides[3];
}

// Tiles [first, first + count) of x into V [36][count][C].
void TransformInput(const View& x, const Geometry& g, int64_t first, int64_t count, float* V) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const TileOrigin o = Origin(g, first + i);
    for (int64_t c = 0; c < g.c; c += kLanes) {
      Vec d[kTile][kTile];
      for (int r = 0; r < kTile; ++r) {
        const int64_t row = o.row - 1 + r;
        for (int s = 0; s < kTile; ++s) {
          const int64_t col = o.col - 1 + s;
          d[r][s] = (row >= 0 && row < g.h && col >= 0 && col < g.w) ? Load(At(x, o.image, row, col) + c) : Vec{};
        }
      }
      Vec points[kTile][kTile];
      Transform2D(d, points, InputPoints<Vec>);
      for (int r = 0; r < kTile; ++r)
        for (int s = 0; s < kTile; ++s) Store(V + ((r * kTile + s) * count + i) * g.c + c, points[r][s]);
    }
  }
}

// M [36][count][K] back to y's tiles, through the epilogue.
void TransformOutput(const float* M, const Geometry& g, int64_t first, int64_t count, const View& y, const WinogradEpilogue& e) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < count; ++i) {
    const TileOrigin o = Origin(g, first + i);
    for (int64_t k = 0; k < g.k; k += kLanes) {
      Vec points[kTile][kTile], outputs[kOut][kOut];
      for (int r = 0; r < kTile; ++r)
        for (int s = 0; s < kTile; ++s) points[r][s] = Load(M + ((r * kTile + s) * count + i) * g.k + k);
      Transform2D(points, outputs, OutputPoints<Vec>);
      const Vec bias = e.bias ? Load(e.bias + k) : Vec{};
      const Vec scale = e.scale ? Load(e.scale + k) : Vec{} + 1;
      const Vec shift = e.shift ? Load(e.shift + k) : Vec{};
      for (int r = 0; r < kOut && o.row + r < g.h; ++r) {
        for (int s = 0; s < kOut && o.col + s < g.w; ++s) {
          float* dst = At(y, o.image, o.row + r, o.col + s) + k;
          Vec v = (outputs[r][s] + bias) * scale + shift;
          if (e.accumulate) v += Load(dst);
          if (e.relu) v = v > 0 ? v : 0;
          Store(dst, v);
        }
      }
    }
  }
}

// The per-point GEMMs run as 1×1 convolutions ([tiles, C] rows as a channels-last [1, C, tiles, 1]
// image), not as a oneDNN matmul: oneDNN 2.6's f32 matmul kernel (gemm:jit) corrupts the heap when
// a signal handler runs on its thread mid-call (V8's sampling profiler, `node --cpu-prof`, does
// every ~1 ms; reproduced in a C++ loop with a SIGPROF timer), and the 1×1 kernel does not.
memory::desc PointRows(int64_t tiles, int64_t channels) {
  return memory::desc({1, channels, tiles, 1}, memory::data_type::f32, memory::format_tag::nhwc);
}

// The layout the 1×1 kernel wants one point's [K, C] weights in.
memory::desc PointWeightsLayout(int64_t c, int64_t k) {
  const std::string key = "winogradW|" + std::to_string(c) + "|" + std::to_string(k);
  return CachedPrimitive<memory::desc>(key, [&]() {
    const memory::desc any({k, c, 1, 1}, memory::data_type::f32, memory::format_tag::any);
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, PointRows(64, c), any,
                                            PointRows(64, k), {1, 1}, {0, 0}, {0, 0});
    return dnnl::convolution_forward::primitive_desc(d, Engine()).weights_desc();
  });
}

const dnnl::convolution_forward& PointGemm(int64_t tiles, int64_t c, int64_t k) {
  const std::string key = "winogradG|" + std::to_string(tiles) + "|" + std::to_string(c) + "|" + std::to_string(k);
  return CachedPrimitive<dnnl::convolution_forward>(key, [&]() {
    const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, PointRows(tiles, c),
                                            PointWeightsLayout(c, k), PointRows(tiles, k), {1, 1}, {0, 0}, {0, 0});
    return dnnl::convolution_forward(dnnl::convolution_forward::primitive_desc(d, Engine()));
  });
}

bool DenseChannels(const View& v) { return v.dtype == DType::F32 && v.strides[1] == 1; }

// setConvWinograd(mode): 0 never, 1 on CPUs without AVX-512, 2 on every CPU.
Napi::Value SetConvWinograd(const Napi::CallbackInfo& info) {
  const int m = info[0].As<Napi::Number>().Int32Value();
  if (m < Off || m > Always) Fail("mode must be 0, 1 or 2, got " + std::to_string(m));
  mode = m;
  return info.Env().Undefined();
}

Napi::Value ConvWinogradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), WinogradEnabled()); }

}  // namespace

// oneDNN 2.x has AVX-512 3×3 kernels (direct and Winograd) of its own; this one was measured only on
// AVX2 CPUs, where its only 3×3 kernels are direct ones.
bool WinogradEnabled(int callMode) {
  const int m = callMode < 0 ? mode : callMode;
  return m == Always || (m == WhereFaster && !CpuIsaAtLeast(dnnl::cpu_isa::avx512_core));
}

bool WinogradApplies(const View& x, const View& w, const View& y, const Dims& stride, const Dims& padL, const Dims& padR,
                     const Dims& dilation, int64_t groups, int callMode) {
  if (!WinogradEnabled(callMode) || x.ndim() != 4 || groups != 1 || w.dtype != DType::F32) return false;
  if (w.shape[2] != 3 || w.shape[3] != 3) return false;
  for (int i = 0; i < 2; ++i)
    if (stride[i] != 1 || dilation[i] != 0 || padL[i] != 1 || padR[i] != 1) return false;
  if (!DenseChannels(x) || !DenseChannels(y) || x.shape[1] % kLanes != 0 || y.shape[1] % kLanes != 0) return false;
  const int64_t tiles = x.shape[0] * ((y.shape[2] + kOut - 1) / kOut) * ((y.shape[3] + kOut - 1) / kOut);
  return tiles >= kMinTiles;
}

const float* WinogradWeights(const View& w, const Napi::Value& holder) {
  const int64_t k = w.shape[0], c = w.shape[1];
  const memory::desc layout = PointWeightsLayout(c, k);
  const size_t perPoint = layout.get_size() / sizeof(float);
  // U [36][C][K] first, then each point's [K, C] (strides 1, K) reordered to the 1×1 kernel's layout.
  const auto transform = [&](void* to) {
    float* points = static_cast<float*>(ScratchBuffer(kPointsSlot, kPoints * c * k * sizeof(float)));
    const float* base = w.ptr<float>();
    for (int64_t ko = 0; ko < k; ++ko)
      for (int64_t ci = 0; ci < c; ++ci) {
        double taps[3][3], u[kTile][kTile];
        for (int r = 0; r < 3; ++r)
          for (int s = 0; s < 3; ++s) taps[r][s] = base[ko * w.strides[0] + ci * w.strides[1] + r * w.strides[2] + s * w.strides[3]];
        Transform2D(taps, u, KernelPoints);
        for (int r = 0; r < kTile; ++r)
          for (int s = 0; s < kTile; ++s) points[((r * kTile + s) * c + ci) * k + ko] = static_cast<float>(u[r][s]);
      }
    const memory::desc user({k, c, 1, 1}, memory::data_type::f32, Dims{1, k, 1, 1});
    const dnnl::reorder toLayout(dnnl::reorder::primitive_desc(Engine(), user, Engine(), layout));
    for (int p = 0; p < kPoints; ++p) {
      memory from(user, Engine(), points + p * c * k), into(layout, Engine(), static_cast<float*>(to) + p * perPoint);
      toLayout.execute(Stream(), from, into);
    }
    Stream().wait();
  };
  if (holder.IsObject()) {
    // The cache key: 36 points of the 1×1 kernel's layout (a direct conv's packed weights are 4-D).
    const memory::desc cached({kPoints, static_cast<int64_t>(perPoint)}, memory::data_type::f32, memory::format_tag::ab);
    return static_cast<const float*>(PackedBuffer(holder.As<Napi::Object>(), cached, transform));
  }
  void* scratch = ScratchBuffer(kUncachedWeightsSlot, kPoints * perPoint * sizeof(float));
  transform(scratch);
  return static_cast<const float*>(scratch);
}

void WinogradConv(const View& x, const float* packed, const View& y, const WinogradEpilogue& e) {
  const Geometry g{x.shape[0], x.shape[1], y.shape[1], y.shape[2], y.shape[3], (y.shape[2] + kOut - 1) / kOut, (y.shape[3] + kOut - 1) / kOut};
  const int64_t tiles = g.Tiles();
  // A chunk small enough to stay in cache, but not so small that re-reading the transformed
  // weights for every chunk costs more than the chunk's own tiles (tiles ≥ C·K / (C + K)).
  const int64_t cacheFit = kChunkBytes / (kPoints * sizeof(float) * (g.c + g.k));
  const int64_t weightBalance = g.c * g.k / (g.c + g.k);
  const int64_t perChunk = std::min(std::max({cacheFit, weightBalance, kMinTiles}), tiles);
  float* V = static_cast<float*>(ScratchBuffer(kTilesSlot, kPoints * perChunk * g.c * sizeof(float)));
  float* M = static_cast<float*>(ScratchBuffer(kProductsSlot, kPoints * perChunk * g.k * sizeof(float)));
  const memory::desc layout = PointWeightsLayout(g.c, g.k);
  const size_t perPoint = layout.get_size() / sizeof(float);
  for (int64_t first = 0; first < tiles; first += perChunk) {
    const int64_t count = std::min(perChunk, tiles - first);
    TransformInput(x, g, first, count, V);
    const dnnl::convolution_forward& gemm = PointGemm(count, g.c, g.k);
    const memory::desc src = PointRows(count, g.c), dst = PointRows(count, g.k);
    for (int p = 0; p < kPoints; ++p) {
      gemm.execute(Stream(), {{DNNL_ARG_SRC, memory(src, Engine(), V + p * count * g.c)},
                              {DNNL_ARG_WEIGHTS, memory(layout, Engine(), const_cast<float*>(packed) + p * perPoint)},
                              {DNNL_ARG_DST, memory(dst, Engine(), M + p * count * g.k)}});
    }
    Stream().wait();
    TransformOutput(M, g, first, count, y, e);
  }
}

void RegisterWinograd(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "setConvWinograd", SetConvWinograd);
  Export(env, exports, "convWinogradEnabled", ConvWinogradEnabled);
}

}  // namespace tsv
