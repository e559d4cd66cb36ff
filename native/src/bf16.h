// bf16 on CPUs whose oneDNN has no bf16 kernels: such calls are computed in f32 and rounded back.
#pragma once

#include <napi.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "runtime.h"

namespace tsv {

// Whether this CPU's oneDNN has bf16 kernels: oneDNN 2.x needs AVX-512 for them; before it,
// every bf16 primitive is unimplemented.
bool OneDnnHasBf16();

// to[i] = from[i] widened from bf16, for i < n (threaded when n is large).
void WidenBf16(const uint16_t* from, float* to, int64_t n);

// Export for a kernel built on oneDNN primitives. Where oneDNN has no bf16 kernels, the kernel
// sees f32 copies of its bf16 tensor arguments (one copy per storage, so in-place and aliased
// calls keep their meaning) and every copy is rounded back to bf16 afterwards: bf16 data is
// computed in f32, as PyTorch does on such CPUs. `f32Args` are the argument positions that take
// f32 tensors beside bf16 data (per-channel scales); any other f32 tensor beside a bf16 one makes a
// mixed call, which reaches the kernel unchanged. `packedWeight`, when given, is the position of
// a weight and of its packing holder: a bf16 weight with a holder reaches the kernel as it is (no
// per-call copy of the largest operand), and the kernel packs it into its f32 layout once.
// Elsewhere it is Export.
struct PackedWeightArg {
  size_t weight, holder;
};
void ExportOneDnn(Napi::Env env, Napi::Object exports, const char* name, Kernel fn, std::vector<size_t> f32Args = {},
                  std::optional<PackedWeightArg> packedWeight = std::nullopt);

}  // namespace tsv
