// BackendRegistry: the engines this binary was built with, under the names Triton uses
// (`backend` "onnxruntime" / `platform` "onnxruntime_onnx", `backend` "pytorch" / `platform`
// "pytorch_libtorch"), and the rule that picks one for a model. The server creates one
// registry from BuiltinBackends(); the model repository asks it for each model's engine. An
// engine is created on first use, so a binary with several engines pays only for those its
// models use. Adding an engine: docs/architecture.md, "Adding an engine".
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "core/mutex.h"

namespace inferd::backends {

// How to make one engine, and the names it answers to.
struct BackendFactory {
  std::string name;                    // `backend` in config.pbtxt, e.g. "onnxruntime"
  std::string platform;                // `platform` in config.pbtxt, e.g. "onnxruntime_onnx"
  std::string default_model_filename;  // looked up in version folders, e.g. "model.onnx"
  std::function<Result<std::unique_ptr<Backend>>()> create;
};

// Every engine this build has, in registration order (generated from the inferd_backend()
// lines of src/backends/CMakeLists.txt). Each is a plugin in `directory`, loaded on first use
// (backend_plugin.h); without `directory`, DefaultBackendDirectory().
std::vector<BackendFactory> BuiltinBackends(const std::filesystem::path& directory);
std::vector<BackendFactory> BuiltinBackends();

// Triton's --backend-config entries: backend name ("" for entries that name none and apply to
// every engine) -> key -> value.
using BackendConfig =
    std::map<std::string, std::map<std::string, std::string, std::less<>>, std::less<>>;

// Parses --backend-config values, "<backend>,<key>=<value>" or "<key>=<value>" (every engine).
// INVALID_ARGUMENT quoting the entry when it has no '=' or an empty key; a key given twice for
// one backend keeps the last value, as Triton does.
Result<BackendConfig> ParseBackendConfig(const std::vector<std::string>& entries);

class BackendRegistry {
 public:
  struct Options {
    std::vector<BackendFactory> factories;  // names and platforms must be unique
    // Engine threads for the whole server (BackendSettings::engine_threads); 0 = the cores.
    int engine_threads = 0;
    // Must name only registered backends; default-max-batch-size must be an integer >= 0.
    BackendConfig backend_config = {};
  };
  static Result<std::unique_ptr<BackendRegistry>> Create(const Options& options);

  // The engine for the model in `model_dir` whose config.pbtxt (possibly empty) is `config`:
  //  - `backend` set: the engine of that name; `platform` set too: it must be that engine's;
  //  - else `platform` set: the engine of that platform;
  //  - else the engine whose default model file (or, when the config sets
  //    default_model_filename, whose file extension) a version folder holds — Triton's
  //    auto-complete picks ONNX Runtime for model.onnx and PyTorch for model.pt the same way.
  // NOT_FOUND / INVALID_ARGUMENT messages name the engines this binary has. Thread-safe.
  Result<Backend*> Select(const config::ModelConfig& config, const std::filesystem::path& model_dir)
      EXCLUDES(mu_);

  // The engine registered under `name` (a backend name), created on first use. Thread-safe.
  Result<Backend*> Get(std::string_view name) EXCLUDES(mu_);

  // "onnxruntime (onnxruntime_onnx), pytorch (pytorch_libtorch)", for messages and logs.
  std::string Describe() const;

  // Engines created so far, with their versions ("onnxruntime 1.30.0"), for logs.
  std::vector<std::string> Loaded() const EXCLUDES(mu_);

  // The registered engine called `name` (without loading it); null when there is none.
  const BackendFactory* Find(std::string_view name) const;

 private:
  explicit BackendRegistry(const Options& options)
      : factories_(options.factories),
        engine_threads_(options.engine_threads),
        backend_config_(options.backend_config) {}
  // The settings engine `name` is configured with: the global entries, then its own.
  BackendSettings SettingsFor(std::string_view name) const;
  const BackendFactory* FindPlatform(std::string_view platform) const;

  const std::vector<BackendFactory> factories_;
  const int engine_threads_;
  const BackendConfig backend_config_;
  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<Backend>, std::less<>> created_ GUARDED_BY(mu_);
};

}  // namespace inferd::backends
