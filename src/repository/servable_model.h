// ServableModel: one loaded, READY model version — its completed config, the scheduler that
// owns its engine instances, its statistics, and what its load cost. Immutable after
// construction apart from atomic counters; requests hold a std::shared_ptr<const ServableModel>
// (made by ModelUnloader) for as long as they run, so the version outlives them.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "metrics/inference_stats.h"
#include "scheduling/scheduler.h"

namespace inferd::repository {

// Output name → class labels (line i of the output's label_filename names class i).
using OutputLabels = std::map<std::string, std::vector<std::string>, std::less<>>;

struct LoadCost {
  double load_seconds = 0;        // reading the files, engine sessions, warm-up
  uint64_t memory_bytes = 0;      // budgeted memory: the size of the version's model files
  uint64_t rss_growth_bytes = 0;  // how much the process's RSS grew during the load
};

class ServableModel {
 public:
  ServableModel(std::string name, int64_t version, config::ModelConfig config,
                std::unique_ptr<scheduling::Scheduler> scheduler, LoadCost cost,
                OutputLabels labels = {})
      : name_(std::move(name)),
        version_(version),
        config_(std::move(config)),
        scheduler_(std::move(scheduler)),
        cost_(cost),
        labels_(std::move(labels)) {
    Touch();
  }

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const config::ModelConfig& config() const { return config_; }
  // The scheduler is internally synchronized; Enqueue is safe from any thread.
  scheduling::Scheduler& scheduler() const { return *scheduler_; }
  // Counters are atomics, recorded through const handles by every request.
  metrics::InferenceStats& stats() const { return stats_; }
  const LoadCost& cost() const { return cost_; }
  const OutputLabels& labels() const { return labels_; }

  // Last use, for idle unloading and least-recently-used eviction (steady clock, ns).
  void Touch() const {
    last_used_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(),
                        std::memory_order_relaxed);
  }
  int64_t last_used_ns() const { return last_used_ns_.load(std::memory_order_relaxed); }

  // The latency of the first request this version answered (cold start), -1 until then.
  void RecordFirstResponse(int64_t latency_us) const {
    int64_t unset = -1;
    first_response_us_.compare_exchange_strong(unset, latency_us, std::memory_order_relaxed);
  }
  int64_t first_response_us() const { return first_response_us_.load(std::memory_order_relaxed); }

 private:
  const std::string name_;
  const int64_t version_;
  const config::ModelConfig config_;
  const std::unique_ptr<scheduling::Scheduler> scheduler_;
  const LoadCost cost_;
  const OutputLabels labels_;
  mutable metrics::InferenceStats stats_;
  mutable std::atomic<int64_t> last_used_ns_{0};
  mutable std::atomic<int64_t> first_response_us_{-1};
};

}  // namespace inferd::repository
