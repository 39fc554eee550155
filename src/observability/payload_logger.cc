#include "observability/payload_logger.h"

#include <algorithm>
#include <chrono>
#include <random>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "observability/http_post.h"

namespace inferd::observability {
namespace {

constexpr std::string_view kRequestType = "org.kubeflow.serving.inference.request";
constexpr std::string_view kResponseType = "org.kubeflow.serving.inference.response";

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

std::string Rfc3339Now() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(now)),
                     micros);
}

}  // namespace

Result<PayloadLogMode> ParsePayloadLogMode(std::string_view name) {
  if (name == "all") return PayloadLogMode::kAll;
  if (name == "request") return PayloadLogMode::kRequest;
  if (name == "response") return PayloadLogMode::kResponse;
  return InvalidArgument(
      fmt::format("payload log mode '{}' is not one of all, request, response", name));
}

Result<std::unique_ptr<PayloadLogger>> PayloadLogger::Create(const Options& options) {
  RETURN_IF_ERROR(ValidateHttpUrl(options.url, "payload log URL"));
  if (!(options.sample_rate >= 0 && options.sample_rate <= 1)) {
    return InvalidArgument(
        fmt::format("payload log sample rate {} is outside 0..1", options.sample_rate));
  }
  if (options.max_queued == 0) return InvalidArgument("payload log queue size must be positive");
  if (options.min_backoff_ms < 0 || options.max_backoff_ms < options.min_backoff_ms) {
    return InvalidArgument("payload log back-off must be 0 <= min <= max");
  }
  return std::unique_ptr<PayloadLogger>(new PayloadLogger(options));
}

PayloadLogger::PayloadLogger(const Options& options) : options_(options) {
  thread_ = std::thread([this] { Run(); });
}

PayloadLogger::~PayloadLogger() {
  {
    MutexLock lock(mu_);
    stop_ = true;
    dropped_full_.fetch_add(queue_.size(), std::memory_order_relaxed);
    queue_.clear();
  }
  cv_.NotifyAll();
  thread_.join();
}

bool PayloadLogger::Sample() {
  if (options_.sample_rate >= 1) return true;
  if (options_.sample_rate <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(Rng()) < options_.sample_rate;
}

std::string PayloadLogger::NewEventId() {
  auto& rng = Rng();
  const uint64_t a = rng(), b = rng();
  // Version 4, variant 1.
  const uint64_t hi = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

void PayloadLogger::LogRequest(Payload payload) {
  if (options_.mode == PayloadLogMode::kResponse) return;
  Enqueue(false, std::move(payload));
}

void PayloadLogger::LogResponse(Payload payload) {
  if (options_.mode == PayloadLogMode::kRequest) return;
  Enqueue(true, std::move(payload));
}

void PayloadLogger::Enqueue(bool response, Payload payload) {
  Event event{response, std::move(payload), Rfc3339Now()};
  {
    MutexLock lock(mu_);
    if (stop_ || queue_.size() >= options_.max_queued) {
      dropped_full_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(event));
  }
  cv_.NotifyOne();
}

void PayloadLogger::Flush() {
  MutexLock lock(mu_);
  idle_cv_.Wait(mu_, [this]() REQUIRES(mu_) { return stop_ || (queue_.empty() && !sending_); });
}

void PayloadLogger::Run() {
  for (;;) {
    Event event;
    {
      MutexLock lock(mu_);
      sending_ = false;
      if (queue_.empty()) idle_cv_.NotifyAll();
      cv_.Wait(mu_, [this]() REQUIRES(mu_) { return stop_ || !queue_.empty(); });
      if (stop_) {
        idle_cv_.NotifyAll();
        return;
      }
      event = std::move(queue_.front());
      queue_.pop_front();
      sending_ = true;
    }
    Send(event);
  }
}

void PayloadLogger::Send(const Event& event) {
  const Payload& p = event.payload;
  const auto now = std::chrono::steady_clock::now();
  if (now < retry_at_) {  // the sink failed lately: drop without trying (see Options)
    dropped_error_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  HttpPostRequest post;
  post.url = options_.url;
  post.timeout_ms = options_.timeout_ms;
  post.connect_timeout_ms = std::min(options_.timeout_ms, 1000L);
  std::string rendered;
  if (!p.body && p.render_body) rendered = p.render_body();
  post.body = p.body ? std::string_view(*p.body) : std::string_view(rendered);
  auto& h = post.headers;
  h.emplace_back("Content-Type", p.content_type.empty() ? "application/json" : p.content_type);
  h.emplace_back("Ce-Specversion", "1.0");
  h.emplace_back("Ce-Id", p.id);
  h.emplace_back("Ce-Type", event.response ? kResponseType : kRequestType);
  h.emplace_back("Ce-Source", options_.source);
  h.emplace_back("Ce-Time", event.time);
  h.emplace_back("Ce-Inferenceservicename",
                 options_.service_name.empty() ? p.model : options_.service_name);
  if (!options_.namespace_name.empty()) h.emplace_back("Ce-Namespace", options_.namespace_name);
  h.emplace_back("Ce-Component", options_.component);
  h.emplace_back("Ce-Endpoint", options_.endpoint);
  h.emplace_back("Ce-Modelname", p.model);  // inferd's extensions: the model and version asked
  if (p.version > 0) h.emplace_back("Ce-Modelversion", std::to_string(p.version));
  if (p.inference_header_length) {
    h.emplace_back("Inference-Header-Content-Length", std::to_string(*p.inference_header_length));
  }
  auto status = HttpPost(post);
  if (status.ok() && *status >= 200 && *status < 300) {
    sent_.fetch_add(1, std::memory_order_relaxed);
    backoff_ = std::chrono::milliseconds(0);
    return;
  }
  dropped_error_.fetch_add(1, std::memory_order_relaxed);
  backoff_ = std::clamp(backoff_ * 2, std::chrono::milliseconds(options_.min_backoff_ms),
                        std::chrono::milliseconds(options_.max_backoff_ms));
  retry_at_ = std::chrono::steady_clock::now() + backoff_;
  spdlog::debug("payload log: event {} not delivered: {}", p.id,
                status.ok() ? fmt::format("HTTP {}", *status) : status.status().message());
}

std::string PayloadLogger::MetricsText() const {
  size_t queued = 0;
  {
    MutexLock lock(mu_);
    queued = queue_.size();
  }
  return fmt::format(
      "# HELP inferd_payload_log_events_sent_total Payload log CloudEvents the sink accepted (2xx).\n"
      "# TYPE inferd_payload_log_events_sent_total counter\n"
      "inferd_payload_log_events_sent_total {}\n"
      "# HELP inferd_payload_log_events_dropped_total Payload log CloudEvents not delivered: the "
      "queue was full, or the sink failed, refused or timed out.\n"
      "# TYPE inferd_payload_log_events_dropped_total counter\n"
      "inferd_payload_log_events_dropped_total{{reason=\"queue_full\"}} {}\n"
      "inferd_payload_log_events_dropped_total{{reason=\"sink_error\"}} {}\n"
      "# HELP inferd_payload_log_queue_depth Payload log CloudEvents waiting for the sink.\n"
      "# TYPE inferd_payload_log_queue_depth gauge\n"
      "inferd_payload_log_queue_depth {}\n",
      sent(), dropped_queue_full(), dropped_sink_error(), queued);
}

}  // namespace inferd::observability
