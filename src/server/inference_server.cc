#include "server/inference_server.h"

#include "backends/backend_plugin.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "config/model_config.h"
#include "metrics/prometheus_exposition.h"
#include "core/block_pool.h"
#include "core/duration.h"
#include "server/classification.h"
#include "server/request_validator.h"
#include "server/version.h"

namespace inferd::server {
namespace {

template <typename Spec>
TensorMetadata ToMetadata(const config::ModelConfig& cfg, const Spec& spec) {
  TensorMetadata m;
  m.name = spec.name();
  m.dtype = config::FromProtoDataType(spec.data_type());
  m.shape = config::FullDims(cfg, spec.dims());
  return m;
}


// A queued request's completion: statistics, the response cache and the observation, then the
// frontend's callback. A named type rather than a lambda for its operator new: it is too large
// for std::function's inline storage, and libstdc++ makes such a callable with a new-expression,
// which takes the class's own allocation function, here a free list that steady traffic keeps
// reusing (one fewer heap allocation per request).
struct QueuedCompletion {
  std::shared_ptr<const repository::ServableModel> pin;
  metrics::InferenceStats* stats = nullptr;
  cache::ResponseCache* cache = nullptr;
  std::optional<cache::CacheKey> key = std::nullopt;
  uint64_t lookup_ns = 0;
  std::shared_ptr<InferObservation> observation = nullptr;
  InferCallback done = nullptr;

  void operator()(Result<InferenceResponse> r) const {
    stats->AddPending(-1);
    const metrics::RequestTimings timings = metrics::InferenceStats::TakeLastRecordedTimings();
    if (observation && r.ok()) observation->timings = timings;
    if (key) {
      uint64_t miss_ns = lookup_ns;
      if (r.ok()) {  // errors are never cached
        const auto start = scheduling::SteadyClock::now();
        cache->Insert(*key, *r);
        miss_ns += NanosSince(start);
      }
      stats->RecordCacheMiss(miss_ns);
    }
    done(std::move(r));
  }

  static void* operator new(size_t size);
  static void operator delete(void* block, size_t size);
};

using CompletionBlocks = BlockPool<sizeof(QueuedCompletion)>;
void* QueuedCompletion::operator new(size_t size) { return CompletionBlocks::Allocate(size); }
void QueuedCompletion::operator delete(void* block, size_t size) {
  CompletionBlocks::Free(block, size);
}

}  // namespace

Result<std::unique_ptr<InferenceServer>> InferenceServer::Create(const Options& options) {
  std::unique_ptr<InferenceServer> server(new InferenceServer());
  server->request_limits_ = options.request_limits;
  ASSIGN_OR_RETURN(server->backends_,
                   backends::BackendRegistry::Create(
                       {.factories = options.backend_directory.empty()
                                         ? backends::BuiltinBackends()
                                         : backends::BuiltinBackends(options.backend_directory),
                        .engine_threads = static_cast<int>(options.cpu_cores),
                        .backend_config = options.backend_config}));
  server->cpu_budget_threads_ = options.cpu_cores;
  spdlog::info("backends: {} (plugins loaded on first use from {})",
               server->backends_->Describe(),
               options.backend_directory.empty()
                   ? backends::DefaultBackendDirectory().string()
                   : options.backend_directory.string());
  if (options.cache_size_bytes > 0) {
    ASSIGN_OR_RETURN(server->cache_,
                     cache::ResponseCache::Create({.capacity_bytes = options.cache_size_bytes}));
    spdlog::info("response cache: {} bytes", options.cache_size_bytes);
  }
  repository::ModelRepository::Options repo_options;
  repo_options.root = options.model_repository;
  for (const std::string& location : options.model_repositories) {
    ASSIGN_OR_RETURN(auto source,
                     repository::OpenRepositorySource(location, options.repository_sources));
    // A first sync that fails stops the start: nothing was ever downloaded to serve.
    Status synced = source->Sync();
    if (!synced.ok()) return synced.WithContext(fmt::format("model repository '{}'", location));
    repo_options.sources.push_back(source.get());
    server->sources_.push_back(std::move(source));
  }
  repo_options.backends = server->backends_.get();
  repo_options.control_mode = options.control_mode;
  repo_options.startup_models = options.startup_models;
  repo_options.lazy_load = options.lazy_load;
  repo_options.memory_budget_bytes = options.model_memory_budget_bytes;
  repo_options.poll_interval_seconds = options.repository_poll_seconds;
  repo_options.cpu_cores = options.cpu_cores;
  // An ensemble's steps are requests to its composing models, through this same facade (so
  // on-demand loads, response caches and each model's statistics apply to steps too).
  repo_options.run_ensemble_step = [s = server.get()](InferenceRequest request,
                                                      InferCallback done) {
    if (s->models_stopping_.load()) return done(Unavailable("the server is shutting down"));
    s->Infer(std::move(request), std::move(done));
  };
  ASSIGN_OR_RETURN(server->repository_, repository::ModelRepository::Create(repo_options));
  server->repository_->Start();
  return server;
}

void InferenceServer::StopModels() {
  models_stopping_.store(true);
  repository_.reset();
}

InferenceServer::~InferenceServer() {
  models_stopping_.store(true);
  // Models (and their worker threads) go before the engine they run on.
  repository_.reset();
  backends_.reset();
}

bool InferenceServer::IsLive() const { return true; }

bool InferenceServer::IsReady() const { return repository_ != nullptr && !draining_.load(); }

ServerMetadata InferenceServer::Metadata() const {
  // Triton's extension names, for every protocol extension inferd implements.
  return ServerMetadata{"inferd",
                        std::string(kVersion),
                        {"classification", "sequence", "model_repository",
                         "model_repository(unload_dependents)", "schedule_policy",
                         "model_configuration", "system_shared_memory", "binary_tensor_data",
                         "parameters", "statistics", "trace", "logging"}};
}

Result<ModelMetadata> InferenceServer::GetModelMetadata(std::string_view name,
                                                        int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  ASSIGN_OR_RETURN(auto status, repository_->GetModelStatus(name));
  const config::ModelConfig& cfg = model->config();
  ModelMetadata m;
  m.name = model->name();
  for (const auto& v : status.versions) {
    if (v.state == repository::ModelState::kReady) m.versions.push_back(v.version);
  }
  m.platform = cfg.platform();
  for (const auto& in : cfg.input()) m.inputs.push_back(ToMetadata(cfg, in));
  for (const auto& out : cfg.output()) m.outputs.push_back(ToMetadata(cfg, out));
  return m;
}

Result<config::ModelConfig> InferenceServer::GetModelConfig(std::string_view name,
                                                            int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  return model->config();
}

Result<std::string> InferenceServer::GetModelConfigJson(std::string_view name,
                                                        int64_t version) const {
  ASSIGN_OR_RETURN(auto model, repository_->Get(name, version));
  return config::ModelConfigToJson(model->config());
}

namespace {

Status CheckExplicitMode(const repository::ModelRepository& repo) {
  if (repo.control_mode() == repository::ControlMode::kExplicit) return Status::Ok();
  return Unavailable(
      "explicit model load / unload is not allowed unless the server runs with "
      "--model-control-mode explicit");
}

}  // namespace

namespace {

// A load request's config override names the model file before the config is validated (that
// happens after auto-complete, which reads the file): refuse any name that leaves the model's
// directory first, so a request can never make the engine open a file outside the repository.
Status CheckOverrideFiles(const config::ModelConfig& cfg) {
  const std::string& name = cfg.default_model_filename();
  if (name.empty()) return Status::Ok();
  const std::filesystem::path path(name);
  const bool climbs =
      std::any_of(path.begin(), path.end(), [](const auto& part) { return part == ".."; });
  if (path.is_absolute() || climbs) {
    return InvalidArgument(fmt::format(
        "config override: default_model_filename '{}' must be a relative path inside the model "
        "directory",
        name));
  }
  return Status::Ok();
}

}  // namespace

Status InferenceServer::LoadModel(std::string_view name,
                                  const std::optional<std::string>& config_json) {
  RETURN_IF_ERROR(CheckExplicitMode(*repository_));
  if (!config_json) return repository_->LoadModel(name);
  ASSIGN_OR_RETURN(auto cfg, config::ModelConfigFromJson(*config_json));
  RETURN_IF_ERROR(CheckOverrideFiles(cfg));
  return repository_->LoadModel(name, cfg);
}

Status InferenceServer::UnloadModel(std::string_view name) {
  RETURN_IF_ERROR(CheckExplicitMode(*repository_));
  return repository_->UnloadModel(name);
}

Result<repository::RoutingPolicy> InferenceServer::GetRouting(std::string_view name) const {
  return repository_->GetRouting(name);
}

Status InferenceServer::SetRouting(std::string_view name,
                                   const repository::RoutingPolicy& policy) {
  return repository_->SetRouting(name, policy);
}

Result<repository::RoutingPolicy> InferenceServer::Rollback(std::string_view name) {
  return repository_->Rollback(name);
}

Result<std::vector<ModelStatistics>> InferenceServer::GetModelStatistics(std::string_view name,
                                                                         int64_t version) const {
  std::vector<repository::ModelStatus> models;
  if (name.empty()) {
    models = repository_->Index();
  } else {
    ASSIGN_OR_RETURN(auto status, repository_->GetModelStatus(name));
    models.push_back(std::move(status));
  }
  std::vector<ModelStatistics> out;
  for (const auto& m : models) {
    for (const auto& v : m.versions) {
      if (version > 0 && v.version != version) continue;
      auto model = repository_->Get(m.name, v.version);
      if (!model.ok()) continue;  // not READY: no statistics
      metrics::InferenceStatsSnapshot s = (*model)->stats().Snapshot();
      ModelStatistics st;
      st.name = m.name;
      st.version = v.version;
      st.last_inference_ms = s.last_inference_ms;
      st.inference_count = s.inference_count;
      st.execution_count = s.execution_count;
      st.success = s.success;
      st.fail = s.fail;
      st.queue = s.queue;
      st.compute_input = s.compute_input;
      st.compute_infer = s.compute_infer;
      st.compute_output = s.compute_output;
      st.cache_hit = s.cache_hit;
      st.cache_miss = s.cache_miss;
      st.batch_stats = std::move(s.batch_stats);
      out.push_back(std::move(st));
    }
  }
  if (!name.empty() && version > 0 && out.empty()) {
    return NotFound(fmt::format("model '{}' has no READY version {}", name, version));
  }
  return out;
}

Status InferenceServer::ModelReady(std::string_view name, int64_t version) const {
  auto model = repository_->Get(name, version);
  return model.ok() ? Status::Ok() : model.status();
}

std::vector<repository::ModelStatus> InferenceServer::RepositoryIndex() const {
  return repository_->Index(/*with_unloaded=*/true);
}

void InferenceServer::Infer(InferenceRequest request, InferCallback done,
                            std::shared_ptr<InferObservation> observation) {
  if (Status s = CheckRequestLimits(request, request_limits_); !s.ok()) {
    done(s);
    return;
  }
  auto model = repository_->Get(request.model_name, request.model_version);
  if (!model.ok()) {
    if (model.status().code() != StatusCode::kInvalidArgument &&
        repository_->CanLoadOnDemand(request.model_name)) {
      // Scale from zero: the request waits for the load (on the loader thread), then runs.
      // Its deadline, if any, still applies once it reaches the scheduler.
      std::string name = request.model_name;
      repository_->LoadOnDemand(
          name, [this, request = std::move(request), done = std::move(done),
                 observation = std::move(observation)](Status loaded) mutable {
            if (!loaded.ok()) return done(loaded);
            Infer(std::move(request), std::move(done), std::move(observation));
          });
      return;
    }
    done(model.status());
    return;
  }
  (*model)->Touch();  // a use: for idle unloading and least-recently-used eviction
  auto classifications = RequestedClassifications(request);
  if (!classifications.ok()) return done(classifications.status());
  if (!classifications->empty()) {
    // The classification extension: top-k (with labels) replaces the raw scores on the way out.
    done = [pin = *model, requested = std::move(classifications).value(),
            done = std::move(done)](Result<InferenceResponse> r) {
      if (r.ok()) {
        Status s = ApplyClassifications(requested, pin->config().max_batch_size() > 0,
                                        pin->labels(), *r);
        if (!s.ok()) return done(s);
      }
      done(std::move(r));
    };
  }
  if ((*model)->first_response_us() < 0) {
    // Cold start: record how long this version's first answer took.
    done = [pin = *model, start = scheduling::SteadyClock::now(),
            done = std::move(done)](Result<InferenceResponse> r) {
      if (r.ok()) {
        pin->RecordFirstResponse(std::chrono::duration_cast<std::chrono::microseconds>(
                                     scheduling::SteadyClock::now() - start)
                                     .count());
      }
      done(std::move(r));
    };
  }
  if (observation) observation->resolved_version = (*model)->version();
  if (!cache_ || !(*model)->config().response_cache().enable()) {
    Enqueue(std::move(model).value(), std::move(request), std::move(done),
            std::move(observation), std::nullopt, 0);
    return;
  }
  // Cache lookup before validation: a key that matches was a valid, successful request.
  const auto received = scheduling::SteadyClock::now();
  cache::CacheKey key = cache::ComputeCacheKey(request, (*model)->version());
  std::optional<InferenceResponse> hit = cache_->Lookup(key);
  const uint64_t lookup_ns = NanosSince(received);
  if (observation) observation->cache_used = true;
  if (hit) {
    hit->id = request.id;
    hit->model_name = (*model)->name();
    hit->model_version = (*model)->version();
    (*model)->stats().RecordCacheHit(lookup_ns, NanosSince(received));
    if (observation) observation->cache_hit = true;
    done(std::move(hit).value());
    return;
  }
  Enqueue(std::move(model).value(), std::move(request), std::move(done), std::move(observation),
          std::move(key), lookup_ns);
}

void InferenceServer::Enqueue(std::shared_ptr<const repository::ServableModel> model,
                              InferenceRequest request, InferCallback done,
                              std::shared_ptr<InferObservation> observation,
                              std::optional<cache::CacheKey> key, uint64_t lookup_ns) {
  const auto received = scheduling::SteadyClock::now();
  auto validated = ValidateRequest(model->config(), request);
  if (!validated.ok()) {
    model->stats().RecordFailure(0);
    if (key) model->stats().RecordCacheMiss(lookup_ns);
    done(validated.status());
    return;
  }
  metrics::InferenceStats* stats = &model->stats();
  auto payload = std::make_unique<scheduling::InferencePayload>();
  payload->model_version = model->version();
  payload->output_names = std::move(validated->output_names);
  payload->batch_size = validated->batch_size;
  payload->enqueue_time = received;
  payload->stats = stats;
  stats->AddPending(1);
  // The payload pins the model version until the response is delivered. The scheduler
  // records a success on this thread just before calling done (see InferenceStats).
  payload->done = QueuedCompletion{.pin = model,
                                   .stats = stats,
                                   .cache = cache_.get(),
                                   .key = std::move(key),
                                   .lookup_ns = lookup_ns,
                                   .observation = std::move(observation),
                                   .done = std::move(done)};
  payload->request = std::move(request);
  model->scheduler().Enqueue(std::move(payload));
}

std::string InferenceServer::MetricsText() const {
  metrics::Exposition e;
  for (const auto& m : repository_->Index()) {
    for (const auto& v : m.versions) {
      auto model = repository_->Get(m.name, v.version);
      if (!model.ok()) continue;  // only READY versions have statistics
      metrics::ModelSample sample{m.name, v.version, (*model)->stats().Snapshot()};
      if (sample.stats.load_duration_ns == 0) {
        sample.stats.load_duration_ns =
            static_cast<uint64_t>((*model)->cost().load_seconds * 1e9);
      }
      e.models.push_back(std::move(sample));
    }
  }
  if (cache_) e.cache = cache_->Stats();
  e.process = process_sampler_.Sample();
  e.cpu_budget_threads = cpu_budget_threads_;
  e.connections.push_back({"http", http_connections_.open(), http_connections_.total()});
  e.connections.push_back({"grpc", grpc_connections_.open(), grpc_connections_.total()});
  return metrics::RenderPrometheus(e);
}

}  // namespace inferd::server
