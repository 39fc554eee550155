#include "backends/backend_plugin.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <unistd.h>

#include <system_error>

namespace inferd::backends {
namespace fs = std::filesystem;

fs::path DefaultBackendDirectory() {
  std::error_code ec;
#ifdef INFERD_BUILD_BACKEND_DIR
  // A binary of this build tree (apps/inferd, tests, benches) finds the plugins built with it.
  if (fs::is_directory(INFERD_BUILD_BACKEND_DIR, ec)) return INFERD_BUILD_BACKEND_DIR;
#endif
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return fs::path("lib/inferd/backends");
  return exe.parent_path().parent_path() / "lib" / "inferd" / "backends";
}

Result<BackendFactory> LoadBackendPlugin(const fs::path& directory, std::string_view name) {
  const fs::path file = directory / fmt::format("libinferd_backend_{}.so", name);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return NotFound(fmt::format("the {} engine's plugin '{}' is missing (see --backend-directory)",
                                name, file.string()));
  }
  // RTLD_LOCAL: the engine's own libraries stay private to it; RTLD_NOW: a plugin that does
  // not match this binary fails here, not at its first call. Never closed: engines keep
  // static state for the life of the process.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return Internal(fmt::format("cannot load the {} engine's plugin '{}': {}", name, file.string(),
                                why != nullptr ? why : "unknown error"));
  }
  auto entry = reinterpret_cast<BackendPluginEntry>(dlsym(handle, kBackendPluginEntry));
  if (entry == nullptr) {
    return Internal(fmt::format("'{}' is not an inferd engine plugin (no {})", file.string(),
                                kBackendPluginEntry));
  }
  BackendFactory factory;
  entry(&factory);
  return factory;
}

BackendFactory PluginBackend(std::string name, std::string platform,
                             std::string default_model_filename, fs::path directory) {
  BackendFactory f;
  f.name = name;
  f.platform = platform;
  f.default_model_filename = std::move(default_model_filename);
  f.create = [name = std::move(name), platform = std::move(platform),
              directory = std::move(directory)]() -> Result<std::unique_ptr<Backend>> {
    ASSIGN_OR_RETURN(BackendFactory loaded, LoadBackendPlugin(directory, name));
    if (loaded.name != name || loaded.platform != platform || !loaded.create) {
      return Internal(fmt::format(
          "the plugin in {} declares engine '{}' (platform '{}'), not '{}' ('{}')",
          directory.string(), loaded.name, loaded.platform, name, platform));
    }
    return loaded.create();
  };
  return f;
}

}  // namespace inferd::backends
