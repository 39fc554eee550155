// Engines as plugins: each engine of src/backends/<name>/ is built as a shared library,
// libinferd_backend_<name>.so, that the server loads the first time a model needs that engine
// (as Triton loads its backends). A server whose models are all ONNX never maps libtorch, and
// one with no models maps no engine at all — libtorch alone adds over 100 MiB of resident
// memory at load. A plugin resolves inferd's own symbols (Tensor, Status, the config protobuf)
// against the binary that loads it, which exports them, so their code and the protobuf
// descriptors exist once. Called by the generated BuiltinBackends(); thread-safe.
#pragma once

#include <filesystem>
#include <string_view>

#include "backends/backend_registry.h"

namespace inferd::backends {

// The symbol every plugin exports: fills `out` with the engine's factory.
inline constexpr const char* kBackendPluginEntry = "InferdBackendPluginFactory";
using BackendPluginEntry = void (*)(BackendFactory* out);

// Where plugins are looked for unless the operator names a folder (--backend-directory): the
// build tree's backends/ folder for a binary run from its build tree, else
// <folder of the binary>/../lib/inferd/backends (an installed layout).
std::filesystem::path DefaultBackendDirectory();

// Loads <directory>/libinferd_backend_<name>.so (once per process; never unloaded) and returns
// the factory it exports. NOT_FOUND naming the file when it is missing; INTERNAL with the
// loader's message when it does not load.
Result<BackendFactory> LoadBackendPlugin(const std::filesystem::path& directory,
                                         std::string_view name);

// A registry entry whose engine comes from a plugin: the names are known up front (from the
// build's registration line), the library is loaded by `create`, on first use, and must
// declare the same name and platform.
BackendFactory PluginBackend(std::string name, std::string platform,
                             std::string default_model_filename,
                             std::filesystem::path directory);

}  // namespace inferd::backends
