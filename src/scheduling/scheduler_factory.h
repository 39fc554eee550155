// Chooses and builds a model version's scheduler from its config: a SequenceBatcher when the
// config has `sequence_batching`, a DynamicBatcher when it has `dynamic_batching` (and
// max_batch_size > 0), otherwise a DirectScheduler. Called
// by the repository when a version loads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "config/model_config.pb.h"
#include "scheduling/batch_queue.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

// The batch queue settings of a config's dynamic_batching block. Model parameter
// `adaptive_queue_delay: "true"` turns on the adaptive delay (max_queue_delay_microseconds
// then caps it).
Result<BatchQueueOptions> BatchQueueOptionsFromConfig(const config::ModelConfig& config);

// Unbatched models whose executions average at most this many microseconds run on the thread
// that enqueues them when an instance is free (see DirectScheduler). Model parameter
// `inline_max_compute_us` overrides it per model; "0" turns inline runs off.
inline constexpr uint32_t kDefaultInlineMaxComputeUs = 100;

Result<std::unique_ptr<Scheduler>> CreateScheduler(
    const config::ModelConfig& config,
    std::vector<std::unique_ptr<backends::ModelInstance>> instances, const std::string& name);

}  // namespace inferd::scheduling
