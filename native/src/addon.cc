// Addon entry point: the per-environment state, then one registration call per kernel family.
#include "addon.h"

namespace tsv {

AddonData& Instance(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace tsv

namespace {

void InitInstance(Napi::Env env) {
  auto* data = new tsv::AddonData();
  Napi::Array keys = Napi::Array::New(env, 2);
  const char* names[] = {"buffer", "meta"};
  for (uint32_t i = 0; i < 2; ++i) keys.Set(i, Napi::String::New(env, names[i]));
  data->tensorKeys = Napi::Persistent(keys);
  env.SetInstanceData<tsv::AddonData>(data);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitInstance(env);
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
