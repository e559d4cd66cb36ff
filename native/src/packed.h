// Memory a kernel keeps beyond one call: weights packed into a primitive's layout, held by the
// caller, and per-thread scratch buffers.
#pragma once

#include <napi.h>

#include <functional>

#include <dnnl.hpp>

#include "view.h"

namespace tsv {

// A weight reordered to a primitive's layout, kept across calls in a JS holder { buffer?: ArrayBuffer }
// that the caller drops when the weight changes. The buffer starts with the layout's desc, so a
// primitive that wants another layout (a new input shape) repacks instead of misreading. Returns the
// packed data; `toPacked` reorders `user` (`weight`'s data) to `packed`. A bf16 weight under an f32
// `user` desc (bf16 on a CPU without bf16 kernels, see ExportOneDnn) is widened first: oneDNN's own
// bf16-to-f32 reorder into a blocked layout is scalar code (80 ms for one of ViT-B's 2304×768 weights).
void* PackedWeights(Napi::Object holder, const dnnl::memory::desc& user, const dnnl::memory::desc& packed, const dnnl::reorder& toPacked,
                    const View& weight);

// The same weight's layout may also be something other than a oneDNN reorder's: PackedBuffer
// keys the cache by `layout` and fills a new payload with `fill`.
void* PackedBuffer(Napi::Object holder, const dnnl::memory::desc& layout, const std::function<void(void*)>& fill);

// Grow-only 64-byte-aligned buffers, one per slot and thread, for reordered operands, scratchpads
// and transformed tiles. Kernel calls are synchronous, so a thread never needs a slot twice at once.
constexpr int kScratchSlots = 8;
void* ScratchBuffer(int slot, size_t bytes);

}  // namespace tsv
