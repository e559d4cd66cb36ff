#include "common.h"

namespace tsv {

void RegisterEltwise(Napi::Env env, Napi::Object exports) {}

}  // namespace tsv
