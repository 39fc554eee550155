// InProcessEngine: `inferd predict` without a network: the same InferenceServer facade that
// `inferd serve` wires (repository, scheduler, dynamic batcher, classification), created for the
// one model being scored, inside the same CPU budget (--cpu-threads).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "batch/predict_engine.h"
#include "server/inference_server.h"

namespace inferd::batch {

class InProcessEngine final : public PredictEngine {
 public:
  // `options` as for serve; the model is loaded in explicit mode, alone.
  static Result<std::unique_ptr<InProcessEngine>> Create(server::InferenceServer::Options options,
                                                         const std::string& model);
  ~InProcessEngine() override;

  Result<ModelSpec> Describe(const std::string& model) override;
  void Infer(InferenceRequest request, Done done) override;

 private:
  explicit InProcessEngine(std::unique_ptr<server::InferenceServer> server)
      : server_(std::move(server)) {}
  std::unique_ptr<server::InferenceServer> server_;
};

// The ModelSpec of a model's metadata (shapes with the batch dim) and max_batch_size.
ModelSpec SpecFromMetadata(const server::ModelMetadata& metadata, int64_t max_batch_size);

}  // namespace inferd::batch
