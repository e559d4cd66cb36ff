// How kernels run: the engine and stream, the primitive cache, signal deferral, errors, export.
#include "runtime.h"

#include <pthread.h>
#include <signal.h>

#include <mutex>

#include "addon.h"

namespace tsv {

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& Stream() {
  static thread_local dnnl::stream stream(Engine());
  return stream;
}

bool CpuIsaAtLeast(dnnl::cpu_isa isa) {
  // oneDNN's ISA values are bit sets, each including the ones it extends.
  static const unsigned effective = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const unsigned wanted = static_cast<unsigned>(isa);
  return (effective & wanted) == wanted;
}

bool Avx2IsWidest() {
  return CpuIsaAtLeast(dnnl::cpu_isa::avx2) && !CpuIsaAtLeast(dnnl::cpu_isa::avx512_core) && !CpuIsaAtLeast(dnnl::cpu_isa::avx512_mic);
}

bool IsBlockedLayout(const dnnl::memory::desc& d) {
  return d.data.format_kind == dnnl_blocked && d.data.format_desc.blocking.inner_nblks > 0;
}

namespace {
std::mutex cacheMutex;
std::unordered_map<std::string, std::shared_ptr<void>> cache;
constexpr size_t kCacheCapacity = 8192;
}  // namespace

void* CacheLookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  auto it = cache.find(key);
  return it == cache.end() ? nullptr : it->second.get();
}

void* CacheInsert(const std::string& key, std::shared_ptr<void> value) {
  std::lock_guard<std::mutex> lock(cacheMutex);
  // Shapes in a training or serving loop repeat; a full cache means shapes churn, so start over.
  if (cache.size() >= kCacheCapacity) cache.clear();
  auto [it, inserted] = cache.emplace(key, std::move(value));
  return it->second.get();
}

void Run(const dnnl::primitive& p, const std::unordered_map<int, dnnl::memory>& args) {
  p.execute(Stream(), args);
  Stream().wait();
}

namespace {
// oneDNN 2.6's f32 matmul kernel (gemm:jit) corrupts the heap when a signal handler runs on one of
// its threads mid-call: V8's sampling profiler (`node --cpu-prof`) signals the JS thread every
// millisecond, and a loop of 256×768×768 matmuls under it aborted with "corrupted size vs.
// prev_size" (a C++ loop with a SIGPROF timer does the same). So kernels run with asynchronous
// signals blocked on the calling thread, which receives them when the kernel returns; OpenMP's worker
// threads, created inside the first kernel, inherit the blocked mask and never take a
// process-directed signal. Faults (SIGSEGV and the like) stay unblocked.
class SignalsDeferred {
 public:
  SignalsDeferred() {
    static const sigset_t deferred = []() {
      sigset_t set;
      sigfillset(&set);
      for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&set, fault);
      return set;
    }();
    pthread_sigmask(SIG_BLOCK, &deferred, &previous_);
  }
  ~SignalsDeferred() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;

 private:
  sigset_t previous_;
};

Napi::Error MakeError(Napi::Env env, const std::string& message) {
  AddonData& data = Instance(env);
  if (!data.errorClass.IsEmpty()) {
    Napi::Object err = data.errorClass.New({Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  return Napi::Error::New(env, message);
}

Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Instance(info.Env()).errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

Napi::Value Invoke(Kernel fn, const std::string& label, const Napi::CallbackInfo& info) {
  const SignalsDeferred deferred;
  try {
    return fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const dnnl::error& e) {
    throw MakeError(info.Env(), "[" + label + "] oneDNN: " + e.what() + " (status " + std::to_string(e.status) + ")");
  } catch (const std::exception& e) {
    throw MakeError(info.Env(), "[" + label + "] " + e.what());
  }
}

void Export(Napi::Env env, Napi::Object exports, const char* name, Kernel fn) {
  std::string label(name);
  exports.Set(name, Napi::Function::New(env, [fn, label](const Napi::CallbackInfo& info) { return Invoke(fn, label, info); }, name));
}

void RegisterRuntime(Napi::Env env, Napi::Object exports) { Export(env, exports, "setErrorClass", SetErrorClass); }

}  // namespace tsv
