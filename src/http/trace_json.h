// JSON documents of Triton's trace extension (GET/POST /v2/trace/setting and
// /v2/models/{m}/trace/setting): settings out as Triton writes them (trace_level an array of
// strings, every other value a string), and an update in — each value a string, a number, an
// array of strings, or null to clear the setting. Pure.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "handler/trace_settings.h"

namespace inferd::http {

std::string TraceSettingsJson(const handler::TraceSettings::Values& values);
// INVALID_ARGUMENT naming the setting for a value of another type.
Result<handler::TraceSettings::Update> ParseTraceSettingsJson(std::string_view body);

}  // namespace inferd::http
