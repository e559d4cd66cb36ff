#include "common.h"

namespace tsv {

void RegisterIndex(Napi::Env env, Napi::Object exports) {}

}  // namespace tsv
