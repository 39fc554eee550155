#include "metrics/prometheus_exposition.h"

#include <functional>

#include "metrics/prometheus_writer.h"

namespace inferd::metrics {
namespace {

Labels ModelLabels(const ModelSample& m) {
  return {{"model", m.model}, {"version", std::to_string(m.version)}};
}

uint64_t Micros(uint64_t ns) { return ns / 1000; }

// One counter family with one sample per model version.
void PerModel(PrometheusWriter& w, const std::vector<ModelSample>& models, const char* name,
              const char* help, const char* type,
              const std::function<uint64_t(const InferenceStatsSnapshot&)>& value) {
  w.Family(name, help, type);
  for (const auto& m : models) w.Sample(name, ModelLabels(m), value(m.stats));
}

void ModelFamilies(PrometheusWriter& w, const std::vector<ModelSample>& models) {
  using S = InferenceStatsSnapshot;
  PerModel(w, models, "nv_inference_request_success",
           "Number of successful inference requests, all batch sizes", "counter",
           [](const S& s) { return s.success.count; });
  w.Family("nv_inference_request_failure",
           "Number of failed inference requests, all batch sizes", "counter");
  for (const auto& m : models) {
    for (int r = 0; r < kFailureReasonCount; ++r) {
      Labels labels = ModelLabels(m);
      labels.emplace_back("reason", FailureReasonName(static_cast<FailureReason>(r)));
      w.Sample("nv_inference_request_failure", labels, m.stats.failures_by_reason[r]);
    }
  }
  PerModel(w, models, "nv_inference_count",
           "Number of inferences performed (does not include cached requests)", "counter",
           [](const S& s) { return s.inference_count; });
  PerModel(w, models, "nv_inference_exec_count",
           "Number of model executions performed (does not include cached requests)", "counter",
           [](const S& s) { return s.execution_count; });
  w.Family("nv_inference_pending_request_count",
           "Instantaneous number of pending requests awaiting execution per-model.", "gauge");
  for (const auto& m : models) {
    w.Sample("nv_inference_pending_request_count", ModelLabels(m), m.stats.pending);
  }
  PerModel(w, models, "nv_inference_request_duration_us",
           "Cumulative inference request duration in microseconds (includes cached requests)",
           "counter", [](const S& s) { return Micros(s.success.ns); });
  PerModel(w, models, "nv_inference_queue_duration_us",
           "Cumulative inference queuing duration in microseconds (includes cached requests)",
           "counter", [](const S& s) { return Micros(s.queue.ns); });
  PerModel(w, models, "nv_inference_compute_input_duration_us",
           "Cumulative compute input duration in microseconds (does not include cached requests)",
           "counter", [](const S& s) { return Micros(s.compute_input.ns); });
  PerModel(w, models, "nv_inference_compute_infer_duration_us",
           "Cumulative compute inference duration in microseconds (does not include cached "
           "requests)",
           "counter", [](const S& s) { return Micros(s.compute_infer.ns); });
  PerModel(w, models, "nv_inference_compute_output_duration_us",
           "Cumulative inference compute output duration in microseconds (does not include "
           "cached requests)",
           "counter", [](const S& s) { return Micros(s.compute_output.ns); });
  w.Family("nv_model_load_duration_secs", "Model load time in seconds", "gauge");
  for (const auto& m : models) {
    if (m.stats.load_duration_ns == 0) continue;  // not recorded for this version
    w.Sample("nv_model_load_duration_secs", ModelLabels(m),
             static_cast<double>(m.stats.load_duration_ns) / 1e9);
  }
  PerModel(w, models, "nv_cache_num_hits_per_model", "Number of cache hits per model", "counter",
           [](const S& s) { return s.cache_hit.count; });
  PerModel(w, models, "nv_cache_num_misses_per_model", "Number of cache misses per model",
           "counter", [](const S& s) { return s.cache_miss.count; });
  PerModel(w, models, "nv_cache_hit_duration_per_model",
           "Cumulative time requests spend retrieving a cached response per model on cache hits "
           "(microseconds)",
           "counter", [](const S& s) { return Micros(s.cache_hit.ns); });
  PerModel(w, models, "nv_cache_miss_duration_per_model",
           "Cumulative time requests spend looking up and inserting responses into the cache on "
           "a cache miss (microseconds)",
           "counter", [](const S& s) { return Micros(s.cache_miss.ns); });

  struct Hist {
    const char* name;
    const char* help;
    HistogramSnapshot InferenceStatsSnapshot::*field;
  };
  const Hist hists[] = {
      {"inferd_request_duration_seconds",
       "Latency of successful inference requests, end to end in the server (cache hits included)",
       &InferenceStatsSnapshot::request_duration},
      {"inferd_queue_duration_seconds",
       "Time successful requests waited for a model instance",
       &InferenceStatsSnapshot::queue_duration},
      {"inferd_compute_duration_seconds",
       "Compute time (input + infer + output) of successful requests",
       &InferenceStatsSnapshot::compute_duration},
  };
  for (const Hist& h : hists) {
    w.Family(h.name, h.help, "histogram");
    for (const auto& m : models) w.Histogram(h.name, ModelLabels(m), m.stats.*h.field);
  }
}

void CacheFamilies(PrometheusWriter& w, const CacheSnapshot& c) {
  struct Row {
    const char* name;
    const char* help;
    const char* type;
    uint64_t value;
  };
  const Row rows[] = {
      {"nv_cache_num_entries", "Number of responses stored in response cache", "gauge",
       c.entries},
      {"nv_cache_num_lookups", "Number of cache lookups in response cache", "counter",
       c.lookups},
      {"nv_cache_num_hits", "Number of cache hits in response cache", "counter", c.hits},
      {"nv_cache_num_misses", "Number of cache misses in response cache", "counter", c.misses},
      {"nv_cache_num_evictions", "Number of cache evictions in response cache", "counter",
       c.evictions},
      {"inferd_cache_insertions_total", "Number of responses inserted into the response cache",
       "counter", c.insertions},
      {"nv_cache_lookup_duration",
       "Total cache lookup duration (hit and miss), in microseconds", "counter",
       Micros(c.lookup_ns)},
      {"nv_cache_insertion_duration", "Total cache insertion duration, in microseconds",
       "counter", Micros(c.insertion_ns)},
      {"inferd_cache_used_bytes", "Bytes held by the response cache", "gauge", c.bytes_used},
      {"inferd_cache_capacity_bytes", "Byte budget of the response cache (--cache-size)", "gauge",
       c.capacity_bytes},
  };
  for (const Row& r : rows) {
    w.Family(r.name, r.help, r.type);
    w.Sample(r.name, {}, r.value);
  }
  w.Family("nv_cache_util", "Cache utilization [0.0 - 1.0]", "gauge");
  w.Sample("nv_cache_util", {},
           c.capacity_bytes == 0 ? 0.0
                                 : static_cast<double>(c.bytes_used) /
                                       static_cast<double>(c.capacity_bytes));
}

void ProcessFamilies(PrometheusWriter& w, const Exposition& e) {
  const ProcessSnapshot& p = e.process;
  w.Family("nv_cpu_utilization", "CPU utilization rate [0.0 - 1.0]", "gauge");
  w.Sample("nv_cpu_utilization", {}, p.host_cpu_utilization);
  w.Family("nv_cpu_memory_total_bytes", "CPU total memory (RAM), in bytes", "gauge");
  w.Sample("nv_cpu_memory_total_bytes", {}, p.host_memory_total_bytes);
  w.Family("nv_cpu_memory_used_bytes", "CPU used memory (RAM), in bytes", "gauge");
  w.Sample("nv_cpu_memory_used_bytes", {}, p.host_memory_used_bytes);
  w.Family("inferd_process_resident_memory_bytes", "Resident memory of the inferd process",
           "gauge");
  w.Sample("inferd_process_resident_memory_bytes", {}, p.resident_memory_bytes);
  w.Family("inferd_process_virtual_memory_bytes", "Virtual memory of the inferd process",
           "gauge");
  w.Sample("inferd_process_virtual_memory_bytes", {}, p.virtual_memory_bytes);
  w.Family("inferd_process_threads", "Threads of the inferd process", "gauge");
  w.Sample("inferd_process_threads", {}, p.threads);
  if (e.cpu_budget_threads > 0) {
    w.Family("inferd_cpu_budget_threads",
             "The CPU budget (--cpu-threads): the size of the engine thread pool every model "
             "shares, and the bound of the I/O threads",
             "gauge");
    w.Sample("inferd_cpu_budget_threads", {}, uint64_t{e.cpu_budget_threads});
  }
  w.Family("inferd_process_open_fds", "Open file descriptors of the inferd process", "gauge");
  w.Sample("inferd_process_open_fds", {}, p.open_fds);
  w.Family("inferd_process_cpu_seconds_total", "User and system CPU time of the inferd process",
           "counter");
  w.Sample("inferd_process_cpu_seconds_total", {}, p.cpu_seconds);
  w.Family("inferd_process_start_time_seconds",
           "Start time of the inferd process, seconds since the Unix epoch", "gauge");
  w.Sample("inferd_process_start_time_seconds", {}, p.start_time_seconds);
  w.Family("inferd_open_connections", "Client connections open now, per frontend", "gauge");
  for (const auto& c : e.connections) {
    w.Sample("inferd_open_connections", {{"frontend", c.frontend}}, c.open);
  }
  w.Family("inferd_connections_total", "Client connections accepted, per frontend", "counter");
  for (const auto& c : e.connections) {
    w.Sample("inferd_connections_total", {{"frontend", c.frontend}}, c.total);
  }
}

}  // namespace

std::string RenderPrometheus(const Exposition& e) {
  PrometheusWriter w;
  ModelFamilies(w, e.models);
  if (e.cache) CacheFamilies(w, *e.cache);
  ProcessFamilies(w, e);
  return w.Take();
}

}  // namespace inferd::metrics
