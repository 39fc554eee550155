// MakeInferTrace: the spans of one traced inference request, built by a frontend from the
// times it measured and the stage timings the facade reported: a SERVER root span for the
// whole request with child spans `decode`, `queue` and `compute` (or `cache_lookup` on a
// response cache hit) and `encode`. Queue and compute are placed back to back from the moment
// the request reached the facade (the scheduler reports durations, not instants). Pure.
#pragma once

#include <cstdint>
#include <string>

#include "observability/tracer.h"

namespace inferd::observability {

struct InferTraceTimes {
  uint64_t start_unix_ns = 0;         // request read
  uint64_t end_unix_ns = 0;           // response handed to the transport
  uint64_t decode_ns = 0;             // wire format → InferenceRequest
  uint64_t facade_start_unix_ns = 0;  // handed to the facade
  uint64_t facade_end_unix_ns = 0;    // the facade's callback ran
  uint64_t queue_ns = 0;              // as the scheduler measured it
  uint64_t compute_ns = 0;            // compute input + infer + output
  uint64_t encode_start_unix_ns = 0;
  uint64_t encode_ns = 0;
  bool cache_hit = false;
};

struct InferTraceInfo {
  std::string name;  // root span name, e.g. "POST /v2/models/simple/infer"
  std::string model;
  int64_t version = 0;
  int status = 0;  // protocol status (HTTP status code)
  bool error = false;
};

Trace MakeInferTrace(const TraceId& trace_id, const SpanId& root_span, const SpanId& remote_parent,
                     const InferTraceTimes& times, const InferTraceInfo& info);

}  // namespace inferd::observability
