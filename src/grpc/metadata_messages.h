// Fills the gRPC protocol's health, metadata, repository and statistics response messages from
// the InferenceServer facade's answers. Pure functions; InferenceService calls them.
#pragma once

#include <vector>

#include "grpc/grpc_service.pb.h"
#include "handler/repository_index.h"
#include "server/inference_server.h"

namespace inferd::grpc {

void FillServerMetadata(const server::ServerMetadata& m, inference::ServerMetadataResponse* out);
void FillModelMetadata(const server::ModelMetadata& m, inference::ModelMetadataResponse* out);
// The index entries as the protocol's ModelIndex messages (no version: an empty version).
void FillRepositoryIndex(const std::vector<handler::IndexEntry>& entries,
                         inference::RepositoryIndexResponse* out);
void FillModelStatistics(const std::vector<server::ModelStatistics>& stats,
                         inference::ModelStatisticsResponse* out);

}  // namespace inferd::grpc
