// Logging setup for inferd: the default spdlog logger writes text or JSON lines
// (--log-format), at a level that can change at runtime (GET/POST /v2/logging), and an access
// log writes one structured line per HTTP request or gRPC call when enabled (--access-log or at runtime).
// Called by apps/inferd at start-up and by the frontends; settings are process-wide and
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace inferd::observability {

enum class LogFormat { kText, kJson };

struct LogSettings {
  std::string level = "info";  // trace, debug, info, warn, error, critical, off
  LogFormat format = LogFormat::kText;
  bool access_log = false;  // one line per HTTP request
  // Where log and access lines go: empty = stdout; else this file, appended to (Triton's
  // log_file). Changing it at runtime moves both to the new file.
  std::string file;
};

// Installs stdout logging with `settings`. INVALID_ARGUMENT for an unknown level.
Status ConfigureLogging(const LogSettings& settings);
LogSettings CurrentLogSettings();
// Applies new settings (level, format, access log) at runtime.
Status UpdateLogSettings(const LogSettings& settings);

Result<LogFormat> ParseLogFormat(std::string_view name);  // "text" | "json"
std::string_view LogFormatName(LogFormat format);

// Whether access lines are wanted; cheap, checked on every request.
bool AccessLogEnabled();

// One request as the access log reports it. Durations are microseconds; -1 = not applicable.
struct AccessRecord {
  std::string protocol = "http";  // "http" or "grpc"
  std::string method;             // HTTP method; "POST" for gRPC calls
  // HTTP target, or the gRPC method ("/inference.GRPCInferenceService/ModelInfer").
  std::string path;
  int status = 0;  // HTTP status code, or gRPC status code (0 = OK)
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  int64_t duration_us = 0;  // request read → response handed to the socket
  std::string model;        // inference requests only
  int64_t version = 0;
  std::string cache;  // "hit", "miss" or empty (cache off for the model)
  int64_t decode_us = -1, queue_us = -1, compute_us = -1, encode_us = -1;
  std::string trace_id;  // when the request was traced
  std::string remote;    // peer address
};

// Writes `r` as one line, in the current format.
void LogAccess(const AccessRecord& r);

// The JSON form of one access record (also used by tests).
std::string AccessRecordJson(const AccessRecord& r);

}  // namespace inferd::observability
