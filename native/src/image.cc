// Image resampling that reproduces Pillow's Image.resize for 8-bit images, so preprocessing
// matches the PIL-based reference pipelines (timm, torchvision, CLIP) pixel for pixel.
// Separable: a horizontal pass into an 8-bit intermediate, then a vertical pass; each output
// pixel is a normalized, fixed-point weighted sum over a support that widens with the
// downscale factor (antialiasing). Filter shapes and rounding follow Pillow's documented
// behaviour; the code is our own.
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace tsv {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

// Codes shared with src/io/image.ts (RESAMPLE_FILTER).
enum Filter : int { Nearest = 0, Box = 1, Bilinear = 2, Hamming = 3, Bicubic = 4, Lanczos = 5 };

double Support(int f) {
  switch (f) {
    case Box: return 0.5;
    case Bilinear: return 1.0;
    case Hamming: return 1.0;
    case Bicubic: return 2.0;
    case Lanczos: return 3.0;
  }
  Fail("unknown filter code " + std::to_string(f));
}

double Sinc(double x) {
  if (x == 0.0) return 1.0;
  x *= M_PI;
  return std::sin(x) / x;
}

double Kernel(int f, double x) {
  switch (f) {
    case Box: return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
    case Bilinear: x = std::fabs(x); return x < 1.0 ? 1.0 - x : 0.0;
    case Hamming:
      if (x < 0.0) x = -x;
      if (x == 0.0) return 1.0;
      if (x >= 1.0) return 0.0;
      x *= M_PI;
      return std::sin(x) / x * (0.54 + 0.46 * std::cos(x));
    case Bicubic: {
      const double a = -0.5;
      x = std::fabs(x);
      if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
      if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
      return 0.0;
    }
    case Lanczos: return (x > -3.0 && x < 3.0) ? Sinc(x) * Sinc(x / 3.0) : 0.0;
  }
  return 0.0;
}

struct Taps {
  int ksize = 0;
  std::vector<int> start, count;  // per output index
  std::vector<int32_t> weights;   // ksize per output index, fixed point
};

// Taps for resampling the input range [in0, in1) of an axis of length inSize to outSize pixels.
Taps Precompute(int inSize, double in0, double in1, int outSize, int filter) {
  const double scale = (in1 - in0) / outSize;
  const double filterScale = std::max(scale, 1.0);
  const double support = Support(filter) * filterScale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.start.resize(outSize);
  t.count.resize(outSize);
  t.weights.assign(static_cast<size_t>(outSize) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  for (int xx = 0; xx < outSize; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterScale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = Kernel(filter, (x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      const double scaled = w * (1 << kPrecisionBits);
      t.weights[static_cast<size_t>(xx) * t.ksize + x] = static_cast<int32_t>(w < 0 ? -0.5 + scaled : 0.5 + scaled);
    }
    t.start[xx] = xmin;
    t.count[xx] = xmax;
  }
  return t;
}

inline uint8_t Clip8(int64_t v) {
  v >>= kPrecisionBits;
  return v < 0 ? 0 : v > 255 ? 255 : static_cast<uint8_t>(v);
}

// Resamples rows [rowBegin, rowBegin + rows) of an interleaved HxWxC image horizontally.
void Horizontal(const uint8_t* src, int srcW, int channels, int rowBegin, int rows, const Taps& t, int outW, uint8_t* dst) {
#pragma omp parallel for schedule(static) if (rows * outW > 4096)
  for (int y = 0; y < rows; ++y) {
    const uint8_t* in = src + static_cast<size_t>(rowBegin + y) * srcW * channels;
    uint8_t* out = dst + static_cast<size_t>(y) * outW * channels;
    for (int x = 0; x < outW; ++x) {
      const int32_t* w = &t.weights[static_cast<size_t>(x) * t.ksize];
      for (int c = 0; c < channels; ++c) {
        int64_t acc = 1 << (kPrecisionBits - 1);
        for (int k = 0; k < t.count[x]; ++k) acc += static_cast<int64_t>(in[(t.start[x] + k) * channels + c]) * w[k];
        out[x * channels + c] = Clip8(acc);
      }
    }
  }
}

// Resamples an interleaved image vertically; `rowOffset` shifts the taps' row indices.
void Vertical(const uint8_t* src, int w, int channels, int rowOffset, const Taps& t, int outH, uint8_t* dst) {
  const int rowLen = w * channels;
#pragma omp parallel for schedule(static) if (outH * rowLen > 4096)
  for (int y = 0; y < outH; ++y) {
    const int32_t* wt = &t.weights[static_cast<size_t>(y) * t.ksize];
    uint8_t* out = dst + static_cast<size_t>(y) * rowLen;
    for (int i = 0; i < rowLen; ++i) {
      int64_t acc = 1 << (kPrecisionBits - 1);
      for (int k = 0; k < t.count[y]; ++k) acc += static_cast<int64_t>(src[static_cast<size_t>(t.start[y] - rowOffset + k) * rowLen + i]) * wt[k];
      out[i] = Clip8(acc);
    }
  }
}

// Nearest neighbour as Pillow's affine scaling does it: the source coordinate starts at
// box0 + scale/2 and grows by `scale` per output pixel. It is accumulated, not recomputed as
// (x + 0.5)·scale, because the accumulated rounding decides which pixel Pillow picks at ties.
void NearestResize(const uint8_t* src, int srcW, int srcH, int channels, const double* box, int outW, int outH, uint8_t* dst) {
  const double sx = (box[2] - box[0]) / outW, sy = (box[3] - box[1]) / outH;
  std::vector<int> xin(outW);
  double xo = box[0] + sx * 0.5;
  for (int x = 0; x < outW; ++x, xo += sx) xin[x] = std::min(static_cast<int>(xo), srcW - 1);
  double yo = box[1] + sy * 0.5;
  for (int y = 0; y < outH; ++y, yo += sy) {
    const int yy = std::min(static_cast<int>(yo), srcH - 1);
    for (int x = 0; x < outW; ++x) {
      for (int c = 0; c < channels; ++c)
        dst[(static_cast<size_t>(y) * outW + x) * channels + c] = src[(static_cast<size_t>(yy) * srcW + xin[x]) * channels + c];
    }
  }
}

// resizeImage(src, dst, filter, box): src is a contiguous uint8 [H, W, C] tensor, dst [outH, outW, C];
// box = [x0, y0, x1, y1] is the source region (Pillow's `box`, the whole image by default).
Napi::Value ResizeImage(const Napi::CallbackInfo& info) {
  const char* op = "resizeImage";
  View src = ReadView(info[0], op, "src");
  View dst = ReadView(info[1], op, "dst");
  const int filter = info[2].As<Napi::Number>().Int32Value();
  Dims boxArg = ReadDims(info[3], op, "box");
  if (src.dtype != DType::U8 || dst.dtype != DType::U8) Fail("src and dst must be uint8");
  if (src.ndim() != 3 || dst.ndim() != 3 || !src.contiguous() || !dst.contiguous()) Fail("src and dst must be contiguous [H, W, C]");
  if (src.shape[2] != dst.shape[2]) Fail("src and dst channel counts differ");
  const int h = static_cast<int>(src.shape[0]), w = static_cast<int>(src.shape[1]), c = static_cast<int>(src.shape[2]);
  const int outH = static_cast<int>(dst.shape[0]), outW = static_cast<int>(dst.shape[1]);
  if (h <= 0 || w <= 0 || outH <= 0 || outW <= 0) Fail("sizes must be positive");
  if (boxArg.size() != 4) Fail("box must be [x0, y0, x1, y1]");
  const double box[4] = {static_cast<double>(boxArg[0]), static_cast<double>(boxArg[1]), static_cast<double>(boxArg[2]), static_cast<double>(boxArg[3])};
  if (box[0] < 0 || box[1] < 0 || box[2] > w || box[3] > h || box[2] <= box[0] || box[3] <= box[1]) Fail("box lies outside the image");
  const uint8_t* in = src.ptr<uint8_t>();
  uint8_t* out = dst.ptr<uint8_t>();
  if (filter == Nearest) {
    NearestResize(in, w, h, c, box, outW, outH, out);
    return info.Env().Undefined();
  }
  const bool needH = outW != w || box[0] != 0 || box[2] != outW;
  const bool needV = outH != h || box[1] != 0 || box[3] != outH;
  Taps vt;
  int rowFirst = 0, rowLast = h;
  if (needV) {
    vt = Precompute(h, box[1], box[3], outH, filter);
    rowFirst = vt.start[0];
    rowLast = vt.start[outH - 1] + vt.count[outH - 1];
  }
  std::vector<uint8_t> temp;
  const uint8_t* mid = in;
  int midW = w, rowOffset = 0;
  if (needH) {
    Taps ht = Precompute(w, box[0], box[2], outW, filter);
    const int rows = needV ? rowLast - rowFirst : h;
    const int begin = needV ? rowFirst : 0;
    uint8_t* target = out;
    if (needV) {
      temp.resize(static_cast<size_t>(rows) * outW * c);
      target = temp.data();
    }
    Horizontal(in, w, c, begin, rows, ht, outW, target);
    if (!needV) return info.Env().Undefined();
    mid = temp.data();
    midW = outW;
    rowOffset = rowFirst;
  }
  if (needV) {
    Vertical(mid, midW, c, rowOffset, vt, outH, out);
  } else {
    std::memcpy(out, in, static_cast<size_t>(h) * w * c);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterImage(Napi::Env env, Napi::Object exports) { Export(env, exports, "resizeImage", ResizeImage); }

}  // namespace tsv
