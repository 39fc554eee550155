// InferenceServer: the one facade every frontend (HTTP, gRPC) calls. It owns the engine backend
// and the model repository, answers health and metadata questions, and runs inference by
// validating a request against its model's config and handing it to that model's scheduler.
// Thread-safe. Infer never blocks on inference: completion arrives through the callback.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "config/model_config.pb.h"
#include "core/inference_request.h"
#include "metrics/inference_stats.h"
#include "repository/model_repository.h"

namespace inferd::server {

struct TensorMetadata {
  std::string name;
  DataType dtype = DataType::kInvalid;
  Shape shape;  // full shape: -1 for the batch dim and for variable dims
};

struct ModelMetadata {
  std::string name;
  std::vector<int64_t> versions;  // READY versions, ascending
  std::string platform;
  std::vector<TensorMetadata> inputs;
  std::vector<TensorMetadata> outputs;
};

struct ServerMetadata {
  std::string name;
  std::string version;
  std::vector<std::string> extensions;
};

using DurationStat = metrics::DurationStat;

// One model version's statistics (the statistics extension's shape).
struct ModelStatistics {
  std::string name;
  int64_t version = 0;
  uint64_t last_inference_ms = 0;
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  DurationStat success, fail, queue, compute_input, compute_infer, compute_output;
};

using InferCallback = std::function<void(Result<InferenceResponse>)>;

class InferenceServer {
 public:
  struct Options {
    std::filesystem::path model_repository;  // Triton-layout repository directory
    unsigned cpu_cores = 0;                  // cores for engine thread sizing; 0 = detect
  };

  // Creates the backend and loads every model in the repository. Fails only when the server
  // cannot run at all (no repository, no engine); a model that fails to load is reported
  // through the repository index and does not fail Create.
  static Result<std::unique_ptr<InferenceServer>> Create(const Options& options);
  ~InferenceServer();

  bool IsLive() const;
  // Ready when the repository scan has finished; models that failed to load do not make the
  // server unready (they are visible per model and in the index), so one bad model does not
  // take a whole replica out of a load balancer.
  bool IsReady() const;
  ServerMetadata Metadata() const;

  Result<ModelMetadata> GetModelMetadata(std::string_view name, int64_t version) const;
  Result<config::ModelConfig> GetModelConfig(std::string_view name, int64_t version) const;
  Result<std::string> GetModelConfigJson(std::string_view name, int64_t version) const;
  // OK when the version (0: any version) is READY; NOT_FOUND / UNAVAILABLE otherwise.
  Status ModelReady(std::string_view name, int64_t version) const;
  std::vector<repository::ModelStatus> RepositoryIndex() const;
  // Explicit model control (the repository extension).
  Status LoadModel(std::string_view name);
  Status UnloadModel(std::string_view name);
  // Statistics of READY versions: every model when `name` is empty; every READY version of
  // `name` when `version` is 0.
  Result<std::vector<ModelStatistics>> GetModelStatistics(std::string_view name,
                                                          int64_t version) const;

  // Validates `request` and queues it on its model. `done` is called exactly once: on the
  // calling thread for errors found before queueing, otherwise on a worker thread.
  void Infer(InferenceRequest request, InferCallback done);

 private:
  InferenceServer() = default;

  std::unique_ptr<backends::Backend> backend_;
  std::unique_ptr<repository::ModelRepository> repository_;
};

}  // namespace inferd::server
