// ServableModel: one loaded, READY model version — its completed config and the scheduler that
// owns its engine instances. Immutable after construction; requests hold a
// std::shared_ptr<const ServableModel> for as long as they run, so the version outlives them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "config/model_config.pb.h"
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

 private:
  const std::string name_;
  const int64_t version_;
  const config::ModelConfig config_;
  const std::unique_ptr<scheduling::Scheduler> scheduler_;
};

}  // namespace inferd::repository
