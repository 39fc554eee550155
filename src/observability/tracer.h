// Tracer: per-request traces exported as OTLP/HTTP JSON (ExportTraceServiceRequest documents),
// either POSTed to a collector (e.g. http://127.0.0.1:4318/v1/traces) or appended as one JSON
// line per batch to a file. The sampling decision follows an incoming W3C `traceparent` (its
// sampled flag) and otherwise the configured rate. Frontends build a Trace per sampled request
// (root span + decode, queue, compute, encode stages) and hand it to Export, which never
// blocks: a background thread batches and writes. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/mutex.h"
#include "core/status.h"
#include "observability/trace_context.h"

namespace inferd::observability {

struct Span {
  std::string name;
  SpanId span_id{};
  SpanId parent_id{};          // all zero: no parent
  bool server_kind = false;    // SPAN_KIND_SERVER (the root span), else INTERNAL
  uint64_t start_unix_ns = 0;
  uint64_t end_unix_ns = 0;
  bool error = false;
  std::vector<std::pair<std::string, std::string>> attributes;  // string-valued
};

struct Trace {
  TraceId trace_id{};
  std::vector<Span> spans;
};

// The OTLP/JSON ExportTraceServiceRequest for `traces` (ids in lowercase hex, as OTLP/JSON
// requires).
std::string OtlpJson(const std::vector<Trace>& traces, std::string_view service_name);

class Tracer {
 public:
  struct Options {
    double sample_rate = 0;     // share of requests without a traceparent that are traced, 0..1
    std::string file;           // append OTLP JSON lines here; empty = no file
    std::string otlp_endpoint;  // http://host:port/path of an OTLP/HTTP collector; empty = none
    std::string service_name = "inferd";
    int flush_interval_ms = 200;  // how long spans may wait before being written
    size_t max_queued_traces = 8192;  // beyond this, new traces are dropped (and counted)
  };

  // INVALID_ARGUMENT for a rate outside 0..1, an unwritable file or a malformed endpoint.
  static Result<std::unique_ptr<Tracer>> Create(const Options& options);
  ~Tracer();  // writes what is queued, then stops

  // Whether to trace a request: a valid incoming traceparent decides by its sampled flag;
  // without one, the sample rate does.
  bool ShouldSample(const std::optional<TraceParent>& parent);
  void Export(Trace trace) EXCLUDES(mu_);
  // Blocks until every trace exported so far is written (for tests and shutdown).
  void Flush() EXCLUDES(mu_);

  double sample_rate() const { return sample_rate_.load(std::memory_order_relaxed); }
  // Where traces go: the file, else the collector's URL.
  const std::string& destination() const {
    return options_.file.empty() ? options_.otlp_endpoint : options_.file;
  }
  Status SetSampleRate(double rate);
  uint64_t exported() const { return exported_.load(std::memory_order_relaxed); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  explicit Tracer(const Options& options);
  void Run() EXCLUDES(mu_);
  void Write(const std::vector<Trace>& batch);
  bool Post(const std::string& body);

  const Options options_;
  std::string host_, port_, target_;  // parsed otlp_endpoint
  std::atomic<double> sample_rate_;
  std::atomic<uint64_t> exported_{0}, dropped_{0};
  Mutex mu_;
  CondVar cv_;        // work queued or stopping
  CondVar drained_;   // the writer finished a batch
  std::deque<Trace> queue_ GUARDED_BY(mu_);
  uint64_t enqueued_ GUARDED_BY(mu_) = 0;
  uint64_t written_ GUARDED_BY(mu_) = 0;  // traces written or given up on
  bool stopping_ GUARDED_BY(mu_) = false;
  bool post_failing_ = false;  // writer thread only: warn once per failure streak
  std::thread writer_;
};

}  // namespace inferd::observability
