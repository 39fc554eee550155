#include "core/inference_request.h"

namespace inferd {
namespace {

template <typename T>
std::optional<T> Get(const Parameters& params, std::string_view key) {
  auto it = params.find(key);
  if (it == params.end()) return std::nullopt;
  if (const T* v = std::get_if<T>(&it->second)) return *v;
  return std::nullopt;
}

}  // namespace

std::optional<bool> GetBoolParameter(const Parameters& params, std::string_view key) {
  return Get<bool>(params, key);
}
std::optional<int64_t> GetIntParameter(const Parameters& params, std::string_view key) {
  return Get<int64_t>(params, key);
}
std::optional<std::string> GetStringParameter(const Parameters& params, std::string_view key) {
  return Get<std::string>(params, key);
}

}  // namespace inferd
