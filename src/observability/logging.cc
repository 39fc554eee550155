#include "observability/logging.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "core/mutex.h"

namespace inferd::observability {
namespace {

constexpr const char* kTextPattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] %v";

void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<int>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

// "2024-05-01T12:34:56.789Z"
std::string IsoTimestamp(std::chrono::system_clock::time_point tp) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(tp);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(secs)),
                     static_cast<int>(ms.count() % 1000));
}

// {"ts":…,"level":…,"msg":…} per line.
class JsonFormatter : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"ts\":";
    AppendJsonString(line, IsoTimestamp(msg.time));
    line += ",\"level\":";
    const auto level = spdlog::level::to_string_view(msg.level);
    AppendJsonString(line, std::string_view(level.data(), level.size()));
    line += ",\"msg\":";
    AppendJsonString(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

struct LoggingState {
  Mutex mu;
  LogSettings settings GUARDED_BY(mu);
  std::shared_ptr<spdlog::logger> access GUARDED_BY(mu);
  // Loggers replaced by a change of log file. spdlog's free functions use the default logger
  // through a raw pointer, so a replaced one must outlive any call that may still hold it.
  std::vector<std::shared_ptr<spdlog::logger>> retired GUARDED_BY(mu);
};

LoggingState& State() {
  static LoggingState* state = new LoggingState();  // never destroyed: loggers outlive main
  return *state;
}

std::atomic<bool> access_enabled{false};
std::atomic<bool> json_format{false};

std::unique_ptr<spdlog::formatter> MakeFormatter(LogFormat format) {
  if (format == LogFormat::kJson) return std::make_unique<JsonFormatter>();
  return std::make_unique<spdlog::pattern_formatter>(kTextPattern);
}

// Main and access loggers writing to `file` (stdout when empty). spdlog formatters belong to
// sinks, so each logger gets a sink of its own; both write whole lines with one fwrite each.
Result<std::pair<std::shared_ptr<spdlog::logger>, std::shared_ptr<spdlog::logger>>> MakeLoggers(
    const std::string& file) {
  spdlog::sink_ptr main_sink, access_sink;
  if (file.empty()) {
    main_sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    access_sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    try {
      main_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false);
      access_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    } catch (const spdlog::spdlog_ex& e) {
      return InvalidArgument(fmt::format("log_file '{}' cannot be opened: {}", file, e.what()));
    }
  }
  auto main = std::make_shared<spdlog::logger>("inferd", main_sink);
  auto access = std::make_shared<spdlog::logger>("access", access_sink);
  access->set_level(spdlog::level::info);
  access->flush_on(spdlog::level::info);
  return std::make_pair(std::move(main), std::move(access));
}

Status Apply(const LogSettings& s) NO_THREAD_SAFETY_ANALYSIS {
  const auto level = spdlog::level::from_str(s.level);
  if (level == spdlog::level::off && s.level != "off") {
    return InvalidArgument(fmt::format(
        "unknown log level '{}': expected trace, debug, info, warn, error, critical or off",
        s.level));
  }
  LoggingState& st = State();
  if (!st.access || s.file != st.settings.file) {
    ASSIGN_OR_RETURN(auto loggers, MakeLoggers(s.file));
    if (st.access) {
      st.retired.push_back(spdlog::default_logger());
      st.retired.push_back(st.access);
    }
    spdlog::set_default_logger(loggers.first);
    st.access = std::move(loggers.second);
  }
  spdlog::default_logger()->set_formatter(MakeFormatter(s.format));
  // Access lines are composed whole by LogAccess, in either format.
  st.access->set_formatter(std::make_unique<spdlog::pattern_formatter>("%v"));
  spdlog::set_level(level);
  spdlog::flush_on(spdlog::level::info);
  st.settings = s;
  access_enabled.store(s.access_log, std::memory_order_relaxed);
  json_format.store(s.format == LogFormat::kJson, std::memory_order_relaxed);
  return Status::Ok();
}

}  // namespace

Result<LogFormat> ParseLogFormat(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return InvalidArgument(fmt::format("unknown log format '{}': expected text or json", name));
}

std::string_view LogFormatName(LogFormat format) {
  return format == LogFormat::kJson ? "json" : "text";
}

Status ConfigureLogging(const LogSettings& settings) {
  LoggingState& st = State();
  MutexLock lock(st.mu);
  return Apply(settings);
}

Status UpdateLogSettings(const LogSettings& settings) { return ConfigureLogging(settings); }

LogSettings CurrentLogSettings() {
  LoggingState& st = State();
  MutexLock lock(st.mu);
  return st.settings;
}

bool AccessLogEnabled() { return access_enabled.load(std::memory_order_relaxed); }

std::string AccessRecordJson(const AccessRecord& r) {
  std::string out = "{\"ts\":";
  AppendJsonString(out, IsoTimestamp(std::chrono::system_clock::now()));
  out += ",\"level\":\"info\",\"type\":\"access\",\"protocol\":";
  AppendJsonString(out, r.protocol);
  out += ",\"method\":";
  AppendJsonString(out, r.method);
  out += ",\"path\":";
  AppendJsonString(out, r.path);
  fmt::format_to(std::back_inserter(out),
                 ",\"status\":{},\"bytes_in\":{},\"bytes_out\":{},\"duration_us\":{}", r.status,
                 r.bytes_in, r.bytes_out, r.duration_us);
  if (!r.remote.empty()) {
    out += ",\"remote\":";
    AppendJsonString(out, r.remote);
  }
  if (!r.model.empty()) {
    out += ",\"model\":";
    AppendJsonString(out, r.model);
    fmt::format_to(std::back_inserter(out), ",\"version\":{}", r.version);
  }
  if (!r.cache.empty()) {
    out += ",\"cache\":";
    AppendJsonString(out, r.cache);
  }
  const std::pair<const char*, int64_t> stages[] = {
      {"decode_us", r.decode_us}, {"queue_us", r.queue_us},
      {"compute_us", r.compute_us}, {"encode_us", r.encode_us}};
  for (const auto& [name, v] : stages) {
    if (v >= 0) fmt::format_to(std::back_inserter(out), ",\"{}\":{}", name, v);
  }
  if (!r.trace_id.empty()) {
    out += ",\"trace_id\":";
    AppendJsonString(out, r.trace_id);
  }
  out += "}";
  return out;
}

void LogAccess(const AccessRecord& r) {
  std::shared_ptr<spdlog::logger> access;
  {
    LoggingState& st = State();
    MutexLock lock(st.mu);
    access = st.access;
  }
  if (!access) return;
  if (json_format.load(std::memory_order_relaxed)) {
    access->info(AccessRecordJson(r));
    return;
  }
  std::string line = fmt::format(
      "[{}] [access] {}{} {} {} in={} out={} duration_us={}",
      IsoTimestamp(std::chrono::system_clock::now()), r.protocol == "http" ? "" : r.protocol + " ",
      r.method, r.path, r.status, r.bytes_in, r.bytes_out, r.duration_us);
  if (!r.model.empty()) line += fmt::format(" model={} version={}", r.model, r.version);
  if (!r.cache.empty()) line += fmt::format(" cache={}", r.cache);
  if (r.decode_us >= 0) line += fmt::format(" decode_us={}", r.decode_us);
  if (r.queue_us >= 0) line += fmt::format(" queue_us={}", r.queue_us);
  if (r.compute_us >= 0) line += fmt::format(" compute_us={}", r.compute_us);
  if (r.encode_us >= 0) line += fmt::format(" encode_us={}", r.encode_us);
  if (!r.trace_id.empty()) line += fmt::format(" trace_id={}", r.trace_id);
  access->info(line);
}

}  // namespace inferd::observability
