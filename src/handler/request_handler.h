// RequestHandler: the frontend-neutral layer between the transports (http/, grpc/) and the
// InferenceServer facade — TF Serving's REST-handler idea, for both protocols. It owns what
// every call needs whatever carried it: admission (credentials, rate limit), tracing, the
// access log, cancellation of queued work when a client goes away, the connection count, and
// the facade calls themselves, answered in the server's own types. A transport only reads its
// wire format, routes, calls a method here, and writes the answer; so HTTP and gRPC behave the
// same. One handler per frontend (each has its own Authorizer: Triton restricts the HTTP and
// gRPC APIs separately); they share the server, the tracer and the rate limiter.
// Thread-safe. Nothing here blocks the calling thread on inference; repository loads and
// unloads run on the handler's own control thread.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/mutex.h"
#include "handler/admission.h"
#include "handler/call_record.h"
#include "handler/repository_index.h"
#include "handler/shared_memory.h"
#include "handler/trace_settings.h"
#include "metrics/connection_stats.h"
#include "observability/tracer.h"
#include "server/inference_server.h"

namespace inferd::handler {

enum class Transport { kHttp, kGrpc };

class RequestHandler {
 public:
  struct Options {
    server::InferenceServer* server = nullptr;  // required; not owned, must outlive the handler
    Transport transport = Transport::kHttp;     // whose connections and access lines these are
    // Credentials and restrictions; not owned, must outlive the handler; null = allow all.
    const security::Authorizer* authorizer = nullptr;
    // Per-client call rate; not owned, must outlive the handler; null = no limit.
    security::RateLimiter* rate_limiter = nullptr;
    // Traces sampled inference calls; not owned, must outlive the handler; null = no traces.
    observability::Tracer* tracer = nullptr;
    // Triton's trace settings over `tracer`; not owned, must outlive the handler; null = the
    // tracer's sample rate alone decides, and the trace settings API answers UNAVAILABLE.
    TraceSettings* trace_settings = nullptr;
    // Registered system shared memory regions, shared by both frontends; not owned, must
    // outlive the handler; null = requests naming a region are refused.
    SharedMemoryRegistry* shared_memory = nullptr;
  };

  // INVALID_ARGUMENT without a server.
  static Result<std::unique_ptr<RequestHandler>> Create(const Options& options);
  // Runs the control work already queued (their callbacks included), then joins the thread.
  ~RequestHandler();

  // --- admission -------------------------------------------------------------------------
  bool admission_enabled() const { return admission_.enabled(); }
  std::optional<Rejection> Admit(security::ApiCategory api, const security::HeaderLookup& header,
                                 std::string_view peer_address) const {
    return admission_.Admit(api, header, peer_address);
  }

  // --- observation -----------------------------------------------------------------------
  // A fresh record for a call read at this moment.
  static CallRecord StartCall(uint64_t body_bytes);
  // Decides whether the call is traced: a W3C `traceparent` value (may be empty) and then the
  // tracer's sample rate. A traced call answers with `TraceParentOf(record)`.
  void StartTrace(CallRecord& record, std::string_view traceparent) const;
  static std::string TraceParentOf(const CallRecord& record);
  // Triton's trace settings for `model` ("" = global); NOT_FOUND for an unknown model.
  Result<TraceSettings::Values> GetTraceSettings(std::string_view model) const;
  Result<TraceSettings::Values> UpdateTraceSettings(std::string_view model,
                                                    const TraceSettings::Update& update) const;
  // The access log line (when enabled) and the trace (when traced) of a finished call.
  void FinishCall(const CallRecord& record, const CallOutcome& outcome) const;
  // The transport's connection gauge and counter.
  metrics::ConnectionStats& connections() const;

  // --- inference -------------------------------------------------------------------------
  // Runs `request` for the call in `record` (which gets its InferCall, the request's
  // cancellation flag and the facade's observation). `done` is called exactly once: on this
  // thread for errors found before queueing, otherwise on a model worker. Cancel with
  // record.Cancel() (or through a copy of record.infer) while it waits.
  void Infer(CallRecord& record, InferenceRequest request, server::InferCallback done) const;

  // --- system shared memory (Triton's extension) -----------------------------------------
  Status RegisterSharedMemory(std::string_view name, std::string_view key, uint64_t offset,
                              uint64_t byte_size) const;
  Status UnregisterSharedMemory(std::string_view name) const;  // "" = every region
  Result<std::vector<SharedMemoryRegionStatus>> SharedMemoryStatus(std::string_view name) const;

  // --- health, metadata, statistics --------------------------------------------------------
  bool IsLive() const { return server_->IsLive(); }
  bool IsReady() const { return server_->IsReady(); }
  server::ServerMetadata ServerMetadata() const { return server_->Metadata(); }
  Result<server::ModelMetadata> ModelMetadata(std::string_view model, int64_t version) const {
    return server_->GetModelMetadata(model, version);
  }
  // OK when READY; NOT_FOUND for an unknown model; another code when it is not READY.
  Status ModelReady(std::string_view model, int64_t version) const {
    return server_->ModelReady(model, version);
  }
  Result<config::ModelConfig> ModelConfig(std::string_view model, int64_t version) const {
    return server_->GetModelConfig(model, version);
  }
  Result<std::string> ModelConfigJson(std::string_view model, int64_t version) const {
    return server_->GetModelConfigJson(model, version);
  }
  Result<std::vector<server::ModelStatistics>> ModelStatistics(std::string_view model,
                                                               int64_t version) const {
    return server_->GetModelStatistics(model, version);
  }
  std::string MetricsText() const { return server_->MetricsText(); }

  // --- repository ------------------------------------------------------------------------
  std::vector<IndexEntry> RepositoryIndex(bool ready_only) const;
  // Loads (explicit mode) on the control thread, one at a time, then calls `done` there.
  // `config_json`: Triton's load "config" parameter (a config override as JSON).
  void LoadModel(std::string model, std::optional<std::string> config_json,
                 std::function<void(Status)> done) EXCLUDES(control_mu_);
  void UnloadModel(std::string model, std::function<void(Status)> done) EXCLUDES(control_mu_);
  // Routing extension (inferd's own): `policy` as "latest" | "pinned:<v>" |
  // "weighted:<v>=<w>,..."; answers the policy now in force, in that form.
  Result<std::string> SetRouting(std::string_view model, std::string_view policy) const;
  Result<std::string> Rollback(std::string_view model) const;
  // Blocks until every load and unload queued so far has finished and its callback has run:
  // a transport calls it before it tears down what those callbacks post to.
  void WaitForControlWork() EXCLUDES(control_mu_);

 private:
  explicit RequestHandler(const Options& options);
  void RunOnControlThread(std::function<void()> job) EXCLUDES(control_mu_);
  void ControlLoop() EXCLUDES(control_mu_);

  const Options options_;
  server::InferenceServer* const server_;
  const Admission admission_;

  Mutex control_mu_;
  CondVar control_cv_;
  std::deque<std::function<void()>> control_jobs_ GUARDED_BY(control_mu_);
  bool control_stop_ GUARDED_BY(control_mu_) = false;
  bool control_busy_ GUARDED_BY(control_mu_) = false;  // a job is running
  std::thread control_thread_ GUARDED_BY(control_mu_);  // started by the first control job
};

}  // namespace inferd::handler
