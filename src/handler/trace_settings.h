// TraceSettings: Triton's trace extension (GET/POST /v2/trace/setting, per model
// /v2/models/{m}/trace/setting, the gRPC TraceSetting RPC) over inferd's OTLP tracer. A global
// setting and per-model overrides of `trace_level` (OFF, TIMESTAMPS; TENSORS is taken as
// TIMESTAMPS), `trace_rate` (trace 1 in N requests, sampled at random), `trace_count` (traces
// left to take; -1 = no limit) and `log_frequency` (accepted and reported; the tracer writes on
// its own schedule). `trace_file` and `trace_mode` are reported and fixed at start-up (the
// --trace-file / --trace-endpoint flags), as in current Triton. Values travel as strings, as
// Triton's documents carry them. Thread-safe; the decision per request takes no lock unless a
// model override or a count is in force.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "observability/trace_context.h"
#include "observability/tracer.h"

namespace inferd::handler {

class TraceSettings {
 public:
  // Setting name → its values (one value, or several for trace_level).
  using Values = std::map<std::string, std::vector<std::string>, std::less<>>;
  // Setting name → new values; nullopt clears it (a model's setting reverts to the global one,
  // a global one to its start-up value).
  using Update = std::map<std::string, std::optional<std::vector<std::string>>, std::less<>>;

  // `tracer` may be null (no trace destination): then the level is OFF and cannot be raised.
  // Not owned; must outlive this object.
  explicit TraceSettings(observability::Tracer* tracer);

  // The settings in force for `model` ("" = the global ones).
  Values Get(std::string_view model) const EXCLUDES(mu_);
  // Applies `update` to `model`'s settings ("" = global) and returns the settings then in
  // force. INVALID_ARGUMENT naming the setting for an unknown name or a bad value; nothing is
  // changed then.
  Result<Values> Set(std::string_view model, const Update& update) EXCLUDES(mu_);

  // Whether to trace one request for `model`: level OFF never; a valid incoming traceparent
  // decides by its sampled flag; otherwise the rate. Counts down trace_count.
  bool ShouldTrace(std::string_view model, const std::optional<observability::TraceParent>& parent)
      EXCLUDES(mu_);

 private:
  struct Setting {
    std::optional<bool> on;                // trace_level other than OFF
    std::optional<int64_t> rate;           // 1 in N; 0 = only with a sampled traceparent
    std::optional<int64_t> count;          // traces left; -1 = unlimited
    std::optional<int64_t> log_frequency;  // reported only
  };
  static Status Apply(const Update& update, Setting& setting);
  Setting Effective(std::string_view model) const REQUIRES(mu_);
  Values Render(const Setting& effective) const;
  void Recompute() REQUIRES(mu_);

  observability::Tracer* const tracer_;
  mutable Mutex mu_;
  Setting global_ GUARDED_BY(mu_);
  Setting startup_ GUARDED_BY(mu_);
  std::map<std::string, Setting, std::less<>> models_ GUARDED_BY(mu_);
  // True while the global setting alone decides with no count: the tracer's own sampling.
  std::atomic<bool> simple_{true};
};

}  // namespace inferd::handler
