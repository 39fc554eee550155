// Loads one model version from disk into a ServableModel: engine instances (thread pools sized
// to the cores), config auto-complete and validation, warm-up, scheduler — and measures what
// the load cost. Also the file-level helpers the repository uses to notice changes and to
// budget memory. Called by ModelRepository, one load at a time.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "repository/servable_model.h"

namespace inferd::repository {

struct VersionLoadOptions {
  backends::Backend* backend = nullptr;  // the model's engine; not owned
  unsigned cpu_cores = 0;                // cores to size engine thread pools for; 0 = detect
};

// `base` is the model's config.pbtxt as parsed (possibly empty).
Result<std::unique_ptr<ServableModel>> LoadModelVersion(const std::filesystem::path& model_dir,
                                                        const std::string& name, int64_t version,
                                                        const config::ModelConfig& base,
                                                        const VersionLoadOptions& options);

// Runs the config's model_warmup samples on every instance; the first failure is returned.
Status RunWarmup(const config::ModelConfig& config, const std::filesystem::path& model_dir,
                 std::span<const std::unique_ptr<backends::ModelInstance>> instances);

// The class labels of the outputs that name a label_filename (relative to the model folder).
Result<OutputLabels> ReadOutputLabels(const config::ModelConfig& config,
                                      const std::filesystem::path& model_dir);

// Numeric version folders of a model, ascending (Triton ignores others, and "0").
std::vector<int64_t> ListVersions(const std::filesystem::path& model_dir);

// A digest of everything that defines the model on disk (config, version folders, file sizes
// and modification times); it changes when any of them does. Used by poll mode.
std::string ModelFingerprint(const std::filesystem::path& model_dir);

// Bytes of the model files in the given version folders: the memory estimate before a load.
uint64_t ModelFileBytes(const std::filesystem::path& model_dir,
                        const std::vector<int64_t>& versions);

// The process's resident set size in bytes (0 if unknown).
uint64_t ProcessRssBytes();

}  // namespace inferd::repository
