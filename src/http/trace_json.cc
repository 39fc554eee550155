#include "http/trace_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace inferd::http {

using json = nlohmann::json;

std::string TraceSettingsJson(const handler::TraceSettings::Values& values) {
  json out = json::object();
  for (const auto& [key, v] : values) {
    if (key == "trace_level") {
      out[key] = v;
    } else {
      out[key] = v.empty() ? std::string() : v.front();
    }
  }
  return out.dump();
}

Result<handler::TraceSettings::Update> ParseTraceSettingsJson(std::string_view body) {
  handler::TraceSettings::Update update;
  if (body.empty()) return update;
  auto doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("trace settings must be a JSON object");
  }
  for (const auto& [key, value] : doc.items()) {
    auto bad = [&key = key]() {
      return InvalidArgument(fmt::format(
          "trace setting '{}' must be a string, an integer, an array of strings or null", key));
    };
    if (value.is_null()) {
      update[key] = std::nullopt;
    } else if (value.is_string()) {
      update[key] = std::vector<std::string>{value.get<std::string>()};
    } else if (value.is_number_integer()) {
      update[key] = std::vector<std::string>{std::to_string(value.get<int64_t>())};
    } else if (value.is_array()) {
      std::vector<std::string> values;
      for (const auto& v : value) {
        if (!v.is_string()) return bad();
        values.push_back(v.get<std::string>());
      }
      update[key] = std::move(values);
    } else {
      return bad();
    }
  }
  return update;
}

}  // namespace inferd::http
