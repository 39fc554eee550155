#include "repository/model_repository.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <system_error>

#include "config/ensemble_config.h"
#include "config/model_config.h"
#include "config/model_config_parser.h"
#include "repository/ensemble_loader.h"
#include "repository/version_loader.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

bool ValidModelName(std::string_view name) {
  return !name.empty() && name[0] != '.' && name.find('/') == std::string_view::npos &&
         name.find('\\') == std::string_view::npos;
}

uint64_t Draw() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng();
}

}  // namespace

Result<ControlMode> ParseControlMode(std::string_view text) {
  if (text == "none") return ControlMode::kNone;
  if (text == "poll") return ControlMode::kPoll;
  if (text == "explicit") return ControlMode::kExplicit;
  return InvalidArgument(
      fmt::format("model control mode '{}': expected none, poll or explicit", text));
}

Result<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options) {
  if (options.backends == nullptr) return InvalidArgument("model repository needs backends");
  std::error_code ec;
  if (options.root.empty() && options.sources.empty()) {
    return InvalidArgument("no model repository given");
  }
  if (!options.root.empty() && !fs::is_directory(options.root, ec)) {
    return NotFound(fmt::format("model repository '{}' is not a directory", options.root.string()));
  }
  return std::unique_ptr<ModelRepository>(new ModelRepository(options));
}

ModelRepository::~ModelRepository() {
  on_demand_.reset();  // finishes the load in progress; waiting requests get UNAVAILABLE
  {
    MutexLock lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.NotifyAll();
  if (maintenance_.joinable()) maintenance_.join();
  // Versions go now (to the unloader); the unloader, destroyed last, waits for their requests.
  MutexLock lock(mu_);
  models_.clear();
}

std::vector<fs::path> ModelRepository::Roots() const {
  std::vector<fs::path> roots;
  if (!options_.root.empty()) roots.push_back(options_.root);
  for (const RepositorySource* source : options_.sources) roots.push_back(source->LocalRoot());
  return roots;
}

fs::path ModelRepository::ModelDir(std::string_view name) const {
  const std::vector<fs::path> roots = Roots();
  std::error_code ec;
  for (const auto& root : roots) {
    if (fs::is_directory(root / name, ec)) return root / name;
  }
  return roots.empty() ? fs::path(name) : roots.front() / name;
}

void ModelRepository::SyncSources() {
  MutexLock lock(sync_mu_);
  for (RepositorySource* source : options_.sources) {
    Status s = source->Sync();
    if (!s.ok()) {
      spdlog::warn("model repository {}: {} (serving what it had)", source->Location(),
                   s.message());
    }
  }
}

std::vector<std::string> ModelRepository::ModelDirectories() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& root : Roots()) {
    for (const auto& entry : fs::directory_iterator(root, ec)) {
      const std::string n = entry.path().filename().string();
      if (entry.is_directory(ec) && ValidModelName(n)) names.push_back(n);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

void ModelRepository::Start() {
  SyncSources();
  std::vector<std::string> names;
  if (options_.control_mode != ControlMode::kExplicit) {
    names = ModelDirectories();
  } else {
    for (const auto& n : options_.startup_models) {
      if (n == "*") {
        names = ModelDirectories();
        break;
      }
      names.push_back(n);
    }
  }
  for (const auto& name : names) {
    if (Get(name, 0).ok()) continue;  // loaded already, as an ensemble's composing model
    Status s = LoadModel(name);
    if (s.code() == StatusCode::kNotFound) spdlog::error("{}", s.message());
  }
  started_ = true;
  maintenance_ = std::thread([this] { MaintenanceLoop(); });
}

namespace {

// Ensembles and processors (backends without a default model file) have no files to load.
bool NeedsNoFiles(const backends::BackendRegistry& registry, const config::ModelConfig& config) {
  if (config::IsEnsemble(config)) return true;
  const auto* factory = config.backend().empty() ? nullptr : registry.Find(config.backend());
  return factory != nullptr && factory->default_model_filename.empty() &&
         config.default_model_filename().empty();
}

}  // namespace

ModelRepository::ModelEntry ModelRepository::LoadEntry(
    const std::string& name, const std::optional<config::ModelConfig>& config_override) {
  ModelEntry entry;
  entry.status.name = name;
  const fs::path dir = ModelDir(name);
  entry.fingerprint = ModelFingerprint(dir);
  auto fail = [&](const Status& s) {
    entry.status.state = ModelState::kUnavailable;
    entry.status.reason = s.message();
    return std::move(entry);
  };

  config::ModelConfig base;
  const fs::path config_path = dir / "config.pbtxt";
  std::error_code ec;
  if (config_override) {
    base = *config_override;
  } else if (fs::exists(config_path, ec)) {
    auto parsed = config::ReadModelConfigFile(config_path);
    if (!parsed.ok()) return fail(parsed.status());
    base = std::move(parsed).value();
  }
  if (auto routing = config::GetParameter(base, "routing")) {
    auto policy = ParseRoutingPolicy(*routing);
    if (!policy.ok()) return fail(policy.status());
    entry.routing = *policy;
    entry.routing_from_config = true;
  }

  std::vector<int64_t> available = ListVersions(dir);
  const bool ensemble = config::IsEnsemble(base);
  if (available.empty() && NeedsNoFiles(*options_.backends, base)) {
    available.push_back(1);  // an ensemble or a processor: version 1 without a folder
  }
  if (available.empty()) {
    return fail(
        NotFound(fmt::format("no version folders (e.g. {}/1/<model file>) found", dir.string())));
  }
  const std::vector<int64_t> selected = config::SelectVersions(base.version_policy(), available);
  if (selected.empty()) {
    return fail(NotFound(fmt::format("the version policy selects none of the versions [{}]",
                                     fmt::join(available, ", "))));
  }
  backends::Backend* backend = nullptr;
  if (ensemble) {
    config::ModelConfig named = base;
    if (named.name().empty()) named.set_name(name);
    auto composing = EnsembleComposingModels([this](std::string_view n) { return ModelDir(n); }, named);
    if (!composing.ok()) return fail(composing.status());
  } else {
    auto selected_backend = options_.backends->Select(base, dir);
    if (!selected_backend.ok()) return fail(selected_backend.status());
    backend = *selected_backend;
  }
  const VersionLoadOptions load_options{backend, options_.cpu_cores};
  const EnsembleLoadOptions ensemble_options{
      .run_step = options_.run_ensemble_step,
      .composing_model = [this](const std::string& model, int64_t version) {
        return Get(model, version);
      }};
  for (int64_t version : selected) {
    VersionEntry v;
    v.status.version = version;
    auto servable = ensemble ? LoadEnsembleVersion(dir, name, version, base, ensemble_options)
                             : LoadModelVersion(dir, name, version, base, load_options);
    if (servable.ok()) {
      v.status.state = ModelState::kReady;
      v.status.load_seconds = (*servable)->cost().load_seconds;
      v.status.memory_bytes = (*servable)->cost().memory_bytes;
      v.servable = unloader_.Adopt(std::move(servable).value());
    } else {
      v.status.state = ModelState::kUnavailable;
      v.status.reason = servable.status().message();
    }
    entry.versions[version] = std::move(v);
  }
  return entry;
}

Status ModelRepository::LoadModel(std::string_view name_view,
                                  const std::optional<config::ModelConfig>& config_override) {
  const std::string name(name_view);
  if (!ValidModelName(name)) return InvalidArgument(fmt::format("invalid model name '{}'", name));
  if (options_.control_mode == ControlMode::kExplicit && started_ && !options_.sources.empty()) {
    SyncSources();
  }
  std::error_code ec;
  if (!fs::is_directory(ModelDir(name), ec)) {
    return NotFound(fmt::format("model '{}' is not in the model repository", name));
  }
  LoadComposingModels(name, config_override);
  MutexLock load_lock(load_mu_);
  if (options_.memory_budget_bytes > 0) {
    auto base = config::ReadModelConfigFile(ModelDir(name) / "config.pbtxt");
    const auto versions =
        config::SelectVersions(base.ok() ? base->version_policy() : config::ModelVersionPolicy(),
                               ListVersions(ModelDir(name)));
    RETURN_IF_ERROR(EvictFor(name, ModelFileBytes(ModelDir(name), versions)));
  }
  {
    MutexLock lock(mu_);
    auto [it, inserted] = models_.try_emplace(name);
    if (inserted) {
      it->second.status.name = name;
      it->second.status.state = ModelState::kLoading;
    }
  }
  ModelEntry entry = LoadEntry(name, config_override);
  ModelStatus summary = Summarize(entry);
  for (const auto& v : summary.versions) {
    if (v.state == ModelState::kReady) {
      spdlog::info("model '{}' version {}: READY (loaded in {:.3f} s, {} KiB of model files)", name,
                   v.version, v.load_seconds, v.memory_bytes >> 10);
    } else {
      spdlog::error("model '{}' version {}: {} ({})", name, v.version, ModelStateName(v.state),
                    v.reason);
    }
  }
  if (!summary.reason.empty()) {
    spdlog::error("model '{}': {} ({})", name, ModelStateName(summary.state), summary.reason);
  }

  std::vector<std::shared_ptr<const ServableModel>> dropped;  // released outside the lock
  if (summary.state != ModelState::kReady) {
    std::string reason = summary.reason;
    for (const auto& v : summary.versions) {
      if (reason.empty()) reason = v.reason;
    }
    MutexLock lock(mu_);
    ModelEntry& current = models_[name];
    if (Summarize(current).state != ModelState::kReady) {
      current = std::move(entry);  // nothing serves: show why the load failed
    } else {
      current.fingerprint = entry.fingerprint;  // poll mode: do not retry the same files
      current.reload_error = reason;
    }
    return InvalidArgument(fmt::format("failed to load model '{}': {}", name, reason));
  }
  MutexLock lock(mu_);
  ModelEntry& current = models_[name];
  // A routing policy set at run time survives a reload when the versions it names are there.
  if (!entry.routing_from_config && !current.routing_from_config &&
      CheckPolicyAgainst(current.routing, ReadyVersions(entry)).ok()) {
    entry.routing = current.routing;
  }
  for (auto& [v, ve] : current.versions) {
    if (ve.servable) dropped.push_back(std::move(ve.servable));
  }
  current = std::move(entry);
  return Status::Ok();
}

void ModelRepository::LoadComposingModels(
    const std::string& name, const std::optional<config::ModelConfig>& config_override) {
  config::ModelConfig config;
  if (config_override) {
    config = *config_override;
  } else {
    auto parsed = config::ReadModelConfigFile(ModelDir(name) / "config.pbtxt");
    if (!parsed.ok()) return;  // LoadEntry reports it
    config = std::move(parsed).value();
  }
  if (!config::IsEnsemble(config)) return;
  if (config.name().empty()) config.set_name(name);
  // As Triton does, an ensemble brings its composing models with it (in every control mode);
  // the walk has refused cycles, so this recursion ends. A composing model that fails to
  // load makes the ensemble's own load fail, naming the step; so does a cycle (LoadEntry).
  auto models = EnsembleComposingModels([this](std::string_view n) { return ModelDir(n); }, config);
  if (!models.ok()) return;
  for (const auto& model : *models) {
    if (Get(model, 0).ok()) continue;
    Status s = LoadModel(model);
    if (!s.ok()) spdlog::warn("ensemble '{}': composing model '{}': {}", name, model, s.message());
  }
}

void ModelRepository::UnloadLocked(ModelEntry& entry, std::string reason, bool reloadable,
                                   std::vector<std::shared_ptr<const ServableModel>>& dropped) {
  for (auto& [v, ve] : entry.versions) {
    if (ve.servable) dropped.push_back(std::move(ve.servable));
  }
  entry.versions.clear();
  entry.reload_error.clear();
  entry.status.state = ModelState::kUnavailable;
  entry.status.reason = std::move(reason);
  entry.reloadable = reloadable;
}

Status ModelRepository::UnloadModel(std::string_view name) {
  std::vector<std::shared_ptr<const ServableModel>> dropped;
  {
    MutexLock lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
    UnloadLocked(it->second, "unloaded", /*reloadable=*/false, dropped);
  }
  spdlog::info("model '{}': unloading", name);
  return Status::Ok();
}

bool ModelRepository::CanLoadOnDemand(std::string_view name) const {
  {
    if (on_demand_->Pending(name)) return true;  // join the load that is queued or running
    MutexLock lock(mu_);
    auto it = models_.find(name);
    if (it != models_.end()) return it->second.reloadable;
  }
  std::error_code ec;
  return options_.lazy_load && ValidModelName(name) &&
         fs::is_directory(ModelDir(name), ec);
}

void ModelRepository::LoadOnDemand(std::string_view name, std::function<void(Status)> done) {
  on_demand_->Request(name, std::move(done));
}

std::vector<int64_t> ModelRepository::ReadyVersions(const ModelEntry& entry) {
  std::vector<int64_t> ready;
  for (const auto& [v, ve] : entry.versions) {
    if (ve.servable) ready.push_back(v);
  }
  return ready;
}

ModelStatus ModelRepository::Summarize(const ModelEntry& entry) {
  ModelStatus status = entry.status;
  status.versions.clear();
  bool any_ready = false;
  for (const auto& [v, ve] : entry.versions) {
    VersionStatus vs = ve.status;
    if (ve.servable) vs.first_response_us = ve.servable->first_response_us();
    if (ve.servable && !entry.reload_error.empty()) {
      vs.reason = "still serving; the last reload failed: " + entry.reload_error;
    }
    status.versions.push_back(vs);
    any_ready |= ve.status.state == ModelState::kReady;
  }
  if (status.state != ModelState::kLoading && status.reason.empty() && !entry.versions.empty()) {
    status.state = any_ready ? ModelState::kReady : ModelState::kUnavailable;
  }
  status.routing = RoutingPolicyToString(entry.routing);
  return status;
}

Result<std::shared_ptr<const ServableModel>> ModelRepository::Get(std::string_view name,
                                                                  int64_t version) const {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  const ModelEntry& entry = it->second;
  auto not_ready = [&]() {
    std::string reason = entry.status.reason;
    if (reason.empty() && !entry.versions.empty()) {
      reason = entry.versions.rbegin()->second.status.reason;
    }
    if (reason.empty()) reason = std::string(ModelStateName(entry.status.state));
    return Unavailable(fmt::format("model '{}' is not ready: {}", name, reason));
  };
  if (version > 0) {
    auto vit = entry.versions.find(version);
    if (vit == entry.versions.end()) {
      if (entry.versions.empty() && entry.status.state != ModelState::kReady) return not_ready();
      return NotFound(fmt::format("unknown version {} of model '{}'", version, name));
    }
    if (!vit->second.servable) {
      return Unavailable(fmt::format("model '{}' version {} is not ready: {}", name, version,
                                     vit->second.status.reason));
    }
    return vit->second.servable;
  }
  if (entry.routing.kind == RoutingPolicy::Kind::kLatest) {
    // The usual policy, on every request: the newest ready version, found without collecting
    // the ready ones (no allocation). Versions are ordered, newest last.
    for (auto vit = entry.versions.rbegin(); vit != entry.versions.rend(); ++vit) {
      if (vit->second.servable) return vit->second.servable;
    }
    return not_ready();
  }
  const std::vector<int64_t> ready = ReadyVersions(entry);
  if (ready.empty()) return not_ready();
  auto chosen = ChooseVersion(entry.routing, ready, Draw());
  if (!chosen.ok())
    return Unavailable(fmt::format("model '{}': {}", name, chosen.status().message()));
  return entry.versions.at(*chosen).servable;
}

Result<RoutingPolicy> ModelRepository::GetRouting(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  return it->second.routing;
}

Status ModelRepository::SetRouting(std::string_view name, const RoutingPolicy& policy) {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  if (policy.kind != RoutingPolicy::Kind::kLatest) {
    Status s = CheckPolicyAgainst(policy, ReadyVersions(it->second));
    if (!s.ok()) return s.WithContext(fmt::format("model '{}'", name));
  }
  spdlog::info("model '{}': routing {} -> {}", name, RoutingPolicyToString(it->second.routing),
               RoutingPolicyToString(policy));
  it->second.routing = policy;
  return Status::Ok();
}

Result<RoutingPolicy> ModelRepository::Rollback(std::string_view name) {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  auto policy = RollbackPolicy(it->second.routing, ReadyVersions(it->second));
  if (!policy.ok()) return policy.status().WithContext(fmt::format("model '{}'", name));
  spdlog::info("model '{}': rollback {} -> {}", name, RoutingPolicyToString(it->second.routing),
               RoutingPolicyToString(*policy));
  it->second.routing = *policy;
  return *policy;
}

std::vector<ModelStatus> ModelRepository::Index(bool with_unloaded) const {
  // Scanned before taking the lock: the directory read must not hold up requests.
  const std::vector<std::string> on_disk =
      with_unloaded ? ModelDirectories() : std::vector<std::string>{};
  MutexLock lock(mu_);
  std::vector<ModelStatus> out;
  out.reserve(models_.size() + on_disk.size());
  auto never_loaded = [](const std::string& name) {
    ModelStatus status;
    status.name = name;  // state kUnknown, no versions
    return status;
  };
  auto disk = on_disk.begin();
  for (const auto& [name, entry] : models_) {
    for (; disk != on_disk.end() && *disk < name; ++disk) out.push_back(never_loaded(*disk));
    if (disk != on_disk.end() && *disk == name) ++disk;
    out.push_back(Summarize(entry));
  }
  for (; disk != on_disk.end(); ++disk) out.push_back(never_loaded(*disk));
  return out;
}

Result<ModelStatus> ModelRepository::GetModelStatus(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  return Summarize(it->second);
}

uint64_t ModelRepository::LoadedMemoryBytes() const {
  MutexLock lock(mu_);
  uint64_t total = 0;
  for (const auto& [n, e] : models_) {
    for (const auto& [v, ve] : e.versions) {
      if (ve.servable) total += ve.servable->cost().memory_bytes;
    }
  }
  return total;
}

}  // namespace inferd::repository
