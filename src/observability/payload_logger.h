// PayloadLogger: KServe's inference logger for inferd. A sampled share of inference requests
// and their responses is sent to a sink URL as CloudEvents 1.0 in HTTP binary content mode
// (the payload is the body; the event's attributes are `Ce-*` headers: ce-specversion, ce-id,
// ce-type org.kubeflow.serving.inference.request / .response, ce-source, ce-time, and KServe's
// extensions inferenceservicename, namespace, component, endpoint). The transport calls
// Sample() once per request and then LogRequest / LogResponse, which only enqueue: a bounded
// queue drained by the logger's own thread, so a slow or dead sink never slows inference —
// events that do not fit are dropped and counted, as are events the sink refuses or never
// answers. Transports: HTTP (session_infer.cc, the body as sent) and gRPC (grpc/infer_payload_log,
// the protobuf message, serialised on the logger's thread). Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/mutex.h"
#include "core/status.h"

namespace inferd::observability {

enum class PayloadLogMode { kAll, kRequest, kResponse };  // KServe's logger modes
Result<PayloadLogMode> ParsePayloadLogMode(std::string_view name);  // all | request | response

class PayloadLogger {
 public:
  struct Options {
    std::string url = {};             // the sink (http:// or https://); required
    double sample_rate = 1.0;         // share of requests logged, 0..1
    PayloadLogMode mode = PayloadLogMode::kAll;
    size_t max_queued = 1000;         // events waiting for the sink; more are dropped
    long timeout_ms = 2000;           // one POST to the sink, connect included
    std::string source = "inferd";    // ce-source (KServe: the logger's own URL)
    std::string service_name = {};    // ce-inferenceservicename; empty = the model's name
    std::string namespace_name = {};  // ce-namespace; empty = not sent
    std::string component = "predictor";  // ce-component
    std::string endpoint = "default";     // ce-endpoint (KServe: default or canary)
    // After a failed send, events are dropped (as sink errors) without trying the sink for
    // this long, doubling on each further failure up to max_backoff_ms, until a send works:
    // a dead sink costs one connection attempt per back-off, not one per event.
    long min_backoff_ms = 100;
    long max_backoff_ms = 5000;
  };

  // One event: the request's or response's body as received or sent, and what describes it.
  struct Payload {
    std::string id = {};            // ce-id, shared by a request and its response
    std::string model = {};
    int64_t version = 0;            // the version the request named; 0 = none
    std::string content_type = {};  // of the body
    std::optional<size_t> inference_header_length = {};  // binary extension bodies
    std::shared_ptr<const std::string> body = {};
    // When `body` is null: makes the body, on the logger's thread, just before sending (never
    // for an event that is dropped). For transports whose payload is a message rather than
    // bytes (gRPC): serialising stays off the inference path. Must be safe to call on another
    // thread while the transport goes on; what it captures lives as long as the event.
    std::function<std::string()> render_body = {};
  };

  // INVALID_ARGUMENT for a malformed URL, a rate outside 0..1 or a zero queue.
  static Result<std::unique_ptr<PayloadLogger>> Create(const Options& options);
  ~PayloadLogger();  // sends nothing more: what is still queued is dropped (and counted)

  // Whether to log this request (and its response): draws against the sample rate.
  bool Sample();
  // A fresh ce-id (a random UUID), for requests that bring no X-Request-Id.
  static std::string NewEventId();
  // Enqueue; never blocks on the sink. Ignored when the mode does not log that side.
  void LogRequest(Payload payload) EXCLUDES(mu_);
  void LogResponse(Payload payload) EXCLUDES(mu_);
  // Blocks until everything enqueued so far has been sent or dropped (tests, shutdown).
  void Flush() EXCLUDES(mu_);

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t dropped_queue_full() const { return dropped_full_.load(std::memory_order_relaxed); }
  uint64_t dropped_sink_error() const { return dropped_error_.load(std::memory_order_relaxed); }
  // Prometheus text for the counters above and the queue depth.
  std::string MetricsText() const EXCLUDES(mu_);

 private:
  struct Event {
    bool response = false;
    Payload payload;
    std::string time;  // RFC 3339, when the event was taken
  };
  explicit PayloadLogger(const Options& options);
  void Enqueue(bool response, Payload payload) EXCLUDES(mu_);
  void Run() EXCLUDES(mu_);
  void Send(const Event& event);

  const Options options_;
  mutable Mutex mu_;
  CondVar cv_;          // work arrived, or stop
  CondVar idle_cv_;     // the queue emptied and nothing is in flight
  std::deque<Event> queue_ GUARDED_BY(mu_);
  bool sending_ GUARDED_BY(mu_) = false;
  bool stop_ GUARDED_BY(mu_) = false;
  std::atomic<uint64_t> sent_{0}, dropped_full_{0}, dropped_error_{0};
  // Back-off after sink failures; only the logger's thread touches these.
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::thread thread_;
};

}  // namespace inferd::observability
