// The addon's per-environment state and its kernel families, one registration call each.
#pragma once

#include <napi.h>

namespace tsv {

// Kept as napi instance data, one per Node environment (worker threads each load the addon).
struct AddonData {
  // NativeError, the class kernel errors are created from (setErrorClass).
  Napi::FunctionReference errorClass;
};

AddonData& Instance(Napi::Env env);

void RegisterRuntime(Napi::Env env, Napi::Object exports);
void RegisterProcess(Napi::Env env, Napi::Object exports);
void RegisterBf16(Napi::Env env, Napi::Object exports);
void RegisterCopy(Napi::Env env, Napi::Object exports);
void RegisterMatmul(Napi::Env env, Napi::Object exports);
void RegisterEltwise(Napi::Env env, Napi::Object exports);
void RegisterBinary(Napi::Env env, Napi::Object exports);
void RegisterReduce(Napi::Env env, Napi::Object exports);
void RegisterConv(Napi::Env env, Napi::Object exports);
void RegisterPool(Napi::Env env, Napi::Object exports);
void RegisterNorm(Napi::Env env, Napi::Object exports);
void RegisterIndex(Napi::Env env, Napi::Object exports);
void RegisterResample(Napi::Env env, Napi::Object exports);
void RegisterRandom(Napi::Env env, Napi::Object exports);
void RegisterImage(Napi::Env env, Napi::Object exports);
void RegisterOptim(Napi::Env env, Napi::Object exports);
void RegisterWinograd(Napi::Env env, Napi::Object exports);

}  // namespace tsv
