#include "repository/model_repository.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <system_error>
#include <thread>

#include "config/auto_complete.h"
#include "config/model_config_parser.h"
#include "config/version_policy.h"
#include "scheduling/scheduler_factory.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

// Numeric folder names are versions; anything else (including "0") is ignored, as in Triton.
std::vector<int64_t> ListVersions(const fs::path& model_dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(model_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string n = entry.path().filename().string();
    int64_t v = 0;
    auto [ptr, err] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (err == std::errc() && ptr == n.data() + n.size() && v > 0) versions.push_back(v);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

int TotalInstanceCount(const config::ModelConfig& cfg) {
  int count = 0;
  for (const auto& g : cfg.instance_group()) count += std::max(1, g.count());
  return std::max(1, count);
}

}  // namespace

Result<std::unique_ptr<ModelRepository>> ModelRepository::Create(const Options& options) {
  if (options.backend == nullptr) return InvalidArgument("model repository needs a backend");
  std::error_code ec;
  if (!fs::is_directory(options.root, ec)) {
    return NotFound(fmt::format("model repository '{}' is not a directory", options.root.string()));
  }
  return std::unique_ptr<ModelRepository>(new ModelRepository(options));
}

void ModelRepository::LoadAll() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.root, ec)) {
    const std::string n = entry.path().filename().string();
    if (!entry.is_directory(ec) || n.empty() || n[0] == '.') continue;
    names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    {
      MutexLock lock(mu_);
      ModelEntry loading;
      loading.status.name = name;
      loading.status.state = ModelState::kLoading;
      models_[name] = std::move(loading);
    }
    Install(name, LoadEntry(name));
  }
}

void ModelRepository::Install(const std::string& name, ModelEntry entry) {
  ModelStatus summary = Summarize(entry);
  for (const auto& v : summary.versions) {
    if (v.state == ModelState::kReady) {
      spdlog::info("model '{}' version {}: READY", name, v.version);
    } else {
      spdlog::error("model '{}' version {}: {} ({})", name, v.version, ModelStateName(v.state),
                    v.reason);
    }
  }
  if (!summary.reason.empty()) {
    spdlog::error("model '{}': {} ({})", name, ModelStateName(summary.state), summary.reason);
  }
  ModelEntry old;
  {
    MutexLock lock(mu_);
    old = std::exchange(models_[name], std::move(entry));
  }
  // `old` drops its versions here, outside the lock; requests still holding them finish.
}

Status ModelRepository::LoadModel(std::string_view name_view) {
  const std::string name(name_view);
  if (name.empty() || name[0] == '.' || name.find('/') != std::string::npos ||
      name.find('\\') != std::string::npos) {
    return InvalidArgument(fmt::format("invalid model name '{}'", name));
  }
  std::error_code ec;
  if (!fs::is_directory(options_.root / name, ec)) {
    return NotFound(fmt::format("model '{}' is not in the model repository", name));
  }
  ModelEntry entry = LoadEntry(name);
  const ModelStatus summary = Summarize(entry);
  if (summary.state != ModelState::kReady) {
    std::string reason = summary.reason;
    for (const auto& v : summary.versions) {
      if (reason.empty()) reason = v.reason;
    }
    {
      MutexLock lock(mu_);
      auto it = models_.find(name);
      const bool serving = it != models_.end() && Summarize(it->second).state == ModelState::kReady;
      if (!serving) models_[name] = std::move(entry);
    }
    spdlog::error("model '{}': load failed: {}", name, reason);
    return InvalidArgument(fmt::format("failed to load model '{}': {}", name, reason));
  }
  Install(name, std::move(entry));
  return Status::Ok();
}

Status ModelRepository::UnloadModel(std::string_view name) {
  ModelEntry old;
  {
    MutexLock lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
    ModelEntry unloaded;
    unloaded.status.name = it->second.status.name;
    unloaded.status.state = ModelState::kUnavailable;
    unloaded.status.reason = "unloaded";
    old = std::exchange(it->second, std::move(unloaded));
  }
  spdlog::info("model '{}': unloading", name);
  return Status::Ok();
}

ModelRepository::ModelEntry ModelRepository::LoadEntry(const std::string& name) {
  ModelEntry entry;
  entry.status.name = name;
  const fs::path dir = options_.root / name;
  auto fail = [&](const inferd::Status& s) {
    entry.status.state = ModelState::kUnavailable;
    entry.status.reason = s.message();
    return std::move(entry);
  };

  config::ModelConfig base;
  const fs::path config_path = dir / "config.pbtxt";
  std::error_code ec;
  if (fs::exists(config_path, ec)) {
    auto parsed = config::ReadModelConfigFile(config_path);
    if (!parsed.ok()) return fail(parsed.status());
    base = std::move(parsed).value();
  }

  const std::vector<int64_t> available = ListVersions(dir);
  if (available.empty()) {
    return fail(NotFound(fmt::format("no version folders (e.g. {}/1/{}) found", dir.string(),
                                     options_.backend->default_model_filename())));
  }
  const std::vector<int64_t> selected = config::SelectVersions(base.version_policy(), available);
  if (selected.empty()) {
    return fail(NotFound(fmt::format("the version policy selects none of the versions [{}]",
                                     fmt::join(available, ", "))));
  }
  for (int64_t version : selected) {
    VersionEntry v;
    v.status.version = version;
    auto servable = LoadVersion(name, version, base);
    if (servable.ok()) {
      v.status.state = ModelState::kReady;
      v.servable = std::move(servable).value();
    } else {
      v.status.state = ModelState::kUnavailable;
      v.status.reason = servable.status().message();
    }
    entry.versions[version] = std::move(v);
  }
  return entry;
}

Result<std::shared_ptr<const ServableModel>> ModelRepository::LoadVersion(
    const std::string& name, int64_t version, const config::ModelConfig& base) {
  config::ModelConfig cfg = base;
  const std::string filename = cfg.default_model_filename().empty()
                                   ? std::string(options_.backend->default_model_filename())
                                   : cfg.default_model_filename();
  const fs::path model_file = options_.root / name / std::to_string(version) / filename;
  std::error_code ec;
  if (!fs::is_regular_file(model_file, ec)) {
    return NotFound(fmt::format("model file '{}' not found", model_file.string()));
  }

  // Engine threads: the instances of one model share the machine's cores between them, so
  // N instances never start N full-size thread pools (Triton's classic oversubscription).
  const unsigned cores =
      options_.cpu_cores ? options_.cpu_cores : std::max(1u, std::thread::hardware_concurrency());
  const int instances = TotalInstanceCount(cfg);
  backends::InstanceOptions instance_options;
  instance_options.intra_op_threads = std::max(1, static_cast<int>(cores) / instances);
  instance_options.inter_op_threads = 1;

  std::vector<std::unique_ptr<backends::ModelInstance>> pool;
  ASSIGN_OR_RETURN(auto first, options_.backend->CreateInstance(model_file, cfg, instance_options));
  RETURN_IF_ERROR(config::CompleteAndValidate(cfg, first->signature(), name));
  pool.push_back(std::move(first));
  const int count = TotalInstanceCount(cfg);  // auto-complete may have added the default group
  for (int i = 1; i < count; ++i) {
    ASSIGN_OR_RETURN(auto inst,
                     options_.backend->CreateInstance(model_file, cfg, instance_options));
    pool.push_back(std::move(inst));
  }
  spdlog::info("model '{}' version {}: {} instance(s), {} intra-op thread(s) each", name, version,
               count, instance_options.intra_op_threads);

  ASSIGN_OR_RETURN(auto scheduler, scheduling::CreateScheduler(
                                       cfg, std::move(pool), fmt::format("{}:{}", name, version)));
  return unloader_.Adopt(
      std::make_unique<ServableModel>(name, version, std::move(cfg), std::move(scheduler)));
}

ModelStatus ModelRepository::Summarize(const ModelEntry& entry) {
  ModelStatus status = entry.status;
  status.versions.clear();
  bool any_ready = false;
  for (const auto& [v, ve] : entry.versions) {
    status.versions.push_back(ve.status);
    any_ready |= ve.status.state == ModelState::kReady;
  }
  if (status.state != ModelState::kLoading && status.reason.empty() && !entry.versions.empty()) {
    status.state = any_ready ? ModelState::kReady : ModelState::kUnavailable;
  }
  return status;
}

Result<std::shared_ptr<const ServableModel>> ModelRepository::Get(std::string_view name,
                                                                  int64_t version) const {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  const ModelEntry& entry = it->second;
  if (version > 0) {
    auto vit = entry.versions.find(version);
    if (vit == entry.versions.end()) {
      return NotFound(fmt::format("unknown version {} of model '{}'", version, name));
    }
    if (!vit->second.servable) {
      return Unavailable(fmt::format("model '{}' version {} is not ready: {}", name, version,
                                     vit->second.status.reason));
    }
    return vit->second.servable;
  }
  for (auto vit = entry.versions.rbegin(); vit != entry.versions.rend(); ++vit) {
    if (vit->second.servable) return vit->second.servable;
  }
  std::string reason = entry.status.reason;
  if (reason.empty() && !entry.versions.empty())
    reason = entry.versions.rbegin()->second.status.reason;
  if (reason.empty()) reason = std::string(ModelStateName(entry.status.state));
  return Unavailable(fmt::format("model '{}' is not ready: {}", name, reason));
}

std::vector<ModelStatus> ModelRepository::Index() const {
  MutexLock lock(mu_);
  std::vector<ModelStatus> out;
  out.reserve(models_.size());
  for (const auto& [name, entry] : models_) out.push_back(Summarize(entry));
  return out;
}

Result<ModelStatus> ModelRepository::GetModelStatus(std::string_view name) const {
  MutexLock lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return NotFound(fmt::format("unknown model '{}'", name));
  return Summarize(it->second);
}

}  // namespace inferd::repository
