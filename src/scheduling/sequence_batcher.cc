#include "scheduling/sequence_batcher.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/duration.h"
#include "scheduling/batch_executor.h"

namespace inferd::scheduling {

namespace {

constexpr std::chrono::microseconds kDefaultMaxIdle{1'000'000};  // Triton's default

// Requests batch together only with equal input names, datatypes and shapes.
bool SameInputs(const InferencePayload& a, const InferencePayload& b) {
  if (a.request.inputs.size() != b.request.inputs.size()) return false;
  for (size_t i = 0; i < a.request.inputs.size(); ++i) {
    const Tensor &x = a.request.inputs[i], &y = b.request.inputs[i];
    if (x.name() != y.name() || x.dtype() != y.dtype() || x.shape() != y.shape()) return false;
  }
  return a.output_names == b.output_names;
}

void Reject(std::unique_ptr<InferencePayload> p, const Status& status) {
  if (p->stats) {
    p->stats->RecordFailure(NanosSince(p->enqueue_time), metrics::FailureReason::kRejected);
  }
  p->done(status);
}

}  // namespace

Result<std::unique_ptr<SequenceBatcher>> SequenceBatcher::Create(
    const config::ModelConfig& config,
    std::vector<std::unique_ptr<backends::ModelInstance>> instances, std::string name) {
  if (instances.empty()) return InvalidArgument("a sequence batcher needs an instance");
  std::unique_ptr<SequenceBatcher> batcher(
      new SequenceBatcher(config, std::move(instances), std::move(name)));
  ASSIGN_OR_RETURN(batcher->controls_, ParseSequenceControls(config.sequence_batching()));
  ASSIGN_OR_RETURN(batcher->states_, ParseSequenceStates(config.sequence_batching()));
  {
    MutexLock lock(batcher->mu_);
    for (size_t i = batcher->slots_; i > 0; --i) {
      batcher->free_slots_.push_back(static_cast<int>(i - 1));  // slot 0 first
    }
  }
  for (size_t i = 0; i < batcher->instances_.size(); ++i) {
    batcher->workers_.emplace_back([b = batcher.get(), i] { b->WorkerLoop(i); });
  }
  return batcher;
}

SequenceBatcher::SequenceBatcher(const config::ModelConfig& config,
                                 std::vector<std::unique_ptr<backends::ModelInstance>> instances,
                                 std::string name)
    : name_(std::move(name)),
      max_batch_size_(config.max_batch_size()),
      oldest_(config.sequence_batching().has_oldest()),
      max_queue_delay_(config.sequence_batching().has_oldest()
                           ? config.sequence_batching().oldest().max_queue_delay_microseconds()
                           : config.sequence_batching().direct().max_queue_delay_microseconds()),
      max_idle_(config.sequence_batching().max_sequence_idle_microseconds() > 0
                    ? std::chrono::microseconds(
                          config.sequence_batching().max_sequence_idle_microseconds())
                    : kDefaultMaxIdle),
      instances_(std::move(instances)) {
  slots_ = instances_.size() * static_cast<size_t>(std::max(1, max_batch_size_));
  const auto& oldest = config.sequence_batching().oldest();
  if (oldest_ && oldest.max_candidate_sequences() > 0) {
    slots_ = static_cast<size_t>(oldest.max_candidate_sequences());
  }
}

SequenceBatcher::~SequenceBatcher() {
  std::vector<std::unique_ptr<InferencePayload>> left;
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  for (auto& w : workers_) w.join();
  {
    MutexLock lock(mu_);
    for (auto& [id, sequence] : sequences_) {
      for (auto& p : sequence->pending) left.push_back(std::move(p.payload));
    }
    sequences_.clear();
  }
  for (auto& p : left) Reject(std::move(p), Unavailable(fmt::format("model {} is unloading", name_)));
}

size_t SequenceBatcher::queued() const {
  MutexLock lock(mu_);
  return queued_;
}

size_t SequenceBatcher::active_sequences() const {
  MutexLock lock(mu_);
  return sequences_.size();
}

void SequenceBatcher::Enqueue(std::unique_ptr<InferencePayload> payload) {
  const Parameters& params = payload->request.parameters;
  std::string id;
  auto sequence_id = params.find("sequence_id");
  if (sequence_id != params.end()) {
    if (const auto* n = std::get_if<int64_t>(&sequence_id->second); n && *n > 0) {
      id = fmt::format("n:{}", *n);
    } else if (const auto* s = std::get_if<std::string>(&sequence_id->second); s && !s->empty()) {
      id = "s:" + *s;
    }
  }
  if (id.empty()) {
    return Reject(std::move(payload),
                  InvalidArgument(fmt::format(
                      "model {} batches sequences: the request needs a 'sequence_id' parameter "
                      "(a positive number or a non-empty string)",
                      name_)));
  }
  bool flags[2] = {false, false};
  const char* const flag_names[2] = {"sequence_start", "sequence_end"};
  for (int i = 0; i < 2; ++i) {
    auto it = params.find(flag_names[i]);
    if (it == params.end()) continue;
    const bool* b = std::get_if<bool>(&it->second);
    if (b == nullptr) {
      return Reject(std::move(payload), InvalidArgument(fmt::format(
                                            "parameter '{}' must be a boolean", flag_names[i])));
    }
    flags[i] = *b;
  }
  if (payload->batch_size != 1) {
    return Reject(std::move(payload),
                  InvalidArgument(fmt::format(
                      "a request of a sequence must have batch size 1, not {}",
                      payload->batch_size)));
  }
  Status refused = Status::Ok();
  {
    MutexLock lock(mu_);
    auto it = sequences_.find(id);
    if (stopping_) {
      refused = Unavailable(fmt::format("model {} is unloading", name_));
    } else if (it == sequences_.end() && !flags[0]) {
      refused = InvalidArgument(fmt::format(
          "sequence {} of model {} has not started or was idle for longer than "
          "max_sequence_idle_microseconds ({} us); send sequence_start with its first request",
          id.substr(2), name_, max_idle_.count()));
    } else {
      if (it == sequences_.end()) {
        auto created = std::make_shared<Sequence>();
        created->id = id;
        it = sequences_.emplace(id, std::move(created)).first;
      }
      Sequence& sequence = *it->second;
      sequence.last_activity = SteadyClock::now();
      sequence.pending.push_back(Pending{std::move(payload), flags[0], flags[1]});
      ++queued_;
      AssignSlots();
    }
  }
  if (!refused.ok()) return Reject(std::move(payload), refused);
  cv_.NotifyAll();
}

void SequenceBatcher::AssignSlots() {
  if (free_slots_.empty()) return;
  std::vector<Sequence*> waiting;
  for (auto& [id, s] : sequences_) {
    if (s->slot < 0 && !s->pending.empty()) waiting.push_back(s.get());
  }
  std::sort(waiting.begin(), waiting.end(), [](const Sequence* a, const Sequence* b) {
    return a->pending.front().payload->enqueue_time < b->pending.front().payload->enqueue_time;
  });
  for (Sequence* s : waiting) {
    if (free_slots_.empty()) return;
    s->slot = free_slots_.back();
    free_slots_.pop_back();
  }
}

SteadyClock::time_point SequenceBatcher::ExpireIdle(SteadyClock::time_point now) {
  SteadyClock::time_point next = now + std::chrono::hours(1);
  bool freed = false;
  for (auto it = sequences_.begin(); it != sequences_.end();) {
    Sequence& s = *it->second;
    if (s.running || !s.pending.empty()) {
      ++it;
      continue;
    }
    const auto expires = s.last_activity + max_idle_;
    if (expires <= now) {
      if (s.slot >= 0) free_slots_.push_back(s.slot);
      freed = true;
      it = sequences_.erase(it);
      continue;
    }
    next = std::min(next, expires);
    ++it;
  }
  if (freed) AssignSlots();
  return next;
}

std::vector<std::shared_ptr<SequenceBatcher::Sequence>> SequenceBatcher::TakeReady(
    size_t instance) {
  const size_t per_instance = static_cast<size_t>(std::max(1, max_batch_size_));
  std::vector<std::shared_ptr<Sequence>> ready;
  for (auto& [id, s] : sequences_) {
    if (s->slot < 0 || s->running || s->pending.empty()) continue;
    if (!oldest_ && static_cast<size_t>(s->slot) / per_instance != instance) continue;
    ready.push_back(s);
  }
  std::sort(ready.begin(), ready.end(), [](const auto& a, const auto& b) {
    return a->pending.front().payload->enqueue_time < b->pending.front().payload->enqueue_time;
  });
  std::vector<std::shared_ptr<Sequence>> batch;
  for (auto& s : ready) {
    if (batch.size() == per_instance) break;
    if (!batch.empty() && !SameInputs(*batch.front()->pending.front().payload,
                                      *s->pending.front().payload)) {
      continue;
    }
    batch.push_back(std::move(s));
  }
  return batch;
}

void SequenceBatcher::WorkerLoop(size_t instance) {
  const size_t capacity = static_cast<size_t>(std::max(1, max_batch_size_));
  for (;;) {
    std::vector<std::shared_ptr<Sequence>> batch;
    std::vector<Pending> requests;
    {
      MutexLock lock(mu_);
      for (;;) {
        if (stopping_) return;
        const auto now = SteadyClock::now();
        const auto next_expiry = ExpireIdle(now);
        batch = TakeReady(instance);
        if (!batch.empty()) {
          // Wait up to max_queue_delay for a fuller batch.
          const auto waited_until =
              batch.front()->pending.front().payload->enqueue_time + max_queue_delay_;
          if (batch.size() >= capacity || max_queue_delay_.count() == 0 || now >= waited_until) {
            break;
          }
          cv_.WaitUntil(mu_, std::min(waited_until, next_expiry));
          continue;
        }
        cv_.WaitUntil(mu_, next_expiry);
      }
      for (auto& s : batch) {
        s->running = true;
        requests.push_back(std::move(s->pending.front()));
        s->pending.erase(s->pending.begin());
        --queued_;
      }
    }
    Run(instance, std::move(batch), std::move(requests));
  }
}

Status SequenceBatcher::AddInputs(Sequence& sequence, const Pending& request) const {
  RequestInputs& inputs = request.payload->request.inputs;
  const bool batched = max_batch_size_ > 0;
  ASSIGN_OR_RETURN(std::vector<Tensor> controls,
                   SequenceControlTensors(controls_, sequence.id, request.start, request.end,
                                          batched));
  for (Tensor& t : controls) inputs.push_back(std::move(t));
  if (request.start || sequence.state.size() != states_.size()) sequence.state.clear();
  for (size_t i = 0; i < states_.size(); ++i) {
    inputs.push_back(sequence.state.size() == states_.size() ? sequence.state[i]
                                                             : InitialState(states_[i], batched));
  }
  OutputNames& outputs = request.payload->output_names;
  for (const SequenceState& s : states_) {
    if (std::find(outputs.begin(), outputs.end(), s.output) == outputs.end()) {
      outputs.push_back(s.output);
    }
  }
  return Status::Ok();
}

void SequenceBatcher::Run(size_t instance, std::vector<std::shared_ptr<Sequence>> sequences,
                          std::vector<Pending> requests) {
  std::vector<std::unique_ptr<InferencePayload>> batch;
  std::vector<std::shared_ptr<Sequence>> ran;
  std::vector<bool> ended;
  // Whether a request's sequence was already finished (an END, before its answer went out).
  std::vector<std::shared_ptr<bool>> finished;
  for (size_t i = 0; i < requests.size(); ++i) {
    finished.push_back(std::make_shared<bool>(false));
    std::shared_ptr<Sequence> sequence = sequences[i];
    std::unique_ptr<InferencePayload>& payload = requests[i].payload;
    const OutputNames requested = payload->output_names;
    if (Status s = AddInputs(*sequence, requests[i]); !s.ok()) {
      Reject(std::move(payload), s);
    } else {
      // The state outputs stay with the sequence; the client gets what it asked for.
      payload->done = [this, sequence, requested, end = requests[i].end, finished = finished[i],
                       done = std::move(payload->done)](Result<InferenceResponse> r) {
        if (r.ok()) {
          std::vector<Tensor> kept;
          sequence->state.assign(states_.size(), Tensor());
          for (Tensor& out : r->outputs) {
            for (size_t k = 0; k < states_.size(); ++k) {
              if (out.name() != states_[k].output) continue;
              sequence->state[k] = out;
              sequence->state[k].set_name(states_[k].input);
            }
            if (std::find(requested.begin(), requested.end(), out.name()) != requested.end()) {
              kept.push_back(std::move(out));
            }
          }
          r->outputs = std::move(kept);
        }
        if (end) {
          // The sequence ends before its client hears back: a request the client sends next
          // with the same id must find it gone (and need a new START).
          {
            MutexLock lock(mu_);
            Finish(*sequence, true);
          }
          *finished = true;
          cv_.NotifyAll();
        }
        done(std::move(r));
      };
      batch.push_back(std::move(payload));
    }
    ran.push_back(std::move(sequence));
    ended.push_back(requests[i].end);
  }
  if (!batch.empty()) ExecuteBatch(*instances_[instance], batch);
  {
    MutexLock lock(mu_);
    for (size_t i = 0; i < ran.size(); ++i) {
      if (!*finished[i]) Finish(*ran[i], ended[i]);
    }
  }
  cv_.NotifyAll();
}

void SequenceBatcher::Finish(Sequence& sequence, bool ended) {
  sequence.running = false;
  sequence.last_activity = SteadyClock::now();
  if (!ended || !sequence.pending.empty()) return;
  // The sequence is over: its slot goes to the next waiting sequence.
  if (sequence.slot >= 0) free_slots_.push_back(sequence.slot);
  sequences_.erase(sequence.id);
  AssignSlots();
}

}  // namespace inferd::scheduling
