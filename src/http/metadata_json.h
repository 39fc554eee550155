// JSON documents of the v2 control endpoints (server and model metadata, repository index).
// Small documents, so nlohmann-json; tensors never pass through here.
#pragma once

#include <string>
#include <vector>

#include "handler/repository_index.h"
#include "server/inference_server.h"

namespace inferd::http {

std::string ServerMetadataJson(const server::ServerMetadata& m);
std::string ModelMetadataJson(const server::ModelMetadata& m);
// Triton's index shape: [{"name","version","state","reason"}], one entry per version (a model
// that failed before any version was found gets one entry without "version"); inferd adds
// "routing" and, for READY versions, "load_seconds", "memory_bytes", "first_response_us".
// Triton's statistics shape: {"model_stats":[{"name","version","last_inference",
// "inference_count","execution_count","inference_stats":{"success":{"count","ns"},…,
// "cache_hit","cache_miss"},"batch_stats":[{"batch_size","compute_input",…}]}]}.
std::string ModelStatisticsJson(const std::vector<server::ModelStatistics>& stats);
std::string RepositoryIndexJson(const std::vector<handler::IndexEntry>& entries);

}  // namespace inferd::http
