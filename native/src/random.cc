// Counter-based random numbers (Philox4x32-10): element i of a fill draws from counter
// (offset + i) under the generator's 64-bit seed, so results do not depend on the thread
// count and a generator's state is just (seed, offset).
#include <cmath>

#include "common.h"

namespace tsv {

namespace {

struct Words { uint32_t w[4]; };

inline Words Philox(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1);
    c3 = static_cast<uint32_t>(p0);
    c0 = n0;
    c2 = n2;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Words{{c0, c1, c2, c3}};
}

// Uniform in (0, 1]: never 0, so log() in Box-Muller is finite.
inline double Unit(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ lo;
  return (static_cast<double>(bits & ((1ull << 53) - 1)) + 1.0) / 9007199254740992.0;
}

// Codes shared with src/tensor/random.ts (RANDOM_KIND).
enum Kind : int { Uniform, Normal, Bernoulli, Integer };

// randomFill({ dst, kind, a, b, seedHi, seedLo, offset })
//   uniform: [a, b); normal: mean a, std b; bernoulli: 1 with probability a; integer: [a, b).
Napi::Value RandomFill(const Napi::CallbackInfo& info) {
  const Options o(info, "randomFill");
  View dst = o.Tensor("dst");
  const int kind = static_cast<int>(o.Number("kind"));
  const double a = o.Number("a");
  const double b = o.Number("b");
  const uint64_t seed = (static_cast<uint64_t>(static_cast<int64_t>(o.Number("seedHi"))) << 32) |
                        static_cast<uint32_t>(static_cast<int64_t>(o.Number("seedLo")));
  const uint64_t offset = static_cast<uint64_t>(static_cast<int64_t>(o.Number("offset")));
  if (!dst.contiguous()) Fail("dst must be contiguous");
  if (kind < Uniform || kind > Integer) Fail("unknown random kind " + std::to_string(kind));
  const int64_t n = dst.numel();
  void* base = dst.data();
  const DType dt = dst.dtype;
#pragma omp parallel for schedule(static) if (n > (1 << 14))
  for (int64_t i = 0; i < n; ++i) {
    const Words r = Philox(offset + static_cast<uint64_t>(i), seed);
    double v;
    switch (kind) {
      case Uniform: v = a + (b - a) * (1.0 - Unit(r.w[0], r.w[1])); break;
      case Normal: {
        const double u1 = Unit(r.w[0], r.w[1]), u2 = Unit(r.w[2], r.w[3]);
        v = a + b * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        break;
      }
      case Bernoulli: v = (1.0 - Unit(r.w[0], r.w[1])) < a ? 1.0 : 0.0; break;
      default: {
        const double span = b - a;
        const uint64_t bits = (static_cast<uint64_t>(r.w[0]) << 32) | r.w[1];
        v = a + static_cast<double>(bits % static_cast<uint64_t>(span));
      }
    }
    StoreFromDouble(base, dt, i, v);
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterRandom(Napi::Env env, Napi::Object exports) { Export(env, exports, "randomFill", RandomFill); }

}  // namespace tsv
