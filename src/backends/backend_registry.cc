#include "backends/backend_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <system_error>
#include <thread>

#include "config/model_config.h"

namespace inferd::backends {
namespace {

namespace fs = std::filesystem;

// Whether some numeric version folder of `model_dir` holds a file called `filename`.
bool AnyVersionHolds(const fs::path& model_dir, const std::string& filename) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(model_dir, ec)) {
    const std::string folder = entry.path().filename().string();
    if (folder.empty() ||
        !std::all_of(folder.begin(), folder.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    if (fs::exists(entry.path() / filename, ec)) return true;
  }
  return false;
}

}  // namespace

Result<BackendConfig> ParseBackendConfig(const std::vector<std::string>& entries) {
  BackendConfig out;
  for (const std::string& entry : entries) {
    std::string_view rest = entry;
    std::string backend;
    const size_t comma = rest.find(',');
    const size_t eq = rest.find('=');
    if (comma != std::string_view::npos && (eq == std::string_view::npos || comma < eq)) {
      backend = std::string(rest.substr(0, comma));
      rest.remove_prefix(comma + 1);
    }
    const size_t sep = rest.find('=');
    if (sep == std::string_view::npos || sep == 0) {
      return InvalidArgument(fmt::format(
          "--backend-config '{}' must be <backend>,<setting>=<value> or <setting>=<value>",
          entry));
    }
    out[backend][std::string(rest.substr(0, sep))] = std::string(rest.substr(sep + 1));
  }
  return out;
}

Result<std::unique_ptr<BackendRegistry>> BackendRegistry::Create(const Options& options) {
  std::set<std::string> names;
  for (const auto& f : options.factories) {
    if (f.name.empty() || f.platform.empty() || !f.create) {
      return InvalidArgument("a backend factory needs a name, a platform and a create function");
    }
    if (!names.insert(f.name).second || !names.insert(f.platform).second) {
      return InvalidArgument(
          fmt::format("backend '{}' (platform '{}') is registered twice", f.name, f.platform));
    }
  }
  for (const auto& entry : options.backend_config) {
    const std::string& backend = entry.first;  // a plain name: lambdas cannot capture bindings
    const auto& settings = entry.second;
    if (!backend.empty() &&
        std::none_of(options.factories.begin(), options.factories.end(),
                     [&](const BackendFactory& f) { return f.name == backend; })) {
      std::vector<std::string> known;
      for (const auto& f : options.factories) known.push_back(f.name);
      return InvalidArgument(
          fmt::format("--backend-config names backend '{}', which this inferd does not have ({})",
                      backend, fmt::join(known, ", ")));
    }
    if (auto it = settings.find("default-max-batch-size"); it != settings.end()) {
      int n = -1;
      const std::string& v = it->second;
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec != std::errc() || ptr != v.data() + v.size() || n < 0) {
        return InvalidArgument(fmt::format(
            "--backend-config {}default-max-batch-size={}: expected an integer >= 0",
            backend.empty() ? "" : backend + ",", v));
      }
    }
  }
  return std::unique_ptr<BackendRegistry>(new BackendRegistry(options));
}

BackendSettings BackendRegistry::SettingsFor(std::string_view name) const {
  BackendSettings settings;
  settings.engine_threads =
      engine_threads_ > 0 ? engine_threads_
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (std::string_view scope : {std::string_view(), name}) {
    if (auto it = backend_config_.find(scope); it != backend_config_.end()) {
      for (const auto& [k, v] : it->second) settings.config[k] = v;
    }
  }
  return settings;
}

const BackendFactory* BackendRegistry::Find(std::string_view name) const {
  for (const auto& f : factories_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const BackendFactory* BackendRegistry::FindPlatform(std::string_view platform) const {
  for (const auto& f : factories_) {
    if (f.platform == platform) return &f;
  }
  return nullptr;
}

std::string BackendRegistry::Describe() const {
  std::vector<std::string> parts;
  for (const auto& f : factories_) parts.push_back(fmt::format("{} ({})", f.name, f.platform));
  return parts.empty() ? std::string("none") : fmt::format("{}", fmt::join(parts, ", "));
}

Result<Backend*> BackendRegistry::Get(std::string_view name) {
  const BackendFactory* factory = Find(name);
  if (factory == nullptr) {
    return NotFound(
        fmt::format("backend '{}' is not built into this inferd; it has {}", name, Describe()));
  }
  MutexLock lock(mu_);
  auto it = created_.find(name);
  if (it != created_.end()) return it->second.get();
  auto backend = factory->create();
  if (!backend.ok()) {
    return backend.status().WithContext(fmt::format("starting backend '{}'", name));
  }
  if (Status configured = (*backend)->Configure(SettingsFor(factory->name)); !configured.ok()) {
    return configured.WithContext(fmt::format("configuring backend '{}'", name));
  }
  Backend* raw = backend->get();
  created_.emplace(factory->name, std::move(backend).value());
  return raw;
}

Result<Backend*> BackendRegistry::Select(const config::ModelConfig& config,
                                         const fs::path& model_dir) {
  if (!config.backend().empty()) {
    const BackendFactory* f = Find(config.backend());
    if (f == nullptr) {
      return InvalidArgument(fmt::format("backend '{}' is not built into this inferd; it has {}",
                                         config.backend(), Describe()));
    }
    if (!config.platform().empty() && config.platform() != f->platform) {
      return InvalidArgument(
          fmt::format("platform '{}' does not belong to backend '{}' (whose platform is '{}')",
                      config.platform(), config.backend(), f->platform));
    }
    return Get(f->name);
  }
  if (!config.platform().empty()) {
    const BackendFactory* f = FindPlatform(config.platform());
    if (f == nullptr) {
      return InvalidArgument(fmt::format("platform '{}' is not supported; this inferd has {}",
                                         config.platform(), Describe()));
    }
    return Get(f->name);
  }
  const std::string& named = config.default_model_filename();
  const fs::path named_path(named);
  if (named_path.has_root_path() || std::any_of(named_path.begin(), named_path.end(),
                                                [](const fs::path& p) { return p == ".."; })) {
    return InvalidArgument(fmt::format(
        "default_model_filename '{}' must name a file inside the version folder", named));
  }
  for (const auto& f : factories_) {
    if (f.default_model_filename.empty()) continue;  // processors are only chosen by name
    const bool match = named.empty() ? AnyVersionHolds(model_dir, f.default_model_filename)
                                     : fs::path(named).extension() ==
                                           fs::path(f.default_model_filename).extension();
    if (match) return Get(f.name);
  }
  std::vector<std::string> files;
  for (const auto& f : factories_) files.push_back(f.default_model_filename);
  return NotFound(fmt::format(
      "no engine recognizes the model: the config sets neither backend nor platform and no "
      "version folder holds {}; this inferd has {}",
      fmt::join(files, " or "), Describe()));
}

std::vector<std::string> BackendRegistry::Loaded() const {
  MutexLock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, backend] : created_) {
    out.push_back(fmt::format("{} {}", name, backend->version()));
  }
  return out;
}

}  // namespace inferd::backends
