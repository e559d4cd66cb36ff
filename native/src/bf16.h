// bf16 on CPUs whose oneDNN has no bf16 kernels: such calls are computed in f32 and rounded back.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime.h"

namespace tsv {

// Whether this CPU's oneDNN has bf16 kernels: oneDNN 2.x needs AVX-512 for them; before it,
// every bf16 primitive is unimplemented.
bool OneDnnHasBf16();

// to[i] = from[i] widened from bf16, for i < n (threaded when n is large).
void WidenBf16(const uint16_t* from, float* to, int64_t n);

// How a kernel's tensors meet the bf16 fallback of ExportOneDnn, by field of its options object.
struct Bf16Fallback {
  // The field whose dtype is the call's (the input data): a call whose data is not bf16 runs
  // directly, before any other field is read.
  std::string dataField;
  // Fields that take f32 tensors beside bf16 data (per-channel scales, statistics): they stay f32.
  std::vector<std::string> f32Fields;
  // A weight field and its packing-holder field: a bf16 weight that comes with a holder reaches the
  // kernel as it is (no per-call copy of the largest operand), and the kernel packs it into its f32
  // layout once (see PackedWeights).
  std::string packedWeight, packedHolder;
};

// Export for a kernel built on oneDNN primitives. Where oneDNN has no bf16 kernels, the kernel
// sees f32 copies of its bf16 tensors, positional or fields of an options object (one copy per
// storage, so in-place and aliased calls keep their meaning), and every copy is rounded back to
// bf16 afterwards: bf16 data is computed in f32, as PyTorch does on such CPUs. Any f32 tensor
// beside a bf16 one, other than `fallback`'s f32 fields, makes a mixed call, which reaches the
// kernel unchanged (its own dtype checks answer it). Elsewhere it is Export.
void ExportOneDnn(Napi::Env env, Napi::Object exports, const char* name, Kernel fn, Bf16Fallback fallback = {});

}  // namespace tsv
