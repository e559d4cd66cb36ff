// Addon entry point: one registration call per kernel family.
#include "common.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tsv::RegisterCore(env, exports);
  tsv::RegisterMatmul(env, exports);
  tsv::RegisterEltwise(env, exports);
  tsv::RegisterBinary(env, exports);
  tsv::RegisterReduce(env, exports);
  tsv::RegisterConv(env, exports);
  tsv::RegisterPool(env, exports);
  tsv::RegisterNorm(env, exports);
  tsv::RegisterIndex(env, exports);
  tsv::RegisterResample(env, exports);
  tsv::RegisterRandom(env, exports);
  tsv::RegisterImage(env, exports);
  tsv::RegisterOptim(env, exports);
  tsv::RegisterWinograd(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tsvision, Init)
