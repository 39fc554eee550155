// ServableModel: one loaded, READY model version — its completed config, the scheduler that
// owns its engine instances, and its statistics. Immutable after construction apart from the
// atomic counters; requests hold a std::shared_ptr<const ServableModel> (made by ModelUnloader)
// for as long as they run, so the version outlives them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/model_config.pb.h"
#include "metrics/inference_stats.h"
#include "scheduling/scheduler.h"

namespace inferd::repository {

class ServableModel {
 public:
  ServableModel(std::string name, int64_t version, config::ModelConfig config,
                std::unique_ptr<scheduling::Scheduler> scheduler)
      : name_(std::move(name)),
        version_(version),
        config_(std::move(config)),
        scheduler_(std::move(scheduler)) {}

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const config::ModelConfig& config() const { return config_; }
  // The scheduler is internally synchronized; Enqueue is safe from any thread.
  scheduling::Scheduler& scheduler() const { return *scheduler_; }
  // Counters are atomics, recorded through const handles by every request.
  metrics::InferenceStats& stats() const { return stats_; }

 private:
  const std::string name_;
  const int64_t version_;
  const config::ModelConfig config_;
  const std::unique_ptr<scheduling::Scheduler> scheduler_;
  mutable metrics::InferenceStats stats_;
};

}  // namespace inferd::repository
