#include "common.h"

namespace tsv {

void RegisterConv(Napi::Env env, Napi::Object exports) {}

}  // namespace tsv
