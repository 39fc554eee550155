#include "grpc/metadata_messages.h"

#include <string>

namespace inferd::grpc {
namespace {

template <typename ProtoTensor>
void FillTensor(const server::TensorMetadata& t, ProtoTensor* out) {
  out->set_name(t.name);
  out->set_datatype(std::string(DataTypeName(t.dtype)));
  for (int64_t d : t.shape) out->add_shape(d);
}

void FillDuration(const server::DurationStat& d, inference::StatisticDuration* out) {
  out->set_count(d.count);
  out->set_ns(d.ns);
}

}  // namespace

void FillServerMetadata(const server::ServerMetadata& m, inference::ServerMetadataResponse* out) {
  out->set_name(m.name);
  out->set_version(m.version);
  for (const auto& e : m.extensions) out->add_extensions(e);
}

void FillModelMetadata(const server::ModelMetadata& m, inference::ModelMetadataResponse* out) {
  out->set_name(m.name);
  for (int64_t v : m.versions) out->add_versions(std::to_string(v));
  out->set_platform(m.platform);
  for (const auto& t : m.inputs) FillTensor(t, out->add_inputs());
  for (const auto& t : m.outputs) FillTensor(t, out->add_outputs());
}

void FillRepositoryIndex(const std::vector<handler::IndexEntry>& entries,
                         inference::RepositoryIndexResponse* out) {
  for (const auto& e : entries) {
    auto* entry = out->add_models();
    entry->set_name(e.name);
    if (e.version) entry->set_version(std::to_string(*e.version));
    entry->set_state(e.state);
    entry->set_reason(e.reason);
  }
}

void FillModelStatistics(const std::vector<server::ModelStatistics>& stats,
                         inference::ModelStatisticsResponse* out) {
  for (const auto& s : stats) {
    auto* m = out->add_model_stats();
    m->set_name(s.name);
    m->set_version(std::to_string(s.version));
    m->set_last_inference(s.last_inference_ms);
    m->set_inference_count(s.inference_count);
    m->set_execution_count(s.execution_count);
    auto* infer = m->mutable_inference_stats();
    FillDuration(s.success, infer->mutable_success());
    FillDuration(s.fail, infer->mutable_fail());
    FillDuration(s.queue, infer->mutable_queue());
    FillDuration(s.compute_input, infer->mutable_compute_input());
    FillDuration(s.compute_infer, infer->mutable_compute_infer());
    FillDuration(s.compute_output, infer->mutable_compute_output());
    FillDuration(s.cache_hit, infer->mutable_cache_hit());
    FillDuration(s.cache_miss, infer->mutable_cache_miss());
    for (const auto& b : s.batch_stats) {
      auto* batch = m->add_batch_stats();
      batch->set_batch_size(b.batch_size);
      FillDuration(b.compute_input, batch->mutable_compute_input());
      FillDuration(b.compute_infer, batch->mutable_compute_infer());
      FillDuration(b.compute_output, batch->mutable_compute_output());
    }
  }
}

}  // namespace inferd::grpc
