#include "http/request_record.h"

#include <fmt/format.h>

#include "observability/logging.h"

namespace inferd::http {

void ObserveResponse(const RequestRecord& record, const Request& request, const Response& res,
                     observability::Tracer* tracer, const boost::asio::ip::tcp::socket& peer) {
  const bool access = observability::AccessLogEnabled();
  if (!access && !record.traced) return;
  const uint64_t total_ns = NanosSince(record.start);
  const server::InferObservation* obs = record.observation.get();
  const uint64_t compute_ns =
      obs ? obs->timings.compute_input_ns + obs->timings.compute_infer_ns +
                obs->timings.compute_output_ns
          : 0;
  const int64_t version = obs && obs->resolved_version ? obs->resolved_version : record.version;
  if (record.traced) {
    observability::InferTraceTimes t = record.times;
    t.start_unix_ns = record.start_unix_ns;
    t.end_unix_ns = record.start_unix_ns + total_ns;
    t.cache_hit = obs && obs->cache_hit;
    t.queue_ns = obs ? obs->timings.queue_ns : 0;
    t.compute_ns = compute_ns;
    observability::InferTraceInfo info;
    info.name = fmt::format("{} {}", std::string(request.method_string()),
                            std::string(request.target()));
    info.model = record.model;
    info.version = version;
    info.status = static_cast<int>(res.result_int());
    info.error = res.result_int() >= 400;
    tracer->Export(observability::MakeInferTrace(record.trace_id, record.root_span,
                                                 record.remote_parent, t, info));
  }
  if (!access) return;
  observability::AccessRecord r;
  r.method = std::string(request.method_string());
  r.path = std::string(request.target());
  r.status = static_cast<int>(res.result_int());
  r.bytes_in = record.body_bytes;
  r.bytes_out = res.body().size();
  r.duration_us = static_cast<int64_t>(total_ns / 1000);
  boost::system::error_code ec;
  auto endpoint = peer.remote_endpoint(ec);
  if (!ec) r.remote = fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  if (!record.model.empty()) {
    r.model = record.model;
    r.version = version;
    r.decode_us = static_cast<int64_t>(record.times.decode_ns / 1000);
  }
  if (obs && obs->cache_used) r.cache = obs->cache_hit ? "hit" : "miss";
  if (obs && res.result_int() == 200) {
    if (!obs->cache_hit) {
      r.queue_us = static_cast<int64_t>(obs->timings.queue_ns / 1000);
      r.compute_us = static_cast<int64_t>(compute_ns / 1000);
    }
    r.encode_us = static_cast<int64_t>(record.times.encode_ns / 1000);
  }
  if (record.traced) r.trace_id = observability::ToHex(record.trace_id);
  observability::LogAccess(r);
}

}  // namespace inferd::http
