#include "common.h"

namespace tsv {

void RegisterResample(Napi::Env env, Napi::Object exports) {}

}  // namespace tsv
