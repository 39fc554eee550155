#include "http/metadata_json.h"

#include <nlohmann/json.hpp>

namespace inferd::http {
namespace {

using nlohmann::json;

json TensorsJson(const std::vector<server::TensorMetadata>& tensors) {
  json out = json::array();
  for (const auto& t : tensors) {
    out.push_back({{"name", t.name}, {"datatype", DataTypeName(t.dtype)}, {"shape", t.shape}});
  }
  return out;
}

}  // namespace

std::string ServerMetadataJson(const server::ServerMetadata& m) {
  return json{{"name", m.name}, {"version", m.version}, {"extensions", m.extensions}}.dump();
}

std::string ModelMetadataJson(const server::ModelMetadata& m) {
  json versions = json::array();
  for (int64_t v : m.versions) versions.push_back(std::to_string(v));
  return json{{"name", m.name},
              {"versions", versions},
              {"platform", m.platform},
              {"inputs", TensorsJson(m.inputs)},
              {"outputs", TensorsJson(m.outputs)}}
      .dump();
}

std::string ModelStatisticsJson(const std::vector<server::ModelStatistics>& stats) {
  auto duration = [](const server::DurationStat& d) {
    return json{{"count", d.count}, {"ns", d.ns}};
  };
  json models = json::array();
  for (const auto& s : stats) {
    json batches = json::array();
    for (const auto& b : s.batch_stats) {
      batches.push_back({{"batch_size", b.batch_size},
                         {"compute_input", duration(b.compute_input)},
                         {"compute_infer", duration(b.compute_infer)},
                         {"compute_output", duration(b.compute_output)}});
    }
    models.push_back({{"name", s.name},
                      {"version", std::to_string(s.version)},
                      {"last_inference", s.last_inference_ms},
                      {"inference_count", s.inference_count},
                      {"execution_count", s.execution_count},
                      {"inference_stats",
                       {{"success", duration(s.success)},
                        {"fail", duration(s.fail)},
                        {"queue", duration(s.queue)},
                        {"compute_input", duration(s.compute_input)},
                        {"compute_infer", duration(s.compute_infer)},
                        {"compute_output", duration(s.compute_output)},
                        {"cache_hit", duration(s.cache_hit)},
                        {"cache_miss", duration(s.cache_miss)}}},
                      {"batch_stats", batches}});
  }
  return json{{"model_stats", models}}.dump();
}

std::string RepositoryIndexJson(const std::vector<handler::IndexEntry>& entries) {
  json out = json::array();
  for (const auto& e : entries) {
    json entry = {{"name", e.name}};
    if (e.version) entry["version"] = std::to_string(*e.version);
    entry["state"] = e.state;
    entry["reason"] = e.reason;
    if (e.version) entry["routing"] = e.routing;
    if (e.cold_start) {
      // Cold-start figures (inferd's additions to Triton's index entries).
      entry["load_seconds"] = e.cold_start->load_seconds;
      entry["memory_bytes"] = e.cold_start->memory_bytes;
      if (e.cold_start->first_response_us >= 0) {
        entry["first_response_us"] = e.cold_start->first_response_us;
      }
    }
    out.push_back(std::move(entry));
  }
  return out.dump();
}

}  // namespace inferd::http
