// Elementwise iteration over several strided views of one shape, shared by the copy,
// binary and select kernels.
#pragma once

#include <algorithm>
#include <array>
#include <cstdlib>
#include <vector>

#include "common.h"

namespace tsv {

// Views' dims after dropping size-1 dims, ordering the rest by the last view's (the output's)
// strides, outermost first, and merging dims that are contiguous with each other in every
// view, so the innermost loop runs as long as possible and writes the output in memory order
// (a channels-last copy is one memcpy, not a walk with stride C).
template <size_t K>
struct StridedLayout {
  Dims shape;
  std::array<Dims, K> strides;
  int64_t inner() const { return shape.back(); }
  int64_t innerStride(size_t k) const { return strides[k].back(); }
};

template <size_t K>
StridedLayout<K> CollapseDims(const Dims& shape, const std::array<const Dims*, K>& strides) {
  StridedLayout<K> out;
  std::vector<size_t> order;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] != 1) order.push_back(i);
  const Dims& outStrides = *strides[K - 1];
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::abs(outStrides[a]) > std::abs(outStrides[b]); });
  for (size_t i : order) {
    const int64_t n = shape[i];
    bool merge = !out.shape.empty();
    for (size_t k = 0; k < K && merge; ++k) merge = out.strides[k].back() == (*strides[k])[i] * n;
    if (merge) {
      out.shape.back() *= n;
      for (size_t k = 0; k < K; ++k) out.strides[k].back() = (*strides[k])[i];
    } else {
      out.shape.push_back(n);
      for (size_t k = 0; k < K; ++k) out.strides[k].push_back((*strides[k])[i]);
    }
  }
  if (out.shape.empty()) {
    out.shape.push_back(1);
    for (size_t k = 0; k < K; ++k) out.strides[k].push_back(1);
  }
  if (out.shape.size() > 16) Fail("too many dimensions");
  return out;
}

// Calls body(offsets, begin, end) for every (row, chunk of the row) in parallel: rows are all
// dims but the last, and long rows are cut into chunks so that one long contiguous row still
// uses every thread. offsets[k] is view k's element offset of the row's first element; the
// chunk covers inner indices [begin, end). body must not throw.
template <size_t K, class F>
void ForEachChunk(const StridedLayout<K>& layout, const F& body) {
  constexpr int64_t kChunk = 1 << 14;
  const int nd = static_cast<int>(layout.shape.size());
  const int64_t inner = layout.inner();
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= layout.shape[d];
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (rows * inner > (1 << 15))
  for (int64_t job = 0; job < rows * chunks; ++job) {
    const int64_t r = job / chunks;
    const int64_t begin = (job % chunks) * kChunk;
    std::array<int64_t, K> offsets{};
    int64_t rem = r;
    for (int d = nd - 2; d >= 0; --d) {
      const int64_t i = rem % layout.shape[d];
      rem /= layout.shape[d];
      for (size_t k = 0; k < K; ++k) offsets[k] += i * layout.strides[k][d];
    }
    body(offsets, begin, std::min(inner, begin + kChunk));
  }
}

}  // namespace tsv
