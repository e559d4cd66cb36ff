// Packed weights kept in caller-held JS buffers, and per-thread scratch buffers.
#include "packed.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "bf16.h"
#include "runtime.h"

namespace tsv {

namespace {

// The packed layout's desc, padded to a cache line; the payload follows, 64-byte aligned.
constexpr size_t kPackHeader = (sizeof(dnnl_memory_desc_t) + 63) / 64 * 64;

uint8_t* AlignedPayload(void* base) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(base) + kPackHeader;
  return reinterpret_cast<uint8_t*>((p + 63) / 64 * 64);
}
}  // namespace

void* ScratchBuffer(int slot, size_t bytes) {
  struct Buf { void* ptr = nullptr; size_t bytes = 0; ~Buf() { std::free(ptr); } };
  static thread_local Buf bufs[kScratchSlots];
  Buf& b = bufs[slot];
  if (b.bytes < bytes) {
    std::free(b.ptr);
    b.bytes = 0;
    b.ptr = std::aligned_alloc(64, ((bytes + 63) / 64) * 64);
    if (b.ptr == nullptr) Fail("out of memory allocating " + std::to_string(bytes) + " bytes of kernel scratch");
    b.bytes = bytes;
  }
  return b.ptr;
}

void* PackedBuffer(Napi::Object holder, const dnnl::memory::desc& layout, const std::function<void(void*)>& fill) {
  Napi::Value cached = holder.Get("buffer");
  if (cached.IsArrayBuffer()) {
    Napi::ArrayBuffer ab = cached.As<Napi::ArrayBuffer>();
    if (!ab.IsDetached() && ab.ByteLength() >= kPackHeader + 64 + layout.get_size()) {
      dnnl::memory::desc stored;
      std::memcpy(&stored.data, ab.Data(), sizeof(stored.data));
      if (stored == layout) return AlignedPayload(ab.Data());
    }
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(holder.Env(), kPackHeader + 64 + layout.get_size());
  std::memcpy(ab.Data(), &layout.data, sizeof(layout.data));
  uint8_t* payload = AlignedPayload(ab.Data());
  fill(payload);
  holder.Set("buffer", ab);
  return payload;
}

void* PackedWeights(Napi::Object holder, const dnnl::memory::desc& user, const dnnl::memory::desc& packed, const dnnl::reorder& toPacked,
                    const View& weight) {
  return PackedBuffer(holder, packed, [&](void* payload) {
    void* userData = weight.data();
    std::vector<float> widened;
    if (weight.dtype == DType::BF16 && user.data_type() == dnnl::memory::data_type::f32) {
      int64_t span = 1;  // elements from the first to the last the view reaches
      for (int i = 0; i < weight.ndim(); ++i) span += (weight.shape[i] - 1) * weight.strides[i];
      widened.resize(static_cast<size_t>(span));
      WidenBf16(weight.ptr<uint16_t>(), widened.data(), span);
      userData = widened.data();
    }
    dnnl::stream& s = Stream();
    dnnl::memory from(user, Engine(), userData), to(packed, Engine(), payload);
    toPacked.execute(s, from, to);
    s.wait();
  });
}

}  // namespace tsv
