// EnsembleScheduler: the scheduler of an ensemble (platform "ensemble"). It owns no engine; it
// runs each request through the config's steps as a data-flow graph: a step starts as soon as
// every tensor it reads exists, steps that do not depend on each other run at once, and each
// step is a request to its composing model through `run_step` (the server's own Infer), so
// every composing model keeps its own scheduler, batching and statistics. Tensors pass from
// step to step by reference to their bytes (Tensor copies share the buffer), never copied.
// Steps with a run_if condition (config/step_condition.h) run only when it holds; a step whose
// inputs were not written (a branch not taken) is skipped too.
// The first failing step ends the request with that step's status code and a message naming
// the step; steps still running are ignored when they finish.
// Thread-safe; Enqueue never blocks on a step (steps complete through callbacks).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model_config.pb.h"
#include "scheduling/scheduler.h"

namespace inferd::scheduling {

// Runs one step's request on its composing model and calls `done` exactly once, on any thread.
using StepRunner =
    std::function<void(InferenceRequest, std::function<void(Result<InferenceResponse>)>)>;

class EnsembleScheduler final : public Scheduler {
 public:
  struct Options {
    // The ensemble's completed config; must pass config::ValidateEnsembleConfig.
    config::ModelConfig config;
    // How a step reaches its composing model; required.
    StepRunner run_step;
  };

  static Result<std::unique_ptr<EnsembleScheduler>> Create(Options options);

  void Enqueue(std::unique_ptr<InferencePayload> payload) override;
  // An ensemble has no queue of its own: its steps wait in their models' queues.
  size_t queued() const override { return 0; }
  // Requests that entered and have not completed yet.
  size_t in_flight() const;

 private:
  // What every request of this ensemble shares; held by each request too, so steps finishing
  // after their request failed (and the ensemble was perhaps unloaded) still find it.
  struct Plan;
  struct Run;
  explicit EnsembleScheduler(std::shared_ptr<Plan> plan) : plan_(std::move(plan)) {}
  static void StartStep(const std::shared_ptr<Run>& run, size_t step);
  // `skipped`: the step did not run (its run_if was false, or a tensor it reads was not
  // written because its writers were skipped); its readers may still go on.
  static void FinishStep(const std::shared_ptr<Run>& run, size_t step, Result<InferenceResponse> r,
                         bool skipped = false);
  // The requested outputs, once every step has finished.
  static Result<InferenceResponse> Collect(const std::shared_ptr<Run>& run);
  static void Complete(const std::shared_ptr<Run>& run, Result<InferenceResponse> r);

  std::shared_ptr<Plan> plan_;
};

}  // namespace inferd::scheduling
