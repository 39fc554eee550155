// JSON documents of the logging extension (GET/POST /v2/logging): the current settings, and
// applying a partial update. Accepts Triton's keys (log_info, log_warning, log_error,
// log_verbose_level, log_format "default") besides inferd's (log_level, log_format "text" or
// "json", access_log); unknown keys and wrong types are INVALID_ARGUMENT.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "observability/logging.h"

namespace inferd::http {

std::string LogSettingsJson(const observability::LogSettings& s);
// `current` updated by the JSON object in `body`.
Result<observability::LogSettings> ApplyLogSettingsJson(std::string_view body,
                                                        observability::LogSettings current);

}  // namespace inferd::http
