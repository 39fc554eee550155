#include "handler/trace_settings.h"

#include <charconv>
#include <cmath>
#include <random>

#include <fmt/format.h>

namespace inferd::handler {
namespace {

Result<int64_t> ParseInt(std::string_view key, const std::vector<std::string>& values,
                         int64_t min) {
  int64_t v = 0;
  if (values.size() == 1) {
    const std::string& s = values[0];
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size() && v >= min) return v;
  }
  return InvalidArgument(fmt::format("trace setting '{}' must be one integer >= {}", key, min));
}

bool SampleOneIn(int64_t n) {
  if (n <= 0) return false;
  if (n == 1) return true;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_int_distribution<int64_t>(0, n - 1)(rng) == 0;
}

}  // namespace

TraceSettings::TraceSettings(observability::Tracer* tracer) : tracer_(tracer) {
  MutexLock lock(mu_);
  global_.on = tracer != nullptr;
  const double rate = tracer ? tracer->sample_rate() : 0;
  global_.rate = rate > 0 ? static_cast<int64_t>(std::llround(1.0 / rate)) : 0;
  global_.count = -1;
  global_.log_frequency = 0;
  startup_ = global_;
}

Status TraceSettings::Apply(const Update& update, Setting& s) {
  for (const auto& [key, values] : update) {
    if (key == "trace_level") {
      if (!values) { s.on.reset(); continue; }
      bool on = false, off = false;
      for (const std::string& v : *values) {
        if (v == "OFF") off = true;
        else if (v == "TIMESTAMPS" || v == "TENSORS") on = true;
        else
          return InvalidArgument(fmt::format(
              "trace setting 'trace_level' value '{}': expected OFF, TIMESTAMPS or TENSORS", v));
      }
      if (on == off) {
        return InvalidArgument(
            "trace setting 'trace_level' must be [\"OFF\"] or name TIMESTAMPS / TENSORS");
      }
      s.on = on;
    } else if (key == "trace_rate") {
      if (!values) { s.rate.reset(); continue; }
      ASSIGN_OR_RETURN(s.rate, ParseInt(key, *values, 0));
    } else if (key == "trace_count") {
      if (!values) { s.count.reset(); continue; }
      ASSIGN_OR_RETURN(s.count, ParseInt(key, *values, -1));
    } else if (key == "log_frequency") {
      if (!values) { s.log_frequency.reset(); continue; }
      ASSIGN_OR_RETURN(s.log_frequency, ParseInt(key, *values, 0));
    } else if (key == "trace_file" || key == "trace_mode") {
      return InvalidArgument(fmt::format(
          "trace setting '{}' cannot be changed at runtime; start inferd with --trace-file or "
          "--trace-endpoint",
          key));
    } else {
      return InvalidArgument(fmt::format(
          "unknown trace setting '{}': expected trace_level, trace_rate, trace_count or "
          "log_frequency",
          key));
    }
  }
  return Status::Ok();
}

TraceSettings::Setting TraceSettings::Effective(std::string_view model) const {
  Setting s = global_;
  if (model.empty()) return s;
  auto it = models_.find(model);
  if (it == models_.end()) return s;
  const Setting& m = it->second;
  if (m.on) s.on = m.on;
  if (m.rate) s.rate = m.rate;
  if (m.count) s.count = m.count;
  if (m.log_frequency) s.log_frequency = m.log_frequency;
  return s;
}

TraceSettings::Values TraceSettings::Render(const Setting& s) const {
  Values v;
  v["trace_level"] = {s.on.value_or(false) ? "TIMESTAMPS" : "OFF"};
  v["trace_rate"] = {std::to_string(s.rate.value_or(0))};
  v["trace_count"] = {std::to_string(s.count.value_or(-1))};
  v["log_frequency"] = {std::to_string(s.log_frequency.value_or(0))};
  v["trace_file"] = {tracer_ ? tracer_->destination() : ""};
  v["trace_mode"] = {"opentelemetry"};
  return v;
}

TraceSettings::Values TraceSettings::Get(std::string_view model) const {
  MutexLock lock(mu_);
  return Render(Effective(model));
}

Result<TraceSettings::Values> TraceSettings::Set(std::string_view model, const Update& update) {
  MutexLock lock(mu_);
  auto existing = models_.find(model);
  Setting next = model.empty()                ? global_
                 : existing != models_.end() ? existing->second
                                             : Setting{};
  RETURN_IF_ERROR(Apply(update, next));
  if (model.empty()) {  // a cleared global setting returns to its start-up value
    if (!next.on) next.on = startup_.on;
    if (!next.rate) next.rate = startup_.rate;
    if (!next.count) next.count = startup_.count;
    if (!next.log_frequency) next.log_frequency = startup_.log_frequency;
  }
  if (next.on.value_or(false) && tracer_ == nullptr) {
    return InvalidArgument(
        "trace setting 'trace_level': there is no trace destination; start inferd with "
        "--trace-file or --trace-endpoint");
  }
  if (model.empty()) {
    global_ = next;
    if (tracer_ != nullptr) {
      const int64_t n = global_.rate.value_or(0);
      (void)tracer_->SetSampleRate(n > 0 ? 1.0 / static_cast<double>(n) : 0.0);
    }
  } else if (!next.on && !next.rate && !next.count && !next.log_frequency) {
    if (existing != models_.end()) models_.erase(existing);  // back to the global setting
  } else {
    models_[std::string(model)] = next;
  }
  Recompute();
  return Render(Effective(model));
}

void TraceSettings::Recompute() {
  simple_.store(models_.empty() && global_.on.value_or(false) && global_.count.value_or(-1) == -1,
                std::memory_order_relaxed);
}

bool TraceSettings::ShouldTrace(std::string_view model,
                                const std::optional<observability::TraceParent>& parent) {
  if (tracer_ == nullptr) return false;
  if (simple_.load(std::memory_order_relaxed)) return tracer_->ShouldSample(parent);
  MutexLock lock(mu_);
  const Setting s = Effective(model);
  if (!s.on.value_or(false)) return false;
  int64_t count = s.count.value_or(-1);
  if (count == 0) return false;
  const bool sampled = parent ? parent->sampled : SampleOneIn(s.rate.value_or(0));
  if (!sampled || count < 0) return sampled;
  // Count down where the count was set: the model's own setting, else the global one.
  auto it = models_.find(model);
  if (it != models_.end() && it->second.count) {
    it->second.count = count - 1;
  } else {
    global_.count = count - 1;
  }
  return true;
}

}  // namespace inferd::handler
