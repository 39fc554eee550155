#include "handler/request_handler.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/duration.h"
#include "observability/logging.h"
#include "repository/routing_policy.h"

namespace inferd::handler {

Result<std::unique_ptr<RequestHandler>> RequestHandler::Create(const Options& options) {
  if (options.server == nullptr) return InvalidArgument("RequestHandler needs a server");
  return std::unique_ptr<RequestHandler>(new RequestHandler(options));
}

RequestHandler::RequestHandler(const Options& options)
    : options_(options),
      server_(options.server),
      admission_(options.authorizer, options.rate_limiter) {}

RequestHandler::~RequestHandler() {
  std::thread control;
  {
    MutexLock lock(control_mu_);
    control_stop_ = true;
    control = std::move(control_thread_);
  }
  control_cv_.NotifyAll();
  if (control.joinable()) control.join();
}

CallRecord RequestHandler::StartCall(uint64_t body_bytes) {
  CallRecord r;
  r.start = SteadyClock::now();  // start_unix_ns is set only if the call is traced
  r.body_bytes = body_bytes;
  return r;
}

void RequestHandler::StartTrace(CallRecord& record, std::string_view traceparent) const {
  std::optional<observability::TraceParent> parent;
  if (!traceparent.empty()) parent = observability::ParseTraceParent(traceparent);
  record.client_parent = parent;
  if (options_.tracer == nullptr) return;
  const bool sampled = options_.trace_settings
                           ? options_.trace_settings->ShouldTrace(record.model, parent)
                           : options_.tracer->ShouldSample(parent);
  if (!sampled) return;
  record.traced = true;
  // The wall time of the call's start, from the steady clock's reading then: the clock is read
  // twice for a traced call instead of once for every call.
  record.start_unix_ns = UnixNanos() - NanosSince(record.start);
  record.trace_id = parent ? parent->trace_id : observability::NewTraceId();
  if (parent) record.remote_parent = parent->parent_id;
  record.root_span = observability::NewSpanId();
}

namespace {

Status CheckTraceTarget(const server::InferenceServer& server, const TraceSettings* settings,
                        std::string_view model) {
  if (settings == nullptr) return Unavailable("this frontend has no trace settings");
  if (model.empty()) return Status::Ok();
  Status s = server.ModelReady(model, 0);
  return s.code() == StatusCode::kNotFound ? s : Status::Ok();
}

}  // namespace

Result<TraceSettings::Values> RequestHandler::GetTraceSettings(std::string_view model) const {
  RETURN_IF_ERROR(CheckTraceTarget(*server_, options_.trace_settings, model));
  return options_.trace_settings->Get(model);
}

Result<TraceSettings::Values> RequestHandler::UpdateTraceSettings(
    std::string_view model, const TraceSettings::Update& update) const {
  RETURN_IF_ERROR(CheckTraceTarget(*server_, options_.trace_settings, model));
  return options_.trace_settings->Set(model, update);
}

std::string RequestHandler::TraceParentOf(const CallRecord& record) {
  return observability::FormatTraceParent(record.trace_id, record.root_span, true);
}

metrics::ConnectionStats& RequestHandler::connections() const {
  return options_.transport == Transport::kHttp ? server_->http_connections()
                                                : server_->grpc_connections();
}

void RequestHandler::FinishCall(const CallRecord& record, const CallOutcome& outcome) const {
  const bool access = observability::AccessLogEnabled();
  if (!access && !record.traced) return;
  const uint64_t total_ns = NanosSince(record.start);
  const server::InferObservation* obs = record.infer ? &record.infer->observation : nullptr;
  const uint64_t compute_ns = obs ? obs->timings.compute_input_ns + obs->timings.compute_infer_ns +
                                        obs->timings.compute_output_ns
                                  : 0;
  const int64_t version = obs && obs->resolved_version ? obs->resolved_version : record.version;
  if (record.traced && options_.tracer != nullptr) {
    observability::InferTraceTimes t = record.times;
    t.start_unix_ns = record.start_unix_ns;
    t.end_unix_ns = record.start_unix_ns + total_ns;
    t.cache_hit = obs && obs->cache_hit;
    t.queue_ns = obs ? obs->timings.queue_ns : 0;
    t.compute_ns = compute_ns;
    observability::InferTraceInfo info;
    info.name = fmt::format("{} {}", outcome.method, outcome.path);
    info.model = record.model;
    info.version = version;
    info.status = outcome.status;
    info.error = outcome.error;
    options_.tracer->Export(observability::MakeInferTrace(record.trace_id, record.root_span,
                                                          record.remote_parent, t, info));
  }
  if (!access) return;
  observability::AccessRecord r;
  r.protocol = options_.transport == Transport::kHttp ? "http" : "grpc";
  r.method = std::string(outcome.method);
  r.path = std::string(outcome.path);
  r.status = outcome.status;
  r.bytes_in = record.body_bytes;
  r.bytes_out = outcome.bytes_out;
  r.duration_us = static_cast<int64_t>(total_ns / 1000);
  r.remote = std::string(outcome.remote);
  if (!record.model.empty()) {
    r.model = record.model;
    r.version = version;
    r.decode_us = static_cast<int64_t>(record.times.decode_ns / 1000);
  }
  if (obs && obs->cache_used) r.cache = obs->cache_hit ? "hit" : "miss";
  if (obs && !outcome.error) {
    if (!obs->cache_hit) {
      r.queue_us = static_cast<int64_t>(obs->timings.queue_ns / 1000);
      r.compute_us = static_cast<int64_t>(compute_ns / 1000);
    }
    r.encode_us = static_cast<int64_t>(record.times.encode_ns / 1000);
  }
  if (record.traced) r.trace_id = observability::ToHex(record.trace_id);
  observability::LogAccess(r);
}

namespace {

Status NoSharedMemory() {
  return Unavailable("system shared memory is not enabled on this frontend");
}

}  // namespace

Status RequestHandler::RegisterSharedMemory(std::string_view name, std::string_view key,
                                            uint64_t offset, uint64_t byte_size) const {
  if (options_.shared_memory == nullptr) return NoSharedMemory();
  return options_.shared_memory->Register(name, key, offset, byte_size);
}

Status RequestHandler::UnregisterSharedMemory(std::string_view name) const {
  if (options_.shared_memory == nullptr) return NoSharedMemory();
  return options_.shared_memory->Unregister(name);
}

Result<std::vector<SharedMemoryRegionStatus>> RequestHandler::SharedMemoryStatus(
    std::string_view name) const {
  if (options_.shared_memory == nullptr) return NoSharedMemory();
  return options_.shared_memory->Regions(name);
}

void RequestHandler::Infer(CallRecord& record, InferenceRequest request,
                           server::InferCallback done) const {
  if (!request.input_parameters.empty() || UsesSharedMemoryOutputs(request)) {
    // Inputs read from their regions now; outputs written into theirs on the way back.
    if (options_.shared_memory == nullptr) return done(NoSharedMemory());
    if (Status s = ReadSharedMemoryInputs(*options_.shared_memory, request); !s.ok()) {
      return done(s);
    }
    auto targets = SharedMemoryOutputTargets(*options_.shared_memory, request);
    if (!targets.ok()) return done(targets.status());
    if (!targets->empty()) {
      done = [targets = std::move(targets).value(),
              done = std::move(done)](Result<InferenceResponse> r) mutable {
        if (r.ok()) {
          if (Status s = WriteSharedMemoryOutputs(targets, *r); !s.ok()) return done(s);
        }
        done(std::move(r));
      };
    }
  }
  if (!record.infer) record.infer = std::make_shared<InferCall>();
  // Both pointers alias the one InferCall: no allocation of their own.
  request.cancelled = std::shared_ptr<std::atomic<bool>>(record.infer, &record.infer->cancelled);
  // What remote steps pass on: the deadline (the transport's, or the `timeout` parameter in
  // microseconds, as Triton's) and the trace context, with this server's span as the parent.
  request.deadline = record.deadline;
  if (auto timeout_us = GetIntParameter(request.parameters, "timeout");
      timeout_us && *timeout_us > 0) {
    request.deadline =
        std::min(request.deadline, SteadyClock::now() + std::chrono::microseconds(*timeout_us));
  }
  if (record.traced) {
    request.traceparent = TraceParentOf(record);
  } else if (record.client_parent) {
    request.traceparent = observability::FormatTraceParent(record.client_parent->trace_id,
                                                           record.client_parent->parent_id,
                                                           record.client_parent->sampled);
  }
  record.times.facade_start_unix_ns = TraceNanos(record);
  server_->Infer(
      std::move(request), std::move(done),
      std::shared_ptr<server::InferObservation>(record.infer, &record.infer->observation));
}

std::vector<IndexEntry> RequestHandler::RepositoryIndex(bool ready_only) const {
  return BuildRepositoryIndex(server_->RepositoryIndex(), ready_only);
}

void RequestHandler::LoadModel(std::string model, std::optional<std::string> config_json,
                               std::function<void(Status)> done) {
  // Loading builds engine sessions (slow): never on a transport's thread.
  RunOnControlThread([this, model = std::move(model), config_json = std::move(config_json),
                      done = std::move(done)] { done(server_->LoadModel(model, config_json)); });
}

void RequestHandler::UnloadModel(std::string model, std::function<void(Status)> done) {
  RunOnControlThread([this, model = std::move(model), done = std::move(done)] {
    done(server_->UnloadModel(model));
  });
}

Result<std::string> RequestHandler::SetRouting(std::string_view model,
                                               std::string_view policy) const {
  ASSIGN_OR_RETURN(auto parsed, repository::ParseRoutingPolicy(policy));
  RETURN_IF_ERROR(server_->SetRouting(model, parsed));
  return repository::RoutingPolicyToString(parsed);
}

Result<std::string> RequestHandler::Rollback(std::string_view model) const {
  ASSIGN_OR_RETURN(auto policy, server_->Rollback(model));
  return repository::RoutingPolicyToString(policy);
}

void RequestHandler::RunOnControlThread(std::function<void()> job) {
  {
    MutexLock lock(control_mu_);
    control_jobs_.push_back(std::move(job));
    // Started on first use: most servers never load or unload through the API, and a thread
    // per handler that only waits would count against the server's thread budget.
    if (!control_thread_.joinable()) control_thread_ = std::thread([this] { ControlLoop(); });
  }
  control_cv_.NotifyAll();
}

void RequestHandler::WaitForControlWork() {
  MutexLock lock(control_mu_);
  control_cv_.Wait(control_mu_, [this]() REQUIRES(control_mu_) {
    return control_jobs_.empty() && !control_busy_;
  });
}

void RequestHandler::ControlLoop() {
  for (;;) {
    std::function<void()> job;
    {
      MutexLock lock(control_mu_);
      control_busy_ = false;
      control_cv_.NotifyAll();  // WaitForControlWork
      control_cv_.Wait(control_mu_, [this]() REQUIRES(control_mu_) {
        return control_stop_ || !control_jobs_.empty();
      });
      if (control_jobs_.empty()) return;  // stopping, and nothing left to do
      job = std::move(control_jobs_.front());
      control_jobs_.pop_front();
      control_busy_ = true;
    }
    job();
  }
}

}  // namespace inferd::handler
