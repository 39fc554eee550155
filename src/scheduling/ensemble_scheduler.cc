#include "scheduling/ensemble_scheduler.h"

#include <fmt/format.h>

#include <map>
#include <optional>

#include "config/ensemble_config.h"
#include "config/step_condition.h"
#include "core/duration.h"
#include "core/mutex.h"

namespace inferd::scheduling {

struct EnsembleScheduler::Plan {
  config::ModelConfig config;
  StepRunner run_step;
  std::vector<std::vector<size_t>> depends_on;  // per step: the steps it reads from
  std::vector<std::vector<size_t>> readers;     // per step: the steps that read from it
  std::vector<std::optional<config::StepCondition>> conditions;  // per step: its run_if
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
  for (const auto& step : options.config.ensemble_scheduling().step()) {
    if (step.run_if().empty()) {
      plan->conditions.emplace_back();
    } else {
      ASSIGN_OR_RETURN(auto condition, config::ParseStepCondition(step.run_if()));
      plan->conditions.emplace_back(std::move(condition));
    }
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
  request.deadline = outer.deadline;        // remote steps pass on what is left of it
  request.traceparent = outer.traceparent;  // and the trace context
  if (outer.deadline != SteadyClock::time_point::max() && SteadyClock::now() >= outer.deadline) {
    return FinishStep(run, step,
                      DeadlineExceeded("the request's deadline passed before the step started"));
  }
  bool skip = false;
  Status condition_error;
  {
    MutexLock lock(run->mu);
    if (run->finished) return;  // an earlier step failed: start nothing more
    if (const auto& condition = plan.conditions[step]) {
      const Tensor* tested = nullptr;
      if (condition->source == config::StepCondition::Source::kTensor) {
        auto it = run->tensors.find(condition->name);
        if (it != run->tensors.end()) tested = &it->second;
      }
      auto holds = config::EvaluateCondition(*condition, outer.parameters, tested);
      if (!holds.ok()) {
        condition_error = holds.status();
      } else {
        skip = !*holds;
      }
    }
    for (const auto& [model_tensor, ensemble_tensor] : spec.input_map()) {
      if (skip || !condition_error.ok()) break;
      auto it = run->tensors.find(ensemble_tensor);
      if (it == run->tensors.end()) {
        // Its writer was skipped (a branch not taken): so is this step.
        skip = true;
        break;
      }
      Tensor t = it->second;  // shares the bytes
      t.set_name(model_tensor);
      request.inputs.push_back(std::move(t));
    }
  }
  if (!condition_error.ok()) return FinishStep(run, step, condition_error);
  if (skip) return FinishStep(run, step, InferenceResponse(), /*skipped=*/true);
  for (const auto& [model_tensor, ensemble_tensor] : spec.output_map()) {
    request.outputs.push_back(RequestedOutput{model_tensor, {}});
  }
  plan.run_step(std::move(request),
                [run, step](Result<InferenceResponse> r) { FinishStep(run, step, std::move(r)); });
}

void EnsembleScheduler::FinishStep(const std::shared_ptr<Run>& run, size_t step,
                                   Result<InferenceResponse> r, bool skipped) {
  const Plan& plan = *run->plan;
  const auto& spec = plan.config.ensemble_scheduling().step(static_cast<int>(step));
  const std::string what = fmt::format("ensemble '{}' {}", plan.config.name(),
                                       config::DescribeEnsembleStep(plan.config, step));
  if (!r.ok()) return Complete(run, r.status().WithContext(what));
  std::vector<size_t> ready;
  bool all_done = false;
  std::string missing, twice;
  {
    MutexLock lock(run->mu);
    if (run->finished) return;
    for (Tensor& out : r->outputs) {
      auto it = spec.output_map().find(out.name());
      if (it == spec.output_map().end()) continue;  // not mapped: not needed downstream
      out.set_name(it->second);
      // Two branches of a choice both ran: their conditions overlap.
      if (!run->tensors.try_emplace(it->second, std::move(out)).second) twice = it->second;
    }
    for (const auto& [model_tensor, ensemble_tensor] : spec.output_map()) {
      if (!skipped && !run->tensors.contains(ensemble_tensor)) missing = model_tensor;
    }
    if (!twice.empty()) missing.clear();
    if (missing.empty()) {
      for (size_t reader : plan.readers[step]) {
        if (--run->waiting_for[reader] == 0) ready.push_back(reader);
      }
      all_done = --run->steps_left == 0;
    }
  }
  if (!twice.empty()) {
    return Complete(run, InvalidArgument(fmt::format(
                             "{}: tensor '{}' was already written by another step; the run_if "
                             "conditions of the steps that write it must exclude each other",
                             what, twice)));
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
      // Every step that writes it was skipped (run_if false, or a branch not taken upstream).
      return InvalidArgument(fmt::format(
          "ensemble '{}': no step wrote output '{}': the steps that write it were skipped by "
          "their run_if conditions",
          run->plan->config.name(), name));
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
