// inferd's version, reported by `inferd --version` and GET /v2.
#pragma once

#include <string_view>

namespace inferd::server {
inline constexpr std::string_view kVersion = "0.1.0";
}  // namespace inferd::server
