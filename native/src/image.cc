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

// Pillow's Image.transform(AFFINE) and the HSV round trip of torchvision's adjust_hue follow
// libImaging's arithmetic step for step, including where it mixes float and double, so they
// match Pillow bit for bit. Fusing a multiply and an add into one FMA rounds once instead of
// twice and changes results, so contraction is off for this part of the file.
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")

// libImaging's FLOOR (floor below zero, truncation above) and COORD (any negative is -1).
inline int PilFloor(double v) { return v < 0.0 ? static_cast<int>(std::floor(v)) : static_cast<int>(v); }
inline int PilCoord(double v) { return v < 0.0 ? -1 : static_cast<int>(v); }
inline int ClampIndex(int i, int size) { return i < 0 ? 0 : i < size ? i : size - 1; }

struct Image8 {
  const uint8_t* data;
  int w, h, c;
  const uint8_t* Row(int y) const { return data + static_cast<size_t>(y) * w * c; }
};

// One Catmull-Rom (a = -0.5) step through four samples at fraction d, in Pillow's term order.
inline double Cubic(double v1, double v2, double v3, double v4, double d) {
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return v2 + d * (p2 + d * (p3 + d * p4));
}

// The filters take the channel count as a template argument (0: read it from the image) so the
// common 1- and 3-channel loops unroll.

// Bilinear sample at (xin, yin) in pixel-edge coordinates; false outside the image. Rows and
// columns beyond the border repeat the edge, and the result truncates.
template <int kChannels>
bool SampleBilinear(const Image8& im, double xin, double yin, uint8_t* out) {
  const int nc = kChannels ? kChannels : im.c;
  if (xin < 0.0 || xin >= im.w || yin < 0.0 || yin >= im.h) return false;
  xin -= 0.5;
  yin -= 0.5;
  const int x = PilFloor(xin), y = PilFloor(yin);
  const double dx = xin - x, dy = yin - y;
  const int c0 = ClampIndex(x, im.w) * nc, c1 = ClampIndex(x + 1, im.w) * nc;
  const uint8_t* top = im.Row(ClampIndex(y, im.h));
  const uint8_t* bottom = y + 1 < im.h ? im.Row(y + 1) : nullptr;
  for (int ch = 0; ch < nc; ++ch) {
    const double v1 = top[c0 + ch] + (top[c1 + ch] - top[c0 + ch]) * dx;
    const double v2 = bottom ? bottom[c0 + ch] + (bottom[c1 + ch] - bottom[c0 + ch]) * dx : v1;
    out[ch] = static_cast<uint8_t>(v1 + (v2 - v1) * dy);
  }
  return true;
}

// Bicubic sample: four columns clamped to the image, four rows where a row past the border
// repeats the previous row's value; the result clips to [0, 255] and truncates.
template <int kChannels>
bool SampleBicubic(const Image8& im, double xin, double yin, uint8_t* out) {
  const int nc = kChannels ? kChannels : im.c;
  if (xin < 0.0 || xin >= im.w || yin < 0.0 || yin >= im.h) return false;
  xin -= 0.5;
  yin -= 0.5;
  const int x = PilFloor(xin) - 1, y = PilFloor(yin) - 1;
  const double dx = xin - (x + 1), dy = yin - (y + 1);
  int cols[4];
  for (int k = 0; k < 4; ++k) cols[k] = ClampIndex(x + k, im.w) * nc;
  const uint8_t* rows[4];
  rows[0] = im.Row(ClampIndex(y, im.h));
  for (int k = 1; k < 4; ++k) rows[k] = y + k >= 0 && y + k < im.h ? im.Row(y + k) : nullptr;
  for (int ch = 0; ch < nc; ++ch) {
    const auto row = [&](const uint8_t* r) { return Cubic(r[cols[0] + ch], r[cols[1] + ch], r[cols[2] + ch], r[cols[3] + ch], dx); };
    double v[4];
    v[0] = row(rows[0]);
    for (int k = 1; k < 4; ++k) v[k] = rows[k] ? row(rows[k]) : v[k - 1];
    const double s = Cubic(v[0], v[1], v[2], v[3], dy);
    out[ch] = s <= 0.0 ? 0 : s >= 255.0 ? 255 : static_cast<uint8_t>(s);
  }
  return true;
}

// Pillow's generic engine: every output pixel maps its center through the matrix in double
// and the filter samples there; pixels that map outside keep the fill already in dst.
template <int kChannels, bool kBicubic>
void AffineFiltered(const Image8& im, const double* a, int outW, int outH, uint8_t* dst) {
  const size_t rowLen = static_cast<size_t>(outW) * im.c;
#pragma omp parallel for schedule(static) if (static_cast<size_t>(outH) * rowLen > 16384)
  for (int y = 0; y < outH; ++y) {
    uint8_t* out = dst + y * rowLen;
    const double yc = y + 0.5;
    for (int x = 0; x < outW; ++x, out += im.c) {
      const double xc = x + 0.5;
      const double xin = a[0] * xc + a[1] * yc + a[2];
      const double yin = a[3] * xc + a[4] * yc + a[5];
      if (kBicubic) SampleBicubic<kChannels>(im, xin, yin, out);
      else SampleBilinear<kChannels>(im, xin, yin, out);
    }
  }
}

template <bool kBicubic>
void AffineFilteredAnyChannels(const Image8& im, const double* a, int outW, int outH, uint8_t* dst) {
  if (im.c == 1) AffineFiltered<1, kBicubic>(im, a, outW, outH, dst);
  else if (im.c == 3) AffineFiltered<3, kBicubic>(im, a, outW, outH, dst);
  else AffineFiltered<0, kBicubic>(im, a, outW, outH, dst);
}

inline void CopyPixel(const Image8& im, int x, int y, uint8_t* out) {
  const uint8_t* in = im.Row(y) + static_cast<size_t>(x) * im.c;
  for (int ch = 0; ch < im.c; ++ch) out[ch] = in[ch];
}

// Nearest neighbour, by whichever of Pillow's three walks it would take: a separable scale
// (no rotation terms), 16.16 fixed point when every corner fits, else a double walk.
void AffineNearest(const Image8& im, const double* a, int outW, int outH, uint8_t* dst) {
  const size_t rowLen = static_cast<size_t>(outW) * im.c;
  if (a[1] == 0 && a[3] == 0) {
    std::vector<int> xs(outW, -1);
    double xo = a[2] + a[0] * 0.5;
    for (int x = 0; x < outW; ++x, xo += a[0]) {
      const int xi = PilCoord(xo);
      if (xi >= 0 && xi < im.w) xs[x] = xi;
    }
    double yo = a[5] + a[4] * 0.5;
    for (int y = 0; y < outH; ++y, yo += a[4]) {
      const int yi = PilCoord(yo);
      if (yi < 0 || yi >= im.h) continue;
      for (int x = 0; x < outW; ++x)
        if (xs[x] >= 0) CopyPixel(im, xs[x], yi, dst + y * rowLen + static_cast<size_t>(x) * im.c);
    }
    return;
  }
  const auto fits = [&](int x, int y) {
    return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
  };
  if (fits(0, 0) && fits(outW, outH) && fits(0, outH) && fits(outW, 0)) {
    const auto fix = [](double v) { return static_cast<int64_t>(PilFloor(v * 65536.0 + 0.5)); };
    const int64_t stepXX = fix(a[0]), stepXY = fix(a[1]), stepYX = fix(a[3]), stepYY = fix(a[4]);
    int64_t rowX = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), rowY = fix(a[5] + a[3] * 0.5 + a[4] * 0.5);
    for (int y = 0; y < outH; ++y, rowX += stepXY, rowY += stepYY) {
      int64_t xx = rowX, yy = rowY;
      for (int x = 0; x < outW; ++x, xx += stepXX, yy += stepYX) {
        const int64_t xi = xx >> 16, yi = yy >> 16;
        if (xi >= 0 && xi < im.w && yi >= 0 && yi < im.h) CopyPixel(im, static_cast<int>(xi), static_cast<int>(yi), dst + y * rowLen + static_cast<size_t>(x) * im.c);
      }
    }
    return;
  }
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int y = 0; y < outH; ++y, xo += a[1], yo += a[4]) {
    double xx = xo, yy = yo;
    for (int x = 0; x < outW; ++x, xx += a[0], yy += a[3]) {
      const int xi = PilCoord(xx), yi = PilCoord(yy);
      if (xi >= 0 && xi < im.w && yi >= 0 && yi < im.h) CopyPixel(im, xi, yi, dst + y * rowLen + static_cast<size_t>(x) * im.c);
    }
  }
}

std::vector<double> ReadNumbers(Napi::Value value, const char* what) {
  if (!value.IsArray()) Fail(std::string(what) + " must be an array of numbers");
  Napi::Array arr = value.As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsNumber()) Fail(std::string(what) + "[" + std::to_string(i) + "] is not a number");
    out[i] = v.As<Napi::Number>().DoubleValue();
  }
  return out;
}

// affineImage(src, dst, filter, matrix, fill): dst[y, x] samples src at matrix · (x + ½, y + ½)
// (Pillow's Image.transform(size, AFFINE, matrix, resample, fillcolor=fill)).
Napi::Value AffineImage(const Napi::CallbackInfo& info) {
  const char* op = "affineImage";
  View src = ReadView(info[0], op, "src");
  View dst = ReadView(info[1], op, "dst");
  const int filter = info[2].As<Napi::Number>().Int32Value();
  const std::vector<double> a = ReadNumbers(info[3], "matrix");
  const std::vector<double> fill = ReadNumbers(info[4], "fill");
  if (src.dtype != DType::U8 || dst.dtype != DType::U8) Fail("src and dst must be uint8");
  if (src.ndim() != 3 || dst.ndim() != 3 || !src.contiguous() || !dst.contiguous()) Fail("src and dst must be contiguous [H, W, C]");
  if (src.shape[2] != dst.shape[2]) Fail("src and dst channel counts differ");
  if (filter != Nearest && filter != Bilinear && filter != Bicubic) Fail("filter must be nearest, bilinear or bicubic, got code " + std::to_string(filter));
  if (a.size() != 6) Fail("matrix must have 6 numbers, got " + std::to_string(a.size()));
  for (double v : a)
    if (!std::isfinite(v)) Fail("matrix values must be finite");
  const Image8 im{src.ptr<uint8_t>(), static_cast<int>(src.shape[1]), static_cast<int>(src.shape[0]), static_cast<int>(src.shape[2])};
  const int outH = static_cast<int>(dst.shape[0]), outW = static_cast<int>(dst.shape[1]);
  if (im.h <= 0 || im.w <= 0 || im.c <= 0) Fail("src must not be empty");
  if (fill.size() != static_cast<size_t>(im.c)) Fail("fill must have one value per channel");
  uint8_t* out = dst.ptr<uint8_t>();
  std::vector<uint8_t> pixel(im.c);
  for (int ch = 0; ch < im.c; ++ch) pixel[ch] = static_cast<uint8_t>(std::clamp(fill[ch], 0.0, 255.0));
  const size_t pixels = static_cast<size_t>(outH) * outW;
  for (size_t i = 0; i < pixels; ++i) std::memcpy(out + i * im.c, pixel.data(), im.c);
  if (filter == Nearest) AffineNearest(im, a.data(), outW, outH, out);
  else if (filter == Bicubic) AffineFilteredAnyChannels<true>(im, a.data(), outW, outH, out);
  else AffineFilteredAnyChannels<false>(im, a.data(), outW, outH, out);
  return info.Env().Undefined();
}

inline uint8_t Clip8Int(int v) { return v <= 0 ? 0 : v >= 255 ? 255 : static_cast<uint8_t>(v); }

// C's round (halves away from zero) without the libm call: y − floor(y) is exact in double.
inline double RoundHalfAway(double y) {
  const double m = std::fabs(y), f = std::floor(m);
  const double r = m - f >= 0.5 ? f + 1.0 : f;
  return y < 0 ? -r : r;
}

// Pillow's RGB → HSV with all three components in 0..255 (hue and saturation truncated).
inline void RgbToHsv(const uint8_t* rgb, uint8_t* hsv) {
  const uint8_t r = rgb[0], g = rgb[1], b = rgb[2];
  const uint8_t hi = std::max(r, std::max(g, b)), lo = std::min(r, std::min(g, b));
  hsv[2] = hi;
  if (hi == lo) {
    hsv[0] = hsv[1] = 0;
    return;
  }
  const float range = static_cast<float>(hi - lo);
  const float sat = range / static_cast<float>(hi);
  const float dr = static_cast<float>(hi - r) / range, dg = static_cast<float>(hi - g) / range, db = static_cast<float>(hi - b) / range;
  float hue;
  if (r == hi) hue = db - dg;
  else if (g == hi) hue = static_cast<float>(2.0 + dr - db);
  else hue = static_cast<float>(4.0 + dg - dr);
  // fmod(x, 1) of x in [5/6, 2); x − 1 is exact there, and cheaper than the libm call.
  const double wrapped = hue / 6.0 + 1.0;
  hue = static_cast<float>(wrapped >= 1.0 ? wrapped - 1.0 : wrapped);
  hsv[0] = Clip8Int(static_cast<int>(hue * 255.0));
  hsv[1] = Clip8Int(static_cast<int>(sat * 255.0));
}

// Pillow's HSV → RGB: the hue sector and its fraction in float, the three ramps rounded half
// away from zero.
inline void HsvToRgb(const uint8_t* hsv, uint8_t* rgb) {
  const uint8_t h = hsv[0], s = hsv[1], v = hsv[2];
  if (s == 0) {
    rgb[0] = rgb[1] = rgb[2] = v;
    return;
  }
  const int sector = static_cast<int>(std::floor(static_cast<float>(h) * 6.0 / 255.0));
  const float frac = static_cast<float>(static_cast<float>(h) * 6.0 / 255.0 - static_cast<float>(sector));
  const float sat = static_cast<float>(static_cast<float>(s) / 255.0);
  const float value = static_cast<float>(v);
  const uint8_t p = Clip8Int(static_cast<int>(RoundHalfAway(value * (1.0 - sat))));
  const uint8_t q = Clip8Int(static_cast<int>(RoundHalfAway(value * (1.0 - sat * frac))));
  const uint8_t t = Clip8Int(static_cast<int>(RoundHalfAway(value * (1.0 - sat * (1.0 - frac)))));
  const uint8_t order[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
  const uint8_t* o = order[sector % 6];
  rgb[0] = o[0];
  rgb[1] = o[1];
  rgb[2] = o[2];
}

// adjustHueImage(src, dst, shift): RGB → HSV, hue += shift (mod 256), back to RGB, as
// torchvision's adjust_hue does it through Pillow.
Napi::Value AdjustHueImage(const Napi::CallbackInfo& info) {
  const char* op = "adjustHueImage";
  View src = ReadView(info[0], op, "src");
  View dst = ReadView(info[1], op, "dst");
  const int shift = info[2].As<Napi::Number>().Int32Value();
  if (src.dtype != DType::U8 || dst.dtype != DType::U8) Fail("src and dst must be uint8");
  if (src.ndim() != 3 || src.shape[2] != 3 || !src.contiguous()) Fail("src must be a contiguous [H, W, 3] RGB image");
  if (dst.shape != src.shape || !dst.contiguous()) Fail("dst must be contiguous with src's shape");
  if (shift < 0 || shift > 255) Fail("shift must be in [0, 255], got " + std::to_string(shift));
  const uint8_t* in = src.ptr<uint8_t>();
  uint8_t* out = dst.ptr<uint8_t>();
  const int64_t pixels = src.shape[0] * src.shape[1];
#pragma omp parallel for schedule(static) if (pixels > 16384)
  for (int64_t i = 0; i < pixels; ++i) {
    uint8_t hsv[3];
    RgbToHsv(in + i * 3, hsv);
    hsv[0] = static_cast<uint8_t>(hsv[0] + shift);
    HsvToRgb(hsv, out + i * 3);
  }
  return info.Env().Undefined();
}

#pragma GCC pop_options

}  // namespace

void RegisterImage(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "resizeImage", ResizeImage);
  Export(env, exports, "affineImage", AffineImage);
  Export(env, exports, "adjustHueImage", AdjustHueImage);
}

}  // namespace tsv
