// HttpPost: one blocking HTTP(S) POST with libcurl, for the background senders that deliver
// data to other services (the payload logger's CloudEvents, job completion callbacks). Never
// called on an I/O or model thread: each caller owns a thread that may wait on a slow peer.
// Thread-safe (one curl handle per call; libcurl's global init happens once).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace inferd::observability {

struct HttpPostRequest {
  std::string url;  // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;  // name, value
  std::string_view body;                                     // borrowed for the call
  long timeout_ms = 2000;          // whole request, connect included
  long connect_timeout_ms = 1000;  // TCP (and TLS) connect
};

// The peer's HTTP status code; UNAVAILABLE (with curl's reason) when no answer came back.
Result<int> HttpPost(const HttpPostRequest& request);

// INVALID_ARGUMENT unless `url` starts with http:// or https:// and names a host.
Status ValidateHttpUrl(std::string_view url, std::string_view what);

}  // namespace inferd::observability
