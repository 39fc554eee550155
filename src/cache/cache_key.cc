#include "cache/cache_key.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace inferd::cache {
namespace {

inline uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t Mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

// Request parameters that schedule a request but never change its answer.
bool IgnoredParameter(std::string_view key) { return key == "priority" || key == "timeout"; }

// Length-prefixed fields, so that no two different field sequences serialize alike.
void AppendU64(std::string& out, uint64_t v) {
  char buf[8];
  std::memcpy(buf, &v, 8);
  out.append(buf, 8);
}
void AppendString(std::string& out, std::string_view s) {
  AppendU64(out, s.size());
  out.append(s);
}
void AppendParameters(std::string& out, const Parameters& params) {
  uint64_t n = 0;
  for (const auto& [k, v] : params) n += IgnoredParameter(k) ? 0 : 1;
  AppendU64(out, n);
  for (const auto& [k, v] : params) {  // a std::map: already in key order
    if (IgnoredParameter(k)) continue;
    AppendString(out, k);
    out.push_back(static_cast<char>(v.index()));
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            AppendString(out, x);
          } else if constexpr (std::is_same_v<T, bool>) {
            out.push_back(x ? 1 : 0);
          } else {
            uint64_t bits = 0;
            std::memcpy(&bits, &x, sizeof(x));
            AppendU64(out, bits);
          }
        },
        v);
  }
}

}  // namespace

Digest128 Hash128(std::span<const std::byte> bytes, uint64_t seed) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t len = bytes.size();
  const size_t nblocks = len / 16;
  uint64_t h1 = seed, h2 = seed;
  constexpr uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
  for (size_t i = 0; i < nblocks; ++i) {
    uint64_t k1, k2;
    std::memcpy(&k1, data + i * 16, 8);
    std::memcpy(&k2, data + i * 16 + 8, 8);
    k1 *= c1; k1 = Rotl(k1, 31); k1 *= c2; h1 ^= k1;
    h1 = Rotl(h1, 27); h1 += h2; h1 = h1 * 5 + 0x52dce729;
    k2 *= c2; k2 = Rotl(k2, 33); k2 *= c1; h2 ^= k2;
    h2 = Rotl(h2, 31); h2 += h1; h2 = h2 * 5 + 0x38495ab5;
  }
  const uint8_t* tail = data + nblocks * 16;
  uint64_t k1 = 0, k2 = 0;
  const size_t rest = len & 15;
  for (size_t i = rest; i > 8; --i) k2 ^= static_cast<uint64_t>(tail[i - 1]) << ((i - 9) * 8);
  if (rest > 8) {
    k2 *= c2; k2 = Rotl(k2, 33); k2 *= c1; h2 ^= k2;
  }
  for (size_t i = std::min<size_t>(rest, 8); i > 0; --i) {
    k1 ^= static_cast<uint64_t>(tail[i - 1]) << ((i - 1) * 8);
  }
  if (rest > 0) {
    k1 *= c1; k1 = Rotl(k1, 31); k1 *= c2; h1 ^= k1;
  }
  h1 ^= len;
  h2 ^= len;
  h1 += h2;
  h2 += h1;
  h1 = Mix(h1);
  h2 = Mix(h2);
  h1 += h2;
  h2 += h1;
  return {h1, h2};
}

CacheKey ComputeCacheKey(const InferenceRequest& request, int64_t version) {
  CacheKey key;
  std::string& m = key.metadata;
  AppendString(m, request.model_name);
  AppendU64(m, static_cast<uint64_t>(version));

  std::vector<const Tensor*> inputs;
  inputs.reserve(request.inputs.size());
  for (const Tensor& t : request.inputs) inputs.push_back(&t);
  std::sort(inputs.begin(), inputs.end(),
            [](const Tensor* a, const Tensor* b) { return a->name() < b->name(); });
  std::vector<Digest128> digests;
  digests.reserve(inputs.size());
  AppendU64(m, inputs.size());
  for (const Tensor* t : inputs) {
    AppendString(m, t->name());
    m.push_back(static_cast<char>(t->dtype()));
    AppendU64(m, t->shape().size());
    for (int64_t d : t->shape()) AppendU64(m, static_cast<uint64_t>(d));
    AppendU64(m, t->byte_size());
    digests.push_back(Hash128(t->data(), /*seed=*/0x1f3d5b79));
  }

  std::vector<const RequestedOutput*> outputs;
  outputs.reserve(request.outputs.size());
  for (const auto& o : request.outputs) outputs.push_back(&o);
  std::sort(outputs.begin(), outputs.end(),
            [](const RequestedOutput* a, const RequestedOutput* b) { return a->name < b->name; });
  AppendU64(m, outputs.size());
  for (const RequestedOutput* o : outputs) {
    AppendString(m, o->name);
    AppendParameters(m, o->parameters);
    m.push_back(o->binary_data ? static_cast<char>(*o->binary_data) : '\x02');  // unset: 2
  }
  AppendParameters(m, request.parameters);

  // Digest over the metadata followed by the input digests.
  std::string all = m;
  for (const Digest128& d : digests) {
    AppendU64(all, d.hi);
    AppendU64(all, d.lo);
  }
  key.digest = Hash128(std::as_bytes(std::span<const char>(all.data(), all.size())));
  return key;
}

}  // namespace inferd::cache
