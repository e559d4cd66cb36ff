// How kernels run: the oneDNN engine and stream, the primitive cache, execution, the CPU's
// instruction set as oneDNN sees it, and exporting a kernel to JS (errors, signal deferral).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include <dnnl.hpp>

namespace tsv {

dnnl::engine& Engine();
dnnl::stream& Stream();

// Facts that choose between kernels. Whether oneDNN dispatches kernels for `isa` (or a superset of
// it) on this CPU: the effective ISA, so ONEDNN_MAX_CPU_ISA=AVX2 makes an AVX-512 CPU answer as an
// AVX2 one does.
bool CpuIsaAtLeast(dnnl::cpu_isa isa);
// Whether oneDNN's widest kernels here are its AVX2 ones (AVX2 CPUs without AVX-512, such as Zen 3).
bool Avx2IsWidest();
// Whether a primitive chose a blocked layout (inner blocks, e.g. nChw8c) for an operand it was
// offered as `any`: oneDNN's jit and brgemm kernels do, its gemm-based and reference ones keep a
// plain layout.
bool IsBlockedLayout(const dnnl::memory::desc& d);

// Process-wide primitive cache keyed by a string that encodes shapes, strides,
// dtypes and attributes. Creation is the expensive part of a oneDNN call.
void* CacheLookup(const std::string& key);
void* CacheInsert(const std::string& key, std::shared_ptr<void> value);

template <class P>
P& CachedPrimitive(const std::string& key, const std::function<P()>& make) {
  if (void* found = CacheLookup(key)) return *static_cast<P*>(found);
  return *static_cast<P*>(CacheInsert(key, std::make_shared<P>(make())));
}

// Executes a primitive on the shared stream and waits.
void Run(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args);

using Kernel = Napi::Value (*)(const Napi::CallbackInfo&);
// Runs a kernel with asynchronous signals deferred, turning oneDNN and C++ errors into
// NativeError("[label] ...").
Napi::Value Invoke(Kernel fn, const std::string& label, const Napi::CallbackInfo& info);
// Adds `name` to exports, running through Invoke.
void Export(Napi::Env env, Napi::Object exports, const char* name, Kernel fn);

}  // namespace tsv
