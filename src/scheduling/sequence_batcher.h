// SequenceBatcher: the scheduler for stateful models (`sequence_batching`, Triton's semantics).
// Every request names its sequence with the `sequence_id` parameter (a number or a string) and
// marks the first and last requests with `sequence_start` / `sequence_end`. The requests of one
// sequence run one at a time in arrival order; requests of different sequences batch together
// (one row each). For every row the batcher feeds the model's control inputs (START, END,
// READY, CORRID) and its implicit state: the `state` output of one request is kept by the
// server and given back as the state input of the sequence's next request (zeros on START).
//
// A sequence holds one of the model's slots (instances × max(1, max_batch_size)) from its START
// to its END; sequences beyond that wait. With the direct strategy a sequence keeps one
// instance for its whole life; with oldest, any instance runs the oldest sequences' requests.
// A sequence idle for longer than max_sequence_idle_microseconds is dropped with its state; a
// later request of it without START is refused. One worker thread per instance. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "config/model_config.pb.h"
#include "core/mutex.h"
#include "scheduling/scheduler.h"
#include "scheduling/sequence_inputs.h"

namespace inferd::scheduling {

class SequenceBatcher final : public Scheduler {
 public:
  // INVALID_ARGUMENT for a config the batcher cannot serve (a control without values, a state
  // with variable dims, …).
  static Result<std::unique_ptr<SequenceBatcher>> Create(
      const config::ModelConfig& config,
      std::vector<std::unique_ptr<backends::ModelInstance>> instances, std::string name);
  // Stops taking work, fails what is still waiting, joins the workers.
  ~SequenceBatcher() override;

  void Enqueue(std::unique_ptr<InferencePayload> payload) override EXCLUDES(mu_);
  size_t queued() const override EXCLUDES(mu_);
  // Sequences holding a slot or waiting for one (for tests and statistics).
  size_t active_sequences() const EXCLUDES(mu_);

 private:
  struct Pending {
    std::unique_ptr<InferencePayload> payload;
    bool start = false;
    bool end = false;
  };
  struct Sequence {
    std::string id;        // "n:<number>" or "s:<string>"
    Tensor corrid;         // the CORRID value of one row
    std::vector<Pending> pending;  // arrival order
    int slot = -1;         // -1: waiting for a free slot
    bool running = false;  // a worker is running its head request
    SteadyClock::time_point last_activity;
    // The state outputs of its last request, renamed to the state inputs; written only by the
    // worker that runs the sequence (running == true), read by it on the next run.
    std::vector<Tensor> state;
  };
  struct Batch;

  SequenceBatcher(const config::ModelConfig& config,
                  std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                  std::string name);
  void WorkerLoop(size_t instance) EXCLUDES(mu_);
  // The sequences whose head requests run next on `instance`; empty when none is ready.
  std::vector<std::shared_ptr<Sequence>> TakeReady(size_t instance) REQUIRES(mu_);
  void Run(size_t instance, std::vector<std::shared_ptr<Sequence>> sequences,
           std::vector<Pending> requests) EXCLUDES(mu_);
  void Finish(Sequence& sequence, bool ended) REQUIRES(mu_);
  void AssignSlots() REQUIRES(mu_);
  // Drops idle sequences; returns when the next one would expire.
  SteadyClock::time_point ExpireIdle(SteadyClock::time_point now) REQUIRES(mu_);
  Status AddInputs(Sequence& sequence, const Pending& request) const;

  const std::string name_;
  const int max_batch_size_;  // the model's; 0: no batch dim
  const bool oldest_;
  const std::chrono::microseconds max_queue_delay_;
  const std::chrono::microseconds max_idle_;
  std::vector<std::unique_ptr<backends::ModelInstance>> instances_;
  std::vector<SequenceControl> controls_;
  std::vector<SequenceState> states_;
  size_t slots_ = 0;

  mutable Mutex mu_;
  CondVar cv_;
  std::map<std::string, std::shared_ptr<Sequence>> sequences_ GUARDED_BY(mu_);
  std::vector<int> free_slots_ GUARDED_BY(mu_);
  size_t queued_ GUARDED_BY(mu_) = 0;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

}  // namespace inferd::scheduling
