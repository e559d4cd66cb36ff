// Index kernels: gather (index_select and embedding are gathers with an expanded index),
// scatter-add (index_add is a scatter-add with an expanded index) and masked fill.
// Every index is bounds-checked before anything is written; an out-of-range index is
// reported to JS as a return value, so the caller can raise an IndexError naming its op.
// Scatter-add is deterministic: each output element is owned by one thread, which adds
// its contributions in index order.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <vector>

#include "common.h"

namespace tsv {

namespace {

constexpr int kMaxDims = 16;
constexpr int64_t kParallelWork = 1 << 15;

// Visits every multi-index of `shape` in row-major order, the range split evenly across
// threads. body(off, idx) gets per operand t the offset sum_d idx[d] * strides[t][d].
template <size_t N, class F>
void ForEachIndex(const Dims& shape, const std::array<Dims, N>& strides, int64_t workPerIndex, const F& body) {
  const int nd = static_cast<int>(shape.size());
  int64_t total = 1;
  for (int64_t s : shape) total *= s;
  if (total == 0) return;
#pragma omp parallel if (total * workPerIndex > kParallelWork)
  {
    const int64_t nt = omp_get_num_threads(), t = omp_get_thread_num();
    const int64_t begin = total * t / nt, end = total * (t + 1) / nt;
    if (begin < end) {
      int64_t idx[kMaxDims];
      std::array<int64_t, N> off{};
      int64_t rem = begin;
      for (int d = nd - 1; d >= 0; --d) {
        idx[d] = rem % shape[d];
        rem /= shape[d];
        for (size_t k = 0; k < N; ++k) off[k] += idx[d] * strides[k][d];
      }
      for (int64_t r = begin; r < end; ++r) {
        body(off, idx);
        for (int d = nd - 1; d >= 0; --d) {
          ++idx[d];
          for (size_t k = 0; k < N; ++k) off[k] += strides[k][d];
          if (idx[d] < shape[d]) break;
          for (size_t k = 0; k < N; ++k) off[k] -= shape[d] * strides[k][d];
          idx[d] = 0;
        }
      }
    }
  }
}

// The first index outside [0, size), or nothing. Dims of stride 0 repeat values, so they are
// visited once: an index expanded from a 1-D vector costs as much as the vector.
template <class I>
std::optional<int64_t> FindBadIndex(const View& index, int64_t size) {
  Dims shape, strides;
  for (int d = 0; d < index.ndim(); ++d) {
    if (index.shape[d] == 0) return std::nullopt;
    if (index.shape[d] > 1 && index.strides[d] != 0) {
      shape.push_back(index.shape[d]);
      strides.push_back(index.strides[d]);
    }
  }
  const I* p = index.ptr<I>();
  const int nd = static_cast<int>(shape.size());
  int64_t idx[kMaxDims] = {0};
  int64_t off = 0;
  while (true) {
    const int64_t v = p[off];
    if (v < 0 || v >= size) return v;
    int d = nd - 1;
    for (; d >= 0; --d) {
      ++idx[d];
      off += strides[d];
      if (idx[d] < shape[d]) break;
      off -= shape[d] * strides[d];
      idx[d] = 0;
    }
    if (d < 0) return std::nullopt;
  }
}

std::optional<int64_t> CheckIndex(const View& index, int64_t size) {
  return index.dtype == DType::I32 ? FindBadIndex<int32_t>(index, size) : FindBadIndex<int64_t>(index, size);
}

Napi::Value BadIndexResult(Napi::Env env, const std::optional<int64_t>& bad) {
  return bad ? Napi::BigInt::New(env, *bad) : env.Null();
}

int ReadDim(Napi::Value v, int ndim) {
  int dim = v.As<Napi::Number>().Int32Value();
  if (dim < 0 || dim >= ndim) Fail("dim " + std::to_string(dim) + " is out of range for rank " + std::to_string(ndim));
  return dim;
}

void CheckIndexDType(const View& index) {
  if (index.dtype != DType::I32 && index.dtype != DType::I64)
    Fail(std::string("index has dtype ") + DTypeName(index.dtype) + ", expected int32 or int64");
}

Dims WithoutLast(const Dims& d) { return Dims(d.begin(), d.end() - 1); }

// ---- gather ----------------------------------------------------------------

// out[p] = x[p with p[dim] replaced by index[p]] over out's (= index's) shape; rows are
// all dims but the last, which the inner loop walks.
template <class T, class I>
void GatherTyped(const View& x, int dim, const View& index, const View& out) {
  Dims xs = x.strides;
  xs[dim] = 0;
  const int64_t inner = out.shape.back();
  const int64_t xi = xs.back(), ii = index.strides.back(), oi = out.strides.back(), xd = x.strides[dim];
  const T* xp = x.ptr<T>();
  const I* ip = index.ptr<I>();
  T* op = out.ptr<T>();
  std::array<Dims, 3> rowStrides{WithoutLast(xs), WithoutLast(index.strides), WithoutLast(out.strides)};
  ForEachIndex<3>(WithoutLast(out.shape), rowStrides, inner, [&](const std::array<int64_t, 3>& off, const int64_t*) {
    const T* xr = xp + off[0];
    const I* ir = ip + off[1];
    T* orow = op + off[2];
    if (ii == 0) {
      // One index for the whole row (index_select and embedding away from the last dim).
      const T* src = xr + static_cast<int64_t>(ir[0]) * xd;
      if (xi == 1 && oi == 1) {
        std::memcpy(orow, src, inner * sizeof(T));
      } else {
        for (int64_t j = 0; j < inner; ++j) orow[j * oi] = src[j * xi];
      }
    } else {
      for (int64_t j = 0; j < inner; ++j) orow[j * oi] = xr[j * xi + static_cast<int64_t>(ir[j * ii]) * xd];
    }
  });
}

template <class T>
void GatherIndexed(const View& x, int dim, const View& index, const View& out) {
  if (index.dtype == DType::I32) GatherTyped<T, int32_t>(x, dim, index, out);
  else GatherTyped<T, int64_t>(x, dim, index, out);
}

// gather(x, dim, index, out): null, or the first index outside [0, x.shape[dim]) (nothing written).
Napi::Value Gather(const Napi::CallbackInfo& info) {
  View x = ReadView(info[0], "gather", "x");
  const int dim = ReadDim(info[1], x.ndim());
  View index = ReadView(info[2], "gather", "index");
  View out = ReadView(info[3], "gather", "out");
  CheckIndexDType(index);
  if (x.ndim() == 0 || x.ndim() > kMaxDims) Fail("x must have rank 1.." + std::to_string(kMaxDims));
  if (out.dtype != x.dtype) Fail(std::string("out has dtype ") + DTypeName(out.dtype) + ", expected " + DTypeName(x.dtype));
  if (index.shape != out.shape || out.ndim() != x.ndim())
    Fail("index " + DimsKey(index.shape) + " and out " + DimsKey(out.shape) + " must have one shape of x's rank");
  for (int d = 0; d < x.ndim(); ++d) {
    if (d != dim && index.shape[d] > x.shape[d])
      Fail("index size " + std::to_string(index.shape[d]) + " exceeds x size " + std::to_string(x.shape[d]) + " in dim " + std::to_string(d));
  }
  if (out.numel() == 0) return info.Env().Null();
  if (auto bad = CheckIndex(index, x.shape[dim])) return BadIndexResult(info.Env(), bad);
  switch (ElemSize(x.dtype)) {
    case 1: GatherIndexed<uint8_t>(x, dim, index, out); break;
    case 2: GatherIndexed<uint16_t>(x, dim, index, out); break;
    case 4: GatherIndexed<uint32_t>(x, dim, index, out); break;
    case 8: GatherIndexed<uint64_t>(x, dim, index, out); break;
  }
  return info.Env().Null();
}

// ---- scatter-add -------------------------------------------------------------

// Accumulator type A (float for bf16), source storage S.
template <class A, class S> struct AddFrom {
  static void apply(A& a, S s) { a = static_cast<A>(a + s); }
};
template <> struct AddFrom<float, uint16_t> {
  static void apply(float& a, uint16_t s) { a += Bf16ToF32(s); }
};
template <class A, class S, bool kOr>
inline void Accumulate(A& a, S s) {
  if constexpr (kOr) a = static_cast<A>((a != 0) || (s != 0));
  else AddFrom<A, S>::apply(a, s);
}

// acc[p with p[dim] replaced by index[p]] += src[p] over index's (= src's) shape. Work units
// are the non-dim positions (with the last dim cut into chunks when it is not `dim`); each
// unit walks the indexed dim in order, so every output element has one owner and a fixed order.
template <class A, class S, class I, bool kOr>
void ScatterAddTyped(A* acc, const Dims& accStrides, int dim, const View& index, const View& src) {
  const int nd = index.ndim();
  const int64_t k = index.shape[dim];
  const int64_t ad = accStrides[dim], id = index.strides[dim], sd = src.strides[dim];
  const I* ip = index.ptr<I>();
  const S* sp = src.ptr<S>();
  if (dim == nd - 1) {
    std::array<Dims, 3> rowStrides{WithoutLast(accStrides), WithoutLast(index.strides), WithoutLast(src.strides)};
    ForEachIndex<3>(WithoutLast(index.shape), rowStrides, k, [&](const std::array<int64_t, 3>& off, const int64_t*) {
      A* a = acc + off[0];
      for (int64_t j = 0; j < k; ++j) Accumulate<A, S, kOr>(a[static_cast<int64_t>(ip[off[1] + j * id]) * ad], sp[off[2] + j * sd]);
    });
    return;
  }
  // Rows are the dims other than `dim` and the last; the last dim is split into chunks so that
  // there are enough units to share, each chunk at least a cache line long.
  const int64_t len = index.shape[nd - 1];
  int64_t rows = 1;
  Dims rowShape, aRow, iRow, sRow;
  for (int d = 0; d < nd - 1; ++d) {
    if (d == dim) continue;
    rows *= index.shape[d];
    rowShape.push_back(index.shape[d]);
    aRow.push_back(accStrides[d]);
    iRow.push_back(index.strides[d]);
    sRow.push_back(src.strides[d]);
  }
  const int64_t want = 4 * static_cast<int64_t>(omp_get_max_threads());
  int64_t chunk = rows >= want ? len : std::max<int64_t>(16, (len * rows + want - 1) / want);
  chunk = std::min(len, chunk);
  const int64_t chunks = (len + chunk - 1) / chunk;
  const int64_t al = accStrides[nd - 1], il = index.strides[nd - 1], sl = src.strides[nd - 1];
  rowShape.push_back(chunks);
  aRow.push_back(al * chunk);
  iRow.push_back(il * chunk);
  sRow.push_back(sl * chunk);
  std::array<Dims, 3> rowStrides{aRow, iRow, sRow};
  const int last = static_cast<int>(rowShape.size()) - 1;
  ForEachIndex<3>(rowShape, rowStrides, k * chunk, [&](const std::array<int64_t, 3>& off, const int64_t* idx) {
    const int64_t n = std::min(chunk, len - idx[last] * chunk);
    for (int64_t j = 0; j < k; ++j) {
      const I* ir = ip + off[1] + j * id;
      const S* sr = sp + off[2] + j * sd;
      if (il == 0) {
        // One index for the chunk (index_add): a plain strided row update.
        A* a = acc + off[0] + static_cast<int64_t>(ir[0]) * ad;
        if (al == 1 && sl == 1) {
          for (int64_t c = 0; c < n; ++c) Accumulate<A, S, kOr>(a[c], sr[c]);
        } else {
          for (int64_t c = 0; c < n; ++c) Accumulate<A, S, kOr>(a[c * al], sr[c * sl]);
        }
      } else {
        A* a = acc + off[0];
        for (int64_t c = 0; c < n; ++c) Accumulate<A, S, kOr>(a[c * al + static_cast<int64_t>(ir[c * il]) * ad], sr[c * sl]);
      }
    }
  });
}

template <class A, class S, bool kOr>
void ScatterAddIndexed(A* acc, const Dims& accStrides, int dim, const View& index, const View& src) {
  if (index.dtype == DType::I32) ScatterAddTyped<A, S, int32_t, kOr>(acc, accStrides, dim, index, src);
  else ScatterAddTyped<A, S, int64_t, kOr>(acc, accStrides, dim, index, src);
}

// bf16 accumulates in a float copy of out, rounded once at the end.
void ScatterAddBf16(const View& out, int dim, const View& index, const View& src) {
  const int64_t n = out.numel();
  std::vector<float> acc(n);
  const uint16_t* o = out.ptr<uint16_t>();
#pragma omp parallel for schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; ++i) acc[i] = Bf16ToF32(o[i]);
  ScatterAddIndexed<float, uint16_t, false>(acc.data(), out.strides, dim, index, src);
  uint16_t* w = out.ptr<uint16_t>();
#pragma omp parallel for schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; ++i) w[i] = F32ToBf16(acc[i]);
}

// scatterAdd(out, dim, index, src): out (contiguous) gains src at index along dim, in place;
// null, or the first index outside [0, out.shape[dim]) (then out is untouched).
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  View out = ReadView(info[0], "scatterAdd", "out");
  const int dim = ReadDim(info[1], out.ndim());
  View index = ReadView(info[2], "scatterAdd", "index");
  View src = ReadView(info[3], "scatterAdd", "src");
  CheckIndexDType(index);
  if (out.ndim() == 0 || out.ndim() > kMaxDims) Fail("out must have rank 1.." + std::to_string(kMaxDims));
  if (!out.contiguous()) Fail("out must be contiguous");
  if (src.dtype != out.dtype) Fail(std::string("src has dtype ") + DTypeName(src.dtype) + ", expected " + DTypeName(out.dtype));
  if (index.shape != src.shape || index.ndim() != out.ndim())
    Fail("index " + DimsKey(index.shape) + " and src " + DimsKey(src.shape) + " must have one shape of out's rank");
  for (int d = 0; d < out.ndim(); ++d) {
    if (d != dim && index.shape[d] > out.shape[d])
      Fail("index size " + std::to_string(index.shape[d]) + " exceeds out size " + std::to_string(out.shape[d]) + " in dim " + std::to_string(d));
  }
  if (index.numel() == 0) return info.Env().Null();
  if (auto bad = CheckIndex(index, out.shape[dim])) return BadIndexResult(info.Env(), bad);
  switch (out.dtype) {
    case DType::F32: ScatterAddIndexed<float, float, false>(out.ptr<float>(), out.strides, dim, index, src); break;
    case DType::BF16: ScatterAddBf16(out, dim, index, src); break;
    case DType::I32: ScatterAddIndexed<int32_t, int32_t, false>(out.ptr<int32_t>(), out.strides, dim, index, src); break;
    case DType::I64: ScatterAddIndexed<int64_t, int64_t, false>(out.ptr<int64_t>(), out.strides, dim, index, src); break;
    case DType::U8: ScatterAddIndexed<uint8_t, uint8_t, false>(out.ptr<uint8_t>(), out.strides, dim, index, src); break;
    case DType::Bool: ScatterAddIndexed<uint8_t, uint8_t, true>(out.ptr<uint8_t>(), out.strides, dim, index, src); break;
  }
  return info.Env().Null();
}

// ---- masked fill ---------------------------------------------------------------

template <class T>
void MaskedFillTyped(const View& x, const View& mask, T value, const View& out) {
  // Merge dims that are contiguous with each other in all three views.
  Dims shape, sx, sm, so;
  for (int d = 0; d < out.ndim(); ++d) {
    if (out.shape[d] == 1) continue;
    if (!shape.empty() && sx.back() == x.strides[d] * out.shape[d] && sm.back() == mask.strides[d] * out.shape[d] &&
        so.back() == out.strides[d] * out.shape[d]) {
      shape.back() *= out.shape[d];
      sx.back() = x.strides[d]; sm.back() = mask.strides[d]; so.back() = out.strides[d];
    } else {
      shape.push_back(out.shape[d]);
      sx.push_back(x.strides[d]); sm.push_back(mask.strides[d]); so.push_back(out.strides[d]);
    }
  }
  if (shape.empty()) { shape = {1}; sx = {1}; sm = {1}; so = {1}; }
  const int64_t inner = shape.back(), xi = sx.back(), mi = sm.back(), oi = so.back();
  const T* xp = x.ptr<T>();
  const uint8_t* mp = mask.ptr<uint8_t>();
  T* op = out.ptr<T>();
  std::array<Dims, 3> rowStrides{WithoutLast(sx), WithoutLast(sm), WithoutLast(so)};
  ForEachIndex<3>(WithoutLast(shape), rowStrides, inner, [&](const std::array<int64_t, 3>& off, const int64_t*) {
    const T* xr = xp + off[0];
    const uint8_t* mr = mp + off[1];
    T* orow = op + off[2];
    if (xi == 1 && mi == 1 && oi == 1) {
      for (int64_t j = 0; j < inner; ++j) orow[j] = mr[j] ? value : xr[j];
    } else {
      for (int64_t j = 0; j < inner; ++j) orow[j * oi] = mr[j * mi] ? value : xr[j * xi];
    }
  });
}

template <class T>
void MaskedFillBits(const View& x, const View& mask, double value, const View& out) {
  alignas(8) uint8_t buf[8];
  StoreFromDouble(buf, x.dtype, 0, value);
  T bits;
  std::memcpy(&bits, buf, sizeof(T));
  MaskedFillTyped<T>(x, mask, bits, out);
}

// maskedFill(x, mask, value, out): out = mask ? value : x over out's shape; x and mask may
// broadcast through zero strides.
Napi::Value MaskedFill(const Napi::CallbackInfo& info) {
  View x = ReadView(info[0], "maskedFill", "x");
  View mask = ReadView(info[1], "maskedFill", "mask");
  const double value = info[2].As<Napi::Number>().DoubleValue();
  View out = ReadView(info[3], "maskedFill", "out");
  if (mask.dtype != DType::Bool) Fail(std::string("mask has dtype ") + DTypeName(mask.dtype) + ", expected bool");
  if (out.dtype != x.dtype) Fail(std::string("out has dtype ") + DTypeName(out.dtype) + ", expected " + DTypeName(x.dtype));
  if (x.shape != out.shape || mask.shape != out.shape) Fail("x and mask must be expanded to out's shape " + DimsKey(out.shape));
  if (out.ndim() > kMaxDims) Fail("too many dimensions");
  if (out.numel() == 0) return info.Env().Undefined();
  switch (ElemSize(x.dtype)) {
    case 1: MaskedFillBits<uint8_t>(x, mask, value, out); break;
    case 2: MaskedFillBits<uint16_t>(x, mask, value, out); break;
    case 4: MaskedFillBits<uint32_t>(x, mask, value, out); break;
    case 8: MaskedFillBits<uint64_t>(x, mask, value, out); break;
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterIndex(Napi::Env env, Napi::Object exports) {
  Export(env, exports, "gather", Gather);
  Export(env, exports, "scatterAdd", ScatterAdd);
  Export(env, exports, "maskedFill", MaskedFill);
}

}  // namespace tsv
