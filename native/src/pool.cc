#include "common.h"

namespace tsv {

void RegisterPool(Napi::Env env, Napi::Object exports) {}

}  // namespace tsv
