#include "scheduling/ensemble_scheduler.h"

#include <fmt/format.h>

#include <map>

#include "config/ensemble_config.h"
#include "core/duration.h"
#include "core/mutex.h"

namespace inferd::scheduling {

struct EnsembleScheduler::Plan {
  config::ModelConfig config;
  StepRunner run_step;
  std::vector<std::vector<size_t>> depends_on;  // per step: the steps it reads from
  std::vector<std::vector<size_t>> readers;     // per step: the steps that read from it
  std::atomic<size_t> in_flight{0};
};

// One request on its way through the steps.
struct EnsembleScheduler::Run {
  std::shared_ptr<Plan> plan;
  std::unique_ptr<InferencePayload> payload;
  Mutex mu;
  // Ensemble tensor name -> tensor (named as in the ensemble); inputs first, then step outputs.
  std::map<std::string, Tensor, std::less<>> tensors GUARDED_BY(mu);
  std::vector<size_t> waiting_for GUARDED_BY(mu);  // per step: unfinished steps it reads from
  size_t steps_left GUARDED_BY(mu) = 0;
  bool finished GUARDED_BY(mu) = false;  // completed (success or the first failure)
};

Result<std::unique_ptr<EnsembleScheduler>> EnsembleScheduler::Create(Options options) {
  RETURN_IF_ERROR(config::ValidateEnsembleConfig(options.config));
  if (!options.run_step) return InvalidArgument("an ensemble scheduler needs a step runner");
  auto plan = std::make_shared<Plan>();
  plan->depends_on = config::EnsembleStepDependencies(options.config);
  plan->readers.resize(plan->depends_on.size());
  for (size_t i = 0; i < plan->depends_on.size(); ++i) {
    for (size_t d : plan->depends_on[i]) plan->readers[d].push_back(i);
  }
  plan->config = std::move(options.config);
  plan->run_step = std::move(options.run_step);
  return std::unique_ptr<EnsembleScheduler>(new EnsembleScheduler(std::move(plan)));
}

size_t EnsembleScheduler::in_flight() const {
  return plan_->in_flight.load(std::memory_order_relaxed);
}

void EnsembleScheduler::Enqueue(std::unique_ptr<InferencePayload> payload) {
  auto run = std::make_shared<Run>();
  run->plan = plan_;
  plan_->in_flight.fetch_add(1, std::memory_order_relaxed);
  std::vector<size_t> ready;
  {
    MutexLock lock(run->mu);
    for (Tensor& t : payload->request.inputs) {
      std::string name = t.name();
      run->tensors.emplace(std::move(name), std::move(t));
    }
    payload->request.inputs.clear();
    run->steps_left = plan_->depends_on.size();
    for (size_t i = 0; i < plan_->depends_on.size(); ++i) {
      run->waiting_for.push_back(plan_->depends_on[i].size());
      if (plan_->depends_on[i].empty()) ready.push_back(i);
    }
  }
  run->payload = std::move(payload);
  for (size_t step : ready) StartStep(run, step);
}

void EnsembleScheduler::StartStep(const std::shared_ptr<Run>& run, size_t step) {
  const Plan& plan = *run->plan;
  const auto& spec = plan.config.ensemble_scheduling().step(static_cast<int>(step));
  const InferenceRequest& outer = run->payload->request;
  if (outer.cancelled && outer.cancelled->load(std::memory_order_relaxed)) {
    return FinishStep(run, step, Unavailable("request cancelled: the client disconnected"));
  }
  InferenceRequest request;
  request.model_name = spec.model_name();
  request.model_version = spec.model_version() > 0 ? spec.model_version() : 0;
  request.id = outer.id;
  request.parameters = outer.parameters;  // priority, timeout, ...
  request.cancelled = outer.cancelled;
  std::string missing;
  {
    MutexLock lock(run->mu);
    if (run->finished) return;  // an earlier step failed: start nothing more
    for (const auto& [model_tensor, ensemble_tensor] : spec.input_map()) {
      auto it = run->tensors.find(ensemble_tensor);
      if (it == run->tensors.end()) {
        missing = ensemble_tensor;
        break;
      }
      Tensor t = it->second;  // shares the bytes
      t.set_name(model_tensor);
      request.inputs.push_back(std::move(t));
    }
  }
  if (!missing.empty()) {
    // Only an ensemble input the client left out gets here; validation normally catches it.
    return FinishStep(run, step, InvalidArgument(fmt::format("tensor '{}' is missing", missing)));
  }
  for (const auto& [model_tensor, ensemble_tensor] : spec.output_map()) {
    request.outputs.push_back(RequestedOutput{model_tensor, {}});
  }
  plan.run_step(std::move(request),
                [run, step](Result<InferenceResponse> r) { FinishStep(run, step, std::move(r)); });
}

void EnsembleScheduler::FinishStep(const std::shared_ptr<Run>& run, size_t step,
                                   Result<InferenceResponse> r) {
  const Plan& plan = *run->plan;
  const auto& spec = plan.config.ensemble_scheduling().step(static_cast<int>(step));
  const std::string what = fmt::format("ensemble '{}' {}", plan.config.name(),
                                       config::DescribeEnsembleStep(plan.config, step));
  if (!r.ok()) return Complete(run, r.status().WithContext(what));
  std::vector<size_t> ready;
  bool all_done = false;
  std::string missing;
  {
    MutexLock lock(run->mu);
    if (run->finished) return;
    for (Tensor& out : r->outputs) {
      auto it = spec.output_map().find(out.name());
      if (it == spec.output_map().end()) continue;  // not mapped: not needed downstream
      out.set_name(it->second);
      run->tensors.insert_or_assign(it->second, std::move(out));
    }
    for (const auto& [model_tensor, ensemble_tensor] : spec.output_map()) {
      if (!run->tensors.contains(ensemble_tensor)) missing = model_tensor;
    }
    if (missing.empty()) {
      for (size_t reader : plan.readers[step]) {
        if (--run->waiting_for[reader] == 0) ready.push_back(reader);
      }
      all_done = --run->steps_left == 0;
    }
  }
  if (!missing.empty()) {
    return Complete(
        run, Internal(fmt::format("{}: the model did not return output '{}'", what, missing)));
  }
  if (all_done) return Complete(run, Collect(run));
  for (size_t next : ready) StartStep(run, next);
}

Result<InferenceResponse> EnsembleScheduler::Collect(const std::shared_ptr<Run>& run) {
  const InferencePayload& payload = *run->payload;
  InferenceResponse response;
  response.model_name = payload.request.model_name;
  response.model_version = payload.model_version;
  response.id = payload.request.id;
  MutexLock lock(run->mu);
  for (const std::string& name : payload.output_names) {
    auto it = run->tensors.find(name);
    if (it == run->tensors.end()) {
      return Internal(
          fmt::format("ensemble '{}': no step wrote output '{}'", run->plan->config.name(), name));
    }
    response.outputs.push_back(it->second);
  }
  return response;
}

void EnsembleScheduler::Complete(const std::shared_ptr<Run>& run, Result<InferenceResponse> r) {
  {
    MutexLock lock(run->mu);
    if (run->finished) return;
    run->finished = true;
  }
  InferencePayload& payload = *run->payload;
  const uint64_t total_ns = NanosSince(payload.enqueue_time);
  if (payload.stats) {
    if (r.ok()) {
      // The ensemble's own time is its whole run; queueing happens in the composing models.
      metrics::RequestTimings t;
      t.compute_infer_ns = total_ns;
      t.total_ns = total_ns;
      payload.stats->RecordSuccess(t, static_cast<uint64_t>(payload.batch_size));
    } else {
      payload.stats->RecordFailure(total_ns);
    }
  }
  run->plan->in_flight.fetch_sub(1, std::memory_order_relaxed);
  // The request's tensors may hold the last reference to the client's buffers; the payload
  // (and with it the pin on the ensemble) is released after `done`.
  auto done = std::move(payload.done);
  done(std::move(r));
}

}  // namespace inferd::scheduling
