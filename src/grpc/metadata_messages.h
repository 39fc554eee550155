// Fills the gRPC protocol's health, metadata, repository and statistics response messages from
// the InferenceServer facade's answers. Pure functions; InferenceService calls them.
#pragma once

#include <vector>

#include "grpc/grpc_service.pb.h"
#include "repository/model_repository.h"
#include "server/inference_server.h"

namespace inferd::grpc {

void FillServerMetadata(const server::ServerMetadata& m, inference::ServerMetadataResponse* out);
void FillModelMetadata(const server::ModelMetadata& m, inference::ModelMetadataResponse* out);
// One entry per model version (per model when it has no versions); READY ones only if
// `ready_only`, as the HTTP index does.
void FillRepositoryIndex(const std::vector<repository::ModelStatus>& models, bool ready_only,
                         inference::RepositoryIndexResponse* out);
void FillModelStatistics(const std::vector<server::ModelStatistics>& stats,
                         inference::ModelStatisticsResponse* out);

}  // namespace inferd::grpc
