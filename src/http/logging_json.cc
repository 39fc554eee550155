#include "http/logging_json.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace inferd::http {
namespace {

using json = nlohmann::json;

int LevelRank(std::string_view level) {
  constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "critical",
                                          "off"};
  for (int i = 0; i < 7; ++i) {
    if (kLevels[i] == level) return i;
  }
  return -1;
}

}  // namespace

std::string LogSettingsJson(const observability::LogSettings& s) {
  const int rank = LevelRank(s.level);
  return json{{"log_level", s.level},
              {"log_format", observability::LogFormatName(s.format)},
              {"access_log", s.access_log},
              // Triton's view of the same settings.
              {"log_info", rank >= 0 && rank <= 2},
              {"log_warning", rank >= 0 && rank <= 3},
              {"log_error", rank >= 0 && rank <= 4},
              {"log_verbose_level", rank == 0 ? 2 : rank == 1 ? 1 : 0},
              {"log_file", s.file}}
      .dump();
}

Result<observability::LogSettings> ApplyLogSettingsJson(std::string_view body,
                                                        observability::LogSettings s) {
  auto doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("logging settings must be a JSON object");
  }
  auto type_error = [](const std::string& key, const char* type) {
    return InvalidArgument(fmt::format("logging setting '{}' must be {}", key, type));
  };
  // Triton's booleans switch levels off from the most verbose end.
  for (const auto& [key, value] : doc.items()) {
    if (key == "log_level") {
      if (!value.is_string()) return type_error(key, "a string");
      const std::string level = value.get<std::string>();
      if (LevelRank(level) < 0) {
        return InvalidArgument(fmt::format(
            "unknown log level '{}': expected trace, debug, info, warn, error, critical or off",
            level));
      }
      s.level = level;
    } else if (key == "log_format") {
      if (!value.is_string()) return type_error(key, "a string");
      std::string format = value.get<std::string>();
      if (format == "default" || format == "ISO8601") format = "text";
      ASSIGN_OR_RETURN(s.format, observability::ParseLogFormat(format));
    } else if (key == "access_log") {
      if (!value.is_boolean()) return type_error(key, "a boolean");
      s.access_log = value.get<bool>();
    } else if (key == "log_verbose_level") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0) {
        return type_error(key, "a non-negative integer");
      }
      const int64_t v = value.get<int64_t>();
      if (v > 0) s.level = v >= 2 ? "trace" : "debug";
      else if (LevelRank(s.level) < 2) s.level = "info";
    } else if (key == "log_info" || key == "log_warning" || key == "log_error") {
      if (!value.is_boolean()) return type_error(key, "a boolean");
      const int threshold = key == "log_info" ? 2 : key == "log_warning" ? 3 : 4;
      const int rank = LevelRank(s.level);
      if (!value.get<bool>() && rank <= threshold) {
        constexpr const char* kAbove[] = {"", "", "warn", "error", "critical"};
        s.level = kAbove[threshold];
      } else if (value.get<bool>() && rank > threshold) {
        constexpr const char* kAt[] = {"", "", "info", "warn", "error"};
        s.level = kAt[threshold];
      }
    } else if (key == "log_file") {
      if (!value.is_string()) return type_error(key, "a string (empty for stdout)");
      s.file = value.get<std::string>();  // opened (or refused) when the settings apply
    } else {
      return InvalidArgument(fmt::format("unknown logging setting '{}'", key));
    }
  }
  return s;
}

}  // namespace inferd::http
