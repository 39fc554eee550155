#include "observability/request_trace.h"

#include <algorithm>

namespace inferd::observability {

Trace MakeInferTrace(const TraceId& trace_id, const SpanId& root_span, const SpanId& remote_parent,
                     const InferTraceTimes& t, const InferTraceInfo& info) {
  Trace trace;
  trace.trace_id = trace_id;
  Span root;
  root.name = info.name;
  root.span_id = root_span;
  root.parent_id = remote_parent;
  root.server_kind = true;
  root.start_unix_ns = t.start_unix_ns;
  root.end_unix_ns = std::max(t.end_unix_ns, t.start_unix_ns);
  root.error = info.error;
  root.attributes = {{"inferd.model", info.model},
                     {"inferd.model_version", std::to_string(info.version)},
                     {"http.status_code", std::to_string(info.status)},
                     {"inferd.cache", t.cache_hit ? "hit" : "none"}};
  auto child = [&](const char* name, uint64_t start, uint64_t duration) {
    Span s;
    s.name = name;
    s.span_id = NewSpanId();
    s.parent_id = root_span;
    s.start_unix_ns = start;
    s.end_unix_ns = start + duration;
    return s;
  };
  trace.spans.push_back(std::move(root));
  trace.spans.push_back(child("decode", t.start_unix_ns, t.decode_ns));
  const uint64_t facade_ns =
      t.facade_end_unix_ns > t.facade_start_unix_ns ? t.facade_end_unix_ns - t.facade_start_unix_ns : 0;
  if (t.cache_hit) {
    trace.spans.push_back(child("cache_lookup", t.facade_start_unix_ns, facade_ns));
  } else if (t.queue_ns + t.compute_ns > 0) {
    const uint64_t queue = std::min(t.queue_ns, facade_ns);
    const uint64_t compute = std::min(t.compute_ns, facade_ns - queue);
    trace.spans.push_back(child("queue", t.facade_start_unix_ns, queue));
    trace.spans.push_back(child("compute", t.facade_start_unix_ns + queue, compute));
  }
  if (t.encode_start_unix_ns > 0) {
    trace.spans.push_back(child("encode", t.encode_start_unix_ns, t.encode_ns));
  }
  return trace;
}

}  // namespace inferd::observability
