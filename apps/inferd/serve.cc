#include "serve.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "grpc/grpc_server.h"
#include "handler/request_handler.h"
#include "http/http_server.h"
#include "jobs/job_manager.h"
#include "observability/logging.h"
#include "observability/payload_logger.h"
#include "observability/tracer.h"
#include "security/authorizer.h"
#include "security/rate_limiter.h"
#include "server/inference_server.h"
#include "server/version.h"

namespace inferd::app {
namespace {

// The payload logger --payload-log-url asks for; null without one.
Result<std::unique_ptr<observability::PayloadLogger>> MakePayloadLogger(
    const ServeFlags& flags, uint16_t http_port) {
  using observability::PayloadLogger;
  if (flags.payload_log_url.empty()) return std::unique_ptr<PayloadLogger>();
  PayloadLogger::Options options;
  options.url = flags.payload_log_url;
  options.sample_rate = flags.payload_log_rate;
  ASSIGN_OR_RETURN(options.mode, observability::ParsePayloadLogMode(flags.payload_log_mode));
  options.max_queued = flags.payload_log_max_queued;
  options.timeout_ms = flags.payload_log_timeout_ms;
  options.source = fmt::format("http://{}:{}/", flags.host, http_port);
  options.service_name = flags.payload_log_service_name;
  options.namespace_name = flags.payload_log_namespace;
  return PayloadLogger::Create(options);
}

// The job manager --jobs-db asks for, running jobs through `handler`; null without a database.
Result<std::unique_ptr<jobs::JobManager>> MakeJobManager(
    const ServeFlags& flags, handler::RequestHandler* handler) {
  using jobs::JobManager;
  if (flags.jobs_db.empty()) return std::unique_ptr<JobManager>();
  JobManager::Options options;
  options.db_path = flags.jobs_db;
  options.max_queued = flags.jobs_max_queued;
  options.ttl_seconds = flags.jobs_ttl_secs;
  options.workers = flags.jobs_workers;
  options.allow_callbacks = flags.jobs_callbacks;
  options.callbacks.max_attempts = flags.jobs_callback_attempts;
  // A job runs as a synchronous HTTP request would once admitted: through the handler (so
  // traces, shared memory and cancellation behave alike), with its own call record.
  options.runner = [handler](InferenceRequest request, JobManager::InferDone done) {
    auto record = handler::RequestHandler::StartCall(0);
    record.model = request.model_name;
    record.version = request.model_version;
    record.infer = std::make_shared<handler::InferCall>();
    auto call = record.infer;
    handler->Infer(record, std::move(request), std::move(done));
    return std::function<void()>([call] { call->cancelled.store(true); });
  };
  return JobManager::Create(std::move(options));
}

// The HTTP or gRPC frontend's authorizer: the shared tokens plus that protocol's restrictions.
Result<security::Authorizer> MakeAuthorizer(
    const ServeFlags& flags, const std::vector<std::string>& restrictions) {
  security::Authorizer::Options options;
  options.open_health = !flags.auth_protect_health;
  if (!flags.auth_token_file.empty()) {
    ASSIGN_OR_RETURN(options.tokens, security::TokenTable::Load(flags.auth_token_file));
    if (options.tokens->empty()) {
      return InvalidArgument(
          fmt::format("token file '{}' holds no token", flags.auth_token_file));
    }
  }
  for (const auto& spec : restrictions) {
    ASSIGN_OR_RETURN(auto restricted, security::ParseRestrictedApi(spec));
    options.restricted.push_back(std::move(restricted));
  }
  return security::Authorizer::Create(std::move(options));
}

// The tracer --trace-file / --trace-endpoint ask for; null when neither is set.
Result<std::unique_ptr<observability::Tracer>> MakeTracer(
    const ServeFlags& flags) {
  if (flags.trace_file.empty() && flags.trace_endpoint.empty()) {
    return std::unique_ptr<observability::Tracer>();
  }
  observability::Tracer::Options trace_options;
  trace_options.sample_rate = flags.trace_rate;
  trace_options.file = flags.trace_file;
  trace_options.otlp_endpoint = flags.trace_endpoint;
  return observability::Tracer::Create(trace_options);
}

// The cores this process may run on (its affinity mask: taskset, a cgroup cpuset), at least 1.
int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}
// Logging as the flags ask; false (with the reason on stderr) for a bad setting.
bool SetUpLogging(const ServeFlags& flags) {
  observability::LogSettings settings;
  settings.level = flags.log_level;
  settings.format = observability::ParseLogFormat(flags.log_format).value();
  settings.access_log = flags.access_log;
  if (auto s = observability::ConfigureLogging(settings); !s.ok()) {
    spdlog::critical("{}", s.message());
    return false;
  }
  return true;
}

// The parts of a running server, made by Start in dependency order; Stop takes them down in the
// order shutdown needs (see there).
class ServeProcess {
 public:
  explicit ServeProcess(const ServeFlags& flags) : flags_(flags) {}

  Status Start() {
    RETURN_IF_ERROR(MakeAuthorizers());  // before the models load: a bad token file fails fast
    RETURN_IF_ERROR(StartServer());
    RETURN_IF_ERROR(MakeHandlers());
    return StartFrontends();
  }

  // Readiness false at once, so load balancers stop routing here; keep serving through the
  // grace period for the requests they still send, then stop accepting and let in-flight
  // requests finish, bounded by the drain timeout.
  void Drain() {
    server_->BeginDrain();
    if (grpc_) grpc_->SetNotServing();
    std::this_thread::sleep_for(std::chrono::seconds(flags_.drain_grace_secs));
    const auto drain_timeout = std::chrono::seconds(flags_.drain_timeout_secs);
    const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    std::thread grpc_drain;
    if (grpc_) {
      // gRPC calls in flight finish first: their models are still running.
      grpc_drain = std::thread([this, drain_timeout] { grpc_->Drain(drain_timeout); });
    }
    if (int left = http_->Drain(deadline); left > 0) {
      spdlog::warn("drain timeout: {} HTTP request(s) still in flight are dropped", left);
    }
    if (grpc_drain.joinable()) grpc_drain.join();
  }

  // Stops the transports first; then the models (workers finish queued requests and post their
  // answers to the stopped I/O contexts, which are still alive); then frees the transports,
  // whose connections still report to the server's counters as they close; the server last.
  void Stop() {
    if (http_) http_->Stop();
    if (metrics_http_) metrics_http_->Stop();
    // Running jobs finish (their models still run); queued ones stay queued in the database.
    if (jobs_) jobs_->Stop();
    if (server_) server_->StopModels();
    http_.reset();
    metrics_http_.reset();
    jobs_.reset();
    grpc_.reset();
    payload_logger_.reset();  // after both frontends, which hand it events
    http_handler_.reset();
    grpc_handler_.reset();
    metrics_handler_.reset();
    server_.reset();
  }

 private:
  Status MakeAuthorizers() {
    ASSIGN_OR_RETURN(http_auth_, MakeAuthorizer(flags_, flags_.http_restricted_api));
    ASSIGN_OR_RETURN(grpc_auth_, MakeAuthorizer(flags_, flags_.grpc_restricted_protocol));
    if (!flags_.auth_token_file.empty()) {
      spdlog::info("API tokens required (token file '{}')", flags_.auth_token_file);
    }
    return Status::Ok();
  }

  // The model server over the repositories, with the CPU budget shared by engines and I/O.
  Status StartServer() {
    spdlog::info("inferd {} starting; model repository '{}'", server::kVersion,
                 fmt::join(flags_.model_repositories, "', '"));
    server::InferenceServer::Options options;
    options.model_repositories = flags_.model_repositories;
    options.repository_sources = {.cache_directory = flags_.model_cache_directory,
                                  .s3_endpoint = flags_.s3_endpoint};
    options.backend_directory = flags_.backend_directory;
    options.cache_size_bytes = flags_.cache_size;
    options.control_mode = repository::ParseControlMode(flags_.model_control_mode).value();
    options.startup_models = flags_.load_models;
    options.lazy_load = flags_.lazy_load;
    options.model_memory_budget_bytes = flags_.model_memory_budget;
    options.repository_poll_seconds = flags_.repository_poll_secs;
    options.request_limits = flags_.request_limits;
    const int budget = flags_.cpu_threads > 0 ? flags_.cpu_threads : AvailableCores();
    options.cpu_cores = static_cast<unsigned>(budget);
    ASSIGN_OR_RETURN(options.backend_config, backends::ParseBackendConfig(flags_.backend_config));
    // One budget for the whole server: the engines' shared pool and the I/O threads.
    http_threads_ = flags_.http_threads > 0 ? flags_.http_threads : std::min(2, budget);
    spdlog::info("CPU budget: {} thread(s): the engines' shared pool {}, HTTP I/O {}", budget,
                 budget, http_threads_);
    ASSIGN_OR_RETURN(server_, server::InferenceServer::Create(options));
    for (const auto& model : server_->RepositoryIndex()) {
      std::string versions;
      for (const auto& v : model.versions) {
        versions += fmt::format("{}{}={}", versions.empty() ? "" : ", ", v.version,
                                repository::ModelStateName(v.state));
      }
      spdlog::info("model '{}': {} [{}]{}", model.name, repository::ModelStateName(model.state),
                   versions, model.reason.empty() ? "" : " — " + model.reason);
    }
    return Status::Ok();
  }

  // One request handler per frontend: each with its protocol's restrictions, both sharing the
  // rate limit buckets, the tracer and its settings; the metrics listener's handler checks
  // nothing. Then the jobs and the payload logger, which the frontends hand work to.
  Status MakeHandlers() {
    rate_limiter_.emplace(security::RateLimiter::Options{
        .requests_per_second = flags_.rate_limit_rps, .burst = flags_.rate_limit_burst});
    ASSIGN_OR_RETURN(tracer_, MakeTracer(flags_));
    trace_settings_.emplace(tracer_.get());  // Triton's trace settings, one set for both
    using handler::RequestHandler;
    using handler::Transport;
    const auto frontend = [this](Transport transport, const security::Authorizer& authorizer) {
      return RequestHandler::Create({.server = server_.get(),
                                     .transport = transport,
                                     .authorizer = &authorizer,
                                     .rate_limiter = &*rate_limiter_,
                                     .tracer = tracer_.get(),
                                     .trace_settings = &*trace_settings_,
                                     .shared_memory = &shared_memory_});
    };
    ASSIGN_OR_RETURN(http_handler_, frontend(Transport::kHttp, *http_auth_));
    ASSIGN_OR_RETURN(grpc_handler_, frontend(Transport::kGrpc, *grpc_auth_));
    ASSIGN_OR_RETURN(metrics_handler_, RequestHandler::Create({.server = server_.get(),
                                                               .transport = Transport::kHttp}));
    ASSIGN_OR_RETURN(jobs_, MakeJobManager(flags_, http_handler_.get()));
    ASSIGN_OR_RETURN(payload_logger_, MakePayloadLogger(flags_, flags_.http_port));
    return Status::Ok();
  }

  // gRPC serves before HTTP starts answering, so HTTP readiness implies both frontends are up.
  Status StartFrontends() {
    http::HttpServer::Options http_options;
    http_options.jobs = jobs_.get();
    http_options.payload_logger = payload_logger_.get();
    http_options.host = flags_.host;
    http_options.port = flags_.http_port;
    http_options.io_threads = http_threads_;
    http_options.max_body_bytes = flags_.http_max_body_bytes;
    http_options.max_connections = flags_.max_connections;
    http_options.header_timeout_seconds = flags_.http_header_timeout_secs;
    http_options.idle_timeout_seconds = flags_.http_idle_timeout_secs;
    http_options.tls = {flags_.tls_cert, flags_.tls_key, flags_.tls_client_ca};
    ASSIGN_OR_RETURN(http_, http::HttpServer::Create(http_options, http_handler_.get()));
    if (flags_.grpc_port != 0) {
      grpc::GrpcServer::Options grpc_options;
      grpc_options.host = flags_.host;
      grpc_options.port = flags_.grpc_port;
      grpc_options.max_message_bytes = flags_.grpc_max_message_bytes;
      // ModelInfer's pollers, from the same I/O share: grpc++'s callback API polls on two
      // threads of its own as well, and one poller per two HTTP threads measured as fast as one
      // each.
      grpc_options.infer_threads = std::max(1, http_threads_ / 2);
      grpc_options.payload_logger = payload_logger_.get();
      grpc_options.tls = {flags_.tls_cert, flags_.tls_key, flags_.tls_client_ca};
      ASSIGN_OR_RETURN(grpc_, grpc::GrpcServer::Create(grpc_options, grpc_handler_.get()));
      spdlog::info("gRPC listening on {}:{}", flags_.host, grpc_->port());
    }
    if (flags_.metrics_port != 0) {
      http::HttpServer::Options metrics_options;
      metrics_options.host = flags_.host;
      metrics_options.port = flags_.metrics_port;
      metrics_options.io_threads = 1;
      metrics_options.metrics_only = true;
      metrics_options.jobs = jobs_.get();
      metrics_options.payload_logger = payload_logger_.get();
      ASSIGN_OR_RETURN(metrics_http_,
                       http::HttpServer::Create(metrics_options, metrics_handler_.get()));
      metrics_http_->Start();
      spdlog::info("metrics listening on {}:{}", flags_.host, metrics_http_->port());
    }
    http_->Start();
    spdlog::info("HTTP listening on {}:{}", flags_.host, http_->port());
    return Status::Ok();
  }

  const ServeFlags& flags_;
  int http_threads_ = 1;
  std::unique_ptr<server::InferenceServer> server_;
  std::optional<security::Authorizer> http_auth_;
  std::optional<security::Authorizer> grpc_auth_;
  std::optional<security::RateLimiter> rate_limiter_;
  std::unique_ptr<observability::Tracer> tracer_;
  std::optional<handler::TraceSettings> trace_settings_;
  // Registered system shared memory regions, one registry for both frontends.
  handler::SharedMemoryRegistry shared_memory_;
  std::unique_ptr<handler::RequestHandler> http_handler_;
  std::unique_ptr<handler::RequestHandler> grpc_handler_;
  std::unique_ptr<handler::RequestHandler> metrics_handler_;
  std::unique_ptr<jobs::JobManager> jobs_;
  std::unique_ptr<observability::PayloadLogger> payload_logger_;
  std::unique_ptr<http::HttpServer> http_;
  std::unique_ptr<grpc::GrpcServer> grpc_;
  std::unique_ptr<http::HttpServer> metrics_http_;
};

}  // namespace

int Serve(const ServeFlags& flags) {
  if (!SetUpLogging(flags)) return EXIT_FAILURE;
  // Block the shutdown signals in every thread; the main thread waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServeProcess process(flags);
  if (Status started = process.Start(); !started.ok()) {
    spdlog::critical("{}", started.message());
    return EXIT_FAILURE;  // what started is taken down in reverse order by ~ServeProcess
  }
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received; draining (a second signal exits at once)", sig);
  // A second signal ends the process now, whatever is in flight.
  std::thread([signals] {
    int again = 0;
    sigwait(&signals, &again);
    spdlog::warn("signal {} received again; exiting without finishing in-flight requests", again);
    spdlog::default_logger()->flush();
    std::_Exit(128 + again);
  }).detach();
  process.Drain();
  process.Stop();
  spdlog::info("stopped");
  return EXIT_SUCCESS;
}

}  // namespace inferd::app
