// Strided copy with dtype conversion (any strides, broadcast sources) and fill.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "common.h"
#include "strided.h"

namespace tsv {

namespace {

// Element types by dtype; bf16 is stored as uint16 and converted through float.
struct Bf16 { uint16_t bits; };

template <class T> struct Io;
template <> struct Io<float> { using S = float; static double get(const S* p) { return *p; } static void put(S* p, double v) { *p = static_cast<float>(v); } };
template <> struct Io<Bf16> { using S = uint16_t; static double get(const S* p) { return Bf16ToF32(*p); } static void put(S* p, double v) { *p = F32ToBf16(static_cast<float>(v)); } };
template <> struct Io<int32_t> { using S = int32_t; static double get(const S* p) { return *p; } static void put(S* p, double v) { *p = static_cast<int32_t>(v); } };
template <> struct Io<int64_t> { using S = int64_t; static double get(const S* p) { return static_cast<double>(*p); } static void put(S* p, double v) { *p = static_cast<int64_t>(v); } };
template <> struct Io<uint8_t> { using S = uint8_t; static double get(const S* p) { return *p; } static void put(S* p, double v) { *p = static_cast<uint8_t>(static_cast<int64_t>(v)); } };
struct BoolTag {};
template <> struct Io<BoolTag> { using S = uint8_t; static double get(const S* p) { return *p != 0; } static void put(S* p, double v) { *p = v != 0 ? 1 : 0; } };

template <class SrcT, class DstT>
void CopyTyped(const View& src, const View& dst) {
  using S = typename Io<SrcT>::S;
  using D = typename Io<DstT>::S;
  StridedLayout<2> layout = CollapseDims<2>(dst.shape, {&src.strides, &dst.strides});
  // A short innermost run (NCHW -> NHWC of a 3-channel image: runs of 3) makes per-row overhead the
  // cost; looping over the next, long dim innermost instead writes with a small stride and is fast.
  const size_t nd = layout.shape.size();
  if (nd >= 2 && layout.inner() < 16 && layout.shape[nd - 2] >= 256) {
    std::swap(layout.shape[nd - 1], layout.shape[nd - 2]);
    for (Dims& st : layout.strides) std::swap(st[nd - 1], st[nd - 2]);
  }
  const int64_t si = layout.innerStride(0), di = layout.innerStride(1);
  const S* sp = src.ptr<S>();
  D* dp = dst.ptr<D>();
  ForEachChunk(layout, [&](const std::array<int64_t, 2>& at, int64_t begin, int64_t end) {
    const S* s = sp + at[0];
    D* o = dp + at[1];
    if constexpr (std::is_same_v<SrcT, DstT>) {
      if (si == 1 && di == 1) {
        std::memcpy(o + begin, s + begin, (end - begin) * sizeof(S));
        return;
      }
      for (int64_t i = begin; i < end; ++i) o[i * di] = s[i * si];
    } else {
      for (int64_t i = begin; i < end; ++i) Io<DstT>::put(o + i * di, Io<SrcT>::get(s + i * si));
    }
  });
}

// Calls f with a value of dt's element type (float, Bf16, ..., BoolTag), for code templated on it.
template <class F>
void WithElementType(DType dt, F&& f) {
  switch (dt) {
    case DType::F32: return f(float{});
    case DType::BF16: return f(Bf16{});
    case DType::I32: return f(int32_t{});
    case DType::I64: return f(int64_t{});
    case DType::U8: return f(uint8_t{});
    case DType::Bool: return f(BoolTag{});
  }
}

// copy(src, dst): dst[i] = cast(src[i]) over dst's shape; src may broadcast via zero strides.
Napi::Value Copy(const Napi::CallbackInfo& info) {
  View src = ReadView(info[0], "copy", "src");
  View dst = ReadView(info[1], "copy", "dst");
  if (src.shape != dst.shape) Fail("shapes differ: src " + DimsKey(src.shape) + " dst " + DimsKey(dst.shape));
  if (dst.numel() == 0) return info.Env().Undefined();
  WithElementType(src.dtype, [&](auto s) {
    WithElementType(dst.dtype, [&](auto d) { CopyTyped<decltype(s), decltype(d)>(src, dst); });
  });
  return info.Env().Undefined();
}

template <class T>
void FillTyped(const View& dst, double value) {
  using S = typename Io<T>::S;
  S v;
  Io<T>::put(&v, value);
  S* p = dst.ptr<S>();
  const int64_t n = dst.numel();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) p[i] = v;
}

// fill(dst, value): dst must be contiguous.
Napi::Value Fill(const Napi::CallbackInfo& info) {
  View dst = ReadView(info[0], "fill", "dst");
  if (!dst.contiguous()) Fail("dst must be contiguous");
  double value = info[1].As<Napi::Number>().DoubleValue();
  WithElementType(dst.dtype, [&](auto t) { FillTyped<decltype(t)>(dst, value); });
  return info.Env().Undefined();
}

}  // namespace

void RegisterCopy(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "copy", Copy);
  Export(env, exports, "fill", Fill);
}

}  // namespace tsv
