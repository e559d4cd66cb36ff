// What every kernel family file includes: tensor views and argument readers (view.h), how a
// kernel runs and is exported (runtime.h), the bf16 fallback (bf16.h), packed weights and
// scratch memory (packed.h), and the list of families (addon.h).
#pragma once

#include "addon.h"
#include "bf16.h"
#include "packed.h"
#include "runtime.h"
#include "view.h"
