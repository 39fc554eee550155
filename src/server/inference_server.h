// InferenceServer: the one facade every frontend (HTTP, gRPC) calls. It owns the engines
// (BackendRegistry) and the model repository, answers health and metadata questions, and runs
// inference by validating a request against its model's config and handing it to that model's
// scheduler — or answering it from the response cache when the model enables it. It also
// gathers every model's statistics into the Prometheus exposition (MetricsText).
// Thread-safe. Infer never blocks on inference: completion arrives through the callback.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/backend_registry.h"
#include "cache/response_cache.h"
#include "config/model_config.pb.h"
#include "core/inference_request.h"
#include "metrics/connection_stats.h"
#include "metrics/inference_stats.h"
#include "metrics/process_metrics.h"
#include "repository/model_repository.h"
#include "server/request_validator.h"

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
using BatchStat = metrics::BatchStat;

// One model version's statistics (the statistics extension's shape).
struct ModelStatistics {
  std::string name;
  int64_t version = 0;
  uint64_t last_inference_ms = 0;
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  DurationStat success, fail, queue, compute_input, compute_infer, compute_output;
  DurationStat cache_hit;   // answered from the response cache; ns = lookup time
  DurationStat cache_miss;  // looked up and missed; ns = lookup + insertion time
  std::vector<BatchStat> batch_stats;  // per executed batch size, ascending
};

using InferCallback = std::function<void(Result<InferenceResponse>)>;

// What happened to one request inside the facade, for traces and access logs. Filled before
// the InferCallback runs; read it from the callback or after.
struct InferObservation {
  bool cache_used = false;  // the model enables the cache and the server has one
  bool cache_hit = false;
  int64_t resolved_version = 0;  // the version that answered; 0 when none was found
  metrics::RequestTimings timings;  // queue and compute stages; zero on hits and errors
};

class InferenceServer {
 public:
  struct Options {
    std::filesystem::path model_repository;  // Triton-layout repository directory (or none)
    // More repositories: local directories or s3://bucket/prefix (repository::OpenRepositorySource),
    // searched after model_repository in order; each is synced once before Create returns.
    std::vector<std::string> model_repositories;
    repository::RepositorySourceOptions repository_sources;  // the S3 cache and endpoint
    // Where the engine plugins are (libinferd_backend_<name>.so); empty = the default
    // (backends::DefaultBackendDirectory()). Triton's --backend-directory.
    std::filesystem::path backend_directory;
    // The CPU budget (--cpu-threads): engines share one pool of this many threads; 0 = the
    // cores this process may run on.
    unsigned cpu_cores = 0;
    backends::BackendConfig backend_config = {};  // --backend-config entries
    uint64_t cache_size_bytes = 0;           // response cache budget in bytes; 0 = no cache
    // Model lifecycle (see repository::ModelRepository::Options).
    repository::ControlMode control_mode = repository::ControlMode::kNone;
    std::vector<std::string> startup_models;  // explicit mode: loaded at start; "*" = all
    bool lazy_load = false;                   // models on disk load on their first request
    uint64_t model_memory_budget_bytes = 0;   // 0 = unlimited
    int repository_poll_seconds = 15;         // poll mode: seconds between rescans
    RequestLimits request_limits;             // per-request size limits (see RequestLimits)
  };

  // Creates the engine registry and loads every model in the repository. Fails only when the server
  // cannot run at all (no repository, no engine); a model that fails to load is reported
  // through the repository index and does not fail Create.
  static Result<std::unique_ptr<InferenceServer>> Create(const Options& options);
  ~InferenceServer();

  // Shutdown, after the frontends stopped taking requests: unloads every model (queued requests
  // finish and their callbacks run). Nothing but destruction may follow; the counters the
  // frontends' closing connections report to stay valid until then.
  void StopModels();

  bool IsLive() const;
  // Ready when the repository scan has finished; models that failed to load do not make the
  // server unready (they are visible per model and in the index), so one bad model does not
  // take a whole replica out of a load balancer.
  bool IsReady() const;
  // Shutdown has begun: readiness turns false at once (so load balancers stop sending), while
  // requests keep being served until the frontends stop. Irreversible; thread-safe.
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  ServerMetadata Metadata() const;

  Result<ModelMetadata> GetModelMetadata(std::string_view name, int64_t version) const;
  Result<config::ModelConfig> GetModelConfig(std::string_view name, int64_t version) const;
  Result<std::string> GetModelConfigJson(std::string_view name, int64_t version) const;
  // OK when the version (0: any version) is READY; NOT_FOUND / UNAVAILABLE otherwise.
  Status ModelReady(std::string_view name, int64_t version) const;
  std::vector<repository::ModelStatus> RepositoryIndex() const;
  // Explicit model control (the repository extension).
  // Explicit model control (the repository extension); as in Triton, only in explicit mode.
  // `config_json`: a config override as JSON (Triton's load API "config" parameter).
  Status LoadModel(std::string_view name,
                   const std::optional<std::string>& config_json = std::nullopt);
  Status UnloadModel(std::string_view name);
  // Traffic between a model's versions (routing extension, inferd's own).
  Result<repository::RoutingPolicy> GetRouting(std::string_view name) const;
  Status SetRouting(std::string_view name, const repository::RoutingPolicy& policy);
  Result<repository::RoutingPolicy> Rollback(std::string_view name);
  // Statistics of READY versions: every model when `name` is empty; every READY version of
  // `name` when `version` is 0.
  Result<std::vector<ModelStatistics>> GetModelStatistics(std::string_view name,
                                                          int64_t version) const;

  // Validates `request` and queues it on its model. `done` is called exactly once: on the
  // calling thread for errors found before queueing, otherwise on a worker thread.
  // `observation`, when given, is filled in before `done` runs.
  void Infer(InferenceRequest request, InferCallback done,
             std::shared_ptr<InferObservation> observation = nullptr);

  // The Prometheus text exposition of every READY model version, the response cache, the
  // process and the frontends' connections (docs/observability.md lists the metrics).
  std::string MetricsText() const;
  // Frontends count their connections here.
  metrics::ConnectionStats& http_connections() { return http_connections_; }
  metrics::ConnectionStats& grpc_connections() { return grpc_connections_; }
  // The response cache; null when --cache-size is 0.
  const cache::ResponseCache* response_cache() const { return cache_.get(); }

 private:
  InferenceServer() = default;
  void Enqueue(std::shared_ptr<const repository::ServableModel> model, InferenceRequest request,
               InferCallback done, std::shared_ptr<InferObservation> observation,
               std::optional<cache::CacheKey> key, uint64_t lookup_ns);

  std::unique_ptr<backends::BackendRegistry> backends_;
  std::unique_ptr<cache::ResponseCache> cache_;
  // Declared before repository_, which reads from them, so that they outlive it.
  std::vector<std::unique_ptr<repository::RepositorySource>> sources_;
  std::unique_ptr<repository::ModelRepository> repository_;
  metrics::ConnectionStats http_connections_, grpc_connections_;
  mutable metrics::ProcessSampler process_sampler_;
  unsigned cpu_budget_threads_ = 0;
  std::atomic<bool> draining_{false};
  // Set before the repository goes: ensemble steps finishing then start no further steps.
  std::atomic<bool> models_stopping_{false};
  RequestLimits request_limits_;
};

}  // namespace inferd::server
