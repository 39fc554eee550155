#include "scheduling/scheduler_factory.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "config/model_config_queries.h"
#include "scheduling/direct_scheduler.h"
#include "scheduling/dynamic_batcher.h"
#include "scheduling/sequence_batcher.h"

namespace inferd::scheduling {
namespace {

QueuePolicy ToQueuePolicy(const config::ModelQueuePolicy& p) {
  QueuePolicy q;
  q.max_queue_size = p.max_queue_size();
  // DELAY keeps an expired request queued until it runs, which is what running it without a
  // timeout does.
  if (p.timeout_action() == config::ModelQueuePolicy::REJECT) {
    q.default_timeout = std::chrono::microseconds(p.default_timeout_microseconds());
  }
  q.allow_timeout_override = p.allow_timeout_override();
  return q;
}

// parameters.inline_max_compute_us, or the default.
Result<uint32_t> InlineMaxComputeUs(const config::ModelConfig& config) {
  auto v = config::GetParameter(config, "inline_max_compute_us");
  if (!v) return kDefaultInlineMaxComputeUs;
  uint32_t us = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), us);
  if (ec != std::errc() || ptr != v->data() + v->size()) {
    return InvalidArgument(fmt::format(
        "parameters.inline_max_compute_us '{}' is not a whole number of microseconds", *v));
  }
  return us;
}

}  // namespace

Result<BatchQueueOptions> BatchQueueOptionsFromConfig(const config::ModelConfig& config) {
  const auto& db = config.dynamic_batching();
  BatchQueueOptions o;
  o.max_batch_size = std::max(1, config.max_batch_size());
  for (int32_t size : db.preferred_batch_size()) {
    if (size < 1 || size > o.max_batch_size) {
      return InvalidArgument(
          fmt::format("preferred_batch_size {} is outside 1..{}", size, o.max_batch_size));
    }
    o.preferred_batch_sizes.push_back(size);
  }
  std::sort(o.preferred_batch_sizes.begin(), o.preferred_batch_sizes.end());
  o.max_queue_delay = std::chrono::microseconds(db.max_queue_delay_microseconds());
  const auto adaptive = config::GetParameter(config, "adaptive_queue_delay");
  o.adaptive_delay = adaptive && (*adaptive == "true" || *adaptive == "1");
  if (auto early = config::GetParameter(config, "early_dispatch")) {
    if (*early != "true" && *early != "1" && *early != "false" && *early != "0") {
      return InvalidArgument(fmt::format(
          "parameters.early_dispatch '{}' must be true or false", *early));
    }
    o.early_dispatch = *early == "true" || *early == "1";
  }
  o.priority_levels = std::max<uint32_t>(1, static_cast<uint32_t>(db.priority_levels()));
  // Triton's levels are 1-based; without a default, unmarked requests get the lowest priority.
  o.default_priority_level = db.default_priority_level() > 0
                                 ? static_cast<uint32_t>(db.default_priority_level() - 1)
                                 : o.priority_levels - 1;
  if (o.default_priority_level >= o.priority_levels) {
    return InvalidArgument(fmt::format("default_priority_level {} is outside 1..{}",
                                       db.default_priority_level(), o.priority_levels));
  }
  for (uint32_t level = 0; level < o.priority_levels; ++level) {
    auto it = db.priority_queue_policy().find(level + 1);
    o.queue_policies.push_back(ToQueuePolicy(
        it != db.priority_queue_policy().end() ? it->second : db.default_queue_policy()));
  }
  o.padding = PaddingSpecFromConfig(config);
  return o;
}

Result<std::unique_ptr<Scheduler>> CreateScheduler(
    const config::ModelConfig& config,
    std::vector<std::unique_ptr<backends::ModelInstance>> instances, const std::string& name) {
  if (config.has_sequence_batching()) {
    ASSIGN_OR_RETURN(auto batcher, SequenceBatcher::Create(config, std::move(instances), name));
    return std::unique_ptr<Scheduler>(std::move(batcher));
  }
  if (config.has_dynamic_batching() && config.max_batch_size() > 0) {
    DynamicBatcher::Options options;
    ASSIGN_OR_RETURN(options.queue, BatchQueueOptionsFromConfig(config));
    options.preserve_ordering = config.dynamic_batching().preserve_ordering();
    options.name = name;
    ASSIGN_OR_RETURN(options.inline_max_compute_us, InlineMaxComputeUs(config));
    // A model fast enough to run inline is fast enough not to wait for stragglers.
    options.queue.eager_below = std::chrono::microseconds(options.inline_max_compute_us);
    ASSIGN_OR_RETURN(auto batcher, DynamicBatcher::Create(std::move(instances), options));
    return std::unique_ptr<Scheduler>(std::move(batcher));
  }
  DirectScheduler::Options options;
  options.name = name;
  ASSIGN_OR_RETURN(options.inline_max_compute_us, InlineMaxComputeUs(config));
  ASSIGN_OR_RETURN(auto direct, DirectScheduler::Create(std::move(instances), options));
  return std::unique_ptr<Scheduler>(std::move(direct));
}

}  // namespace inferd::scheduling
