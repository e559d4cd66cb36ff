// Addon entry point: the per-environment state, then one registration call per kernel family.
#include "addon.h"

namespace tsv {

AddonData& Instance(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace tsv

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData<tsv::AddonData>(new tsv::AddonData());
  tsv::RegisterRuntime(env, exports);
  tsv::RegisterProcess(env, exports);
  tsv::RegisterBf16(env, exports);
  tsv::RegisterCopy(env, exports);
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
