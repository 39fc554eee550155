#include "http/shared_memory_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace inferd::http {
namespace {

using json = nlohmann::json;

Result<uint64_t> UnsignedField(const json& doc, const char* key, bool required) {
  auto it = doc.find(key);
  if (it == doc.end()) {
    if (!required) return uint64_t{0};
    return InvalidArgument(fmt::format("shared memory register body needs '{}'", key));
  }
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return it->get<uint64_t>();
  return InvalidArgument(fmt::format("shared memory '{}' must be a non-negative integer", key));
}

Status Register(const handler::RequestHandler& handler, const std::string& region,
                std::string_view body) {
  auto doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument(
        "shared memory register body must be a JSON object {\"key\", \"offset\", \"byte_size\"}");
  }
  auto key = doc.find("key");
  if (key == doc.end() || !key->is_string()) {
    return InvalidArgument("shared memory 'key' must be a string");
  }
  ASSIGN_OR_RETURN(uint64_t offset, UnsignedField(doc, "offset", false));
  ASSIGN_OR_RETURN(uint64_t byte_size, UnsignedField(doc, "byte_size", true));
  return handler.RegisterSharedMemory(region, key->get<std::string>(), offset, byte_size);
}

}  // namespace

Result<std::string> SharedMemoryJson(const handler::RequestHandler& handler, Endpoint endpoint,
                                     const std::string& region, std::string_view body) {
  if (endpoint == Endpoint::kShmRegister) {
    RETURN_IF_ERROR(Register(handler, region, body));
    return std::string();
  }
  if (endpoint == Endpoint::kShmUnregister) {
    RETURN_IF_ERROR(handler.UnregisterSharedMemory(region));
    return std::string();
  }
  ASSIGN_OR_RETURN(auto regions, handler.SharedMemoryStatus(region));
  json out = json::array();
  for (const auto& r : regions) {
    out.push_back({{"name", r.name}, {"key", r.key}, {"offset", r.offset},
                   {"byte_size", r.byte_size}});
  }
  return out.dump();
}

}  // namespace inferd::http
