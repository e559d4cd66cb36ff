#include "common.h"

namespace tsv {

void RegisterNorm(Napi::Env env, Napi::Object exports) {}

}  // namespace tsv
