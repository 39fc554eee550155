// inferd command line: `inferd serve` runs the server; `--version` and `--help` as usual.
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
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
#include "bench_command.h"
#include "predict_command.h"
#include "tune_command.h"

namespace {

struct ServeFlags {
  std::vector<std::string> model_repositories;  // directories or s3:// URLs, searched in order
  std::string model_cache_directory = "/tmp/inferd-model-cache";
  std::string s3_endpoint;
  std::string backend_directory;
  std::string host = "127.0.0.1";
  uint16_t http_port = 8000;
  int http_threads = 0;
  int cpu_threads = 0;                       // the CPU budget; 0 = the cores we may run on
  std::vector<std::string> backend_config;  // Triton's --backend-config entries
  uint64_t http_max_body_bytes = 64ull << 20;
  uint16_t grpc_port = 8001;                // 0 disables the gRPC frontend
  int grpc_max_message_bytes = 64 << 20;
  std::string log_level = "info";
  std::string log_format = "text";          // text | json
  bool access_log = false;                  // one log line per HTTP request
  uint16_t metrics_port = 0;                // a separate /metrics listener; 0 = none
  uint64_t cache_size = 0;                  // response cache bytes; 0 = no cache
  double trace_rate = 0;                    // share of requests traced without a traceparent
  std::string trace_file;                   // OTLP JSON lines
  std::string trace_endpoint;               // OTLP/HTTP collector URL
  std::string model_control_mode = "none";  // none | poll | explicit
  int repository_poll_secs = 15;
  std::vector<std::string> load_models;     // explicit mode: models loaded at start
  bool lazy_load = false;                   // load models on their first request
  uint64_t model_memory_budget = 0;         // bytes; 0 = unlimited
  std::string auth_token_file;              // `token scope` lines; empty = no tokens asked
  std::vector<std::string> http_restricted_api;       // Triton's API,...:header=value
  std::vector<std::string> grpc_restricted_protocol;  // the same for gRPC
  bool auth_protect_health = false;         // health endpoints need an infer token too
  int drain_grace_secs = 0;    // after SIGTERM: readiness false, still accepting, for this long
  int drain_timeout_secs = 30;  // then: in-flight requests get this long to finish
  int max_connections = 0;      // HTTP connections; 0 = no cap
  int http_header_timeout_secs = 10;
  int http_idle_timeout_secs = 60;
  double rate_limit_rps = 0;    // per token or IP; 0 = no limit
  double rate_limit_burst = 0;
  std::string tls_cert;       // PEM; with tls_key, HTTP and gRPC speak only TLS
  std::string tls_key;
  std::string tls_client_ca;  // PEM CA(s); set = mutual TLS
  inferd::server::RequestLimits request_limits;
  // Asynchronous jobs (docs/http-api.md); off without a database.
  std::string jobs_db;
  size_t jobs_max_queued = 1000;
  int64_t jobs_ttl_secs = 86400;
  int jobs_workers = 2;
  bool jobs_callbacks = false;
  int jobs_callback_attempts = 5;
  // Payload logging (KServe's logger); off without a URL.
  std::string payload_log_url;
  double payload_log_rate = 1.0;
  std::string payload_log_mode = "all";
  size_t payload_log_max_queued = 1000;
  int payload_log_timeout_ms = 2000;
  std::string payload_log_service_name;
  std::string payload_log_namespace;
};

// The payload logger --payload-log-url asks for; null without one.
inferd::Result<std::unique_ptr<inferd::observability::PayloadLogger>> MakePayloadLogger(
    const ServeFlags& flags, uint16_t http_port) {
  using inferd::observability::PayloadLogger;
  if (flags.payload_log_url.empty()) return std::unique_ptr<PayloadLogger>();
  PayloadLogger::Options options;
  options.url = flags.payload_log_url;
  options.sample_rate = flags.payload_log_rate;
  ASSIGN_OR_RETURN(options.mode, inferd::observability::ParsePayloadLogMode(flags.payload_log_mode));
  options.max_queued = flags.payload_log_max_queued;
  options.timeout_ms = flags.payload_log_timeout_ms;
  options.source = fmt::format("http://{}:{}/", flags.host, http_port);
  options.service_name = flags.payload_log_service_name;
  options.namespace_name = flags.payload_log_namespace;
  return PayloadLogger::Create(options);
}

// The job manager --jobs-db asks for, running jobs through `handler`; null without a database.
inferd::Result<std::unique_ptr<inferd::jobs::JobManager>> MakeJobManager(
    const ServeFlags& flags, inferd::handler::RequestHandler* handler) {
  using inferd::jobs::JobManager;
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
  options.runner = [handler](inferd::InferenceRequest request, JobManager::InferDone done) {
    auto record = inferd::handler::RequestHandler::StartCall(0);
    record.model = request.model_name;
    record.version = request.model_version;
    record.infer = std::make_shared<inferd::handler::InferCall>();
    auto call = record.infer;
    handler->Infer(record, std::move(request), std::move(done));
    return std::function<void()>([call] { call->cancelled.store(true); });
  };
  return JobManager::Create(std::move(options));
}

// The HTTP or gRPC frontend's authorizer: the shared tokens plus that protocol's restrictions.
inferd::Result<inferd::security::Authorizer> MakeAuthorizer(
    const ServeFlags& flags, const std::vector<std::string>& restrictions) {
  inferd::security::Authorizer::Options options;
  options.open_health = !flags.auth_protect_health;
  if (!flags.auth_token_file.empty()) {
    ASSIGN_OR_RETURN(options.tokens, inferd::security::TokenTable::Load(flags.auth_token_file));
    if (options.tokens->empty()) {
      return inferd::InvalidArgument(
          fmt::format("token file '{}' holds no token", flags.auth_token_file));
    }
  }
  for (const auto& spec : restrictions) {
    ASSIGN_OR_RETURN(auto restricted, inferd::security::ParseRestrictedApi(spec));
    options.restricted.push_back(std::move(restricted));
  }
  return inferd::security::Authorizer::Create(std::move(options));
}

// The tracer --trace-file / --trace-endpoint ask for; null when neither is set.
inferd::Result<std::unique_ptr<inferd::observability::Tracer>> MakeTracer(
    const ServeFlags& flags) {
  if (flags.trace_file.empty() && flags.trace_endpoint.empty()) {
    return std::unique_ptr<inferd::observability::Tracer>();
  }
  inferd::observability::Tracer::Options trace_options;
  trace_options.sample_rate = flags.trace_rate;
  trace_options.file = flags.trace_file;
  trace_options.otlp_endpoint = flags.trace_endpoint;
  return inferd::observability::Tracer::Create(trace_options);
}

// The cores this process may run on (its affinity mask: taskset, a cgroup cpuset), at least 1.
int AvailableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int Serve(const ServeFlags& flags) {
  inferd::observability::LogSettings log_settings;
  log_settings.level = flags.log_level;
  log_settings.format = inferd::observability::ParseLogFormat(flags.log_format).value();
  log_settings.access_log = flags.access_log;
  if (auto s = inferd::observability::ConfigureLogging(log_settings); !s.ok()) {
    spdlog::critical("{}", s.message());
    return EXIT_FAILURE;
  }

  // Block the shutdown signals in every thread; the main thread waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto http_auth = MakeAuthorizer(flags, flags.http_restricted_api);
  auto grpc_auth = MakeAuthorizer(flags, flags.grpc_restricted_protocol);
  for (const auto* auth : {&http_auth, &grpc_auth}) {
    if (!auth->ok()) {
      spdlog::critical("{}", auth->status().message());
      return EXIT_FAILURE;
    }
  }
  if (!flags.auth_token_file.empty()) {
    spdlog::info("API tokens required (token file '{}')", flags.auth_token_file);
  }

  spdlog::info("inferd {} starting; model repository '{}'", inferd::server::kVersion,
               fmt::join(flags.model_repositories, "', '"));
  inferd::server::InferenceServer::Options server_options;
  server_options.model_repositories = flags.model_repositories;
  server_options.repository_sources = {.cache_directory = flags.model_cache_directory,
                                       .s3_endpoint = flags.s3_endpoint};
  server_options.backend_directory = flags.backend_directory;
  server_options.cache_size_bytes = flags.cache_size;
  server_options.control_mode =
      inferd::repository::ParseControlMode(flags.model_control_mode).value();
  server_options.startup_models = flags.load_models;
  server_options.lazy_load = flags.lazy_load;
  server_options.model_memory_budget_bytes = flags.model_memory_budget;
  server_options.repository_poll_seconds = flags.repository_poll_secs;
  server_options.request_limits = flags.request_limits;
  const int budget = flags.cpu_threads > 0 ? flags.cpu_threads : AvailableCores();
  server_options.cpu_cores = static_cast<unsigned>(budget);
  auto backend_config = inferd::backends::ParseBackendConfig(flags.backend_config);
  if (!backend_config.ok()) {
    spdlog::critical("{}", backend_config.status().message());
    return EXIT_FAILURE;
  }
  server_options.backend_config = std::move(backend_config).value();
  // One budget for the whole server: the engines' shared pool and the I/O threads.
  const int http_threads = flags.http_threads > 0 ? flags.http_threads : std::min(2, budget);
  spdlog::info("CPU budget: {} thread(s): the engines' shared pool {}, HTTP I/O {}", budget,
               budget, http_threads);
  auto server = inferd::server::InferenceServer::Create(server_options);
  if (!server.ok()) {
    spdlog::critical("{}", server.status().message());
    return EXIT_FAILURE;
  }
  for (const auto& model : (*server)->RepositoryIndex()) {
    std::string versions;
    for (const auto& v : model.versions) {
      versions += fmt::format("{}{}={}", versions.empty() ? "" : ", ", v.version,
                              inferd::repository::ModelStateName(v.state));
    }
    spdlog::info("model '{}': {} [{}]{}", model.name,
                 inferd::repository::ModelStateName(model.state), versions,
                 model.reason.empty() ? "" : " — " + model.reason);
  }

  inferd::security::RateLimiter rate_limiter(
      {.requests_per_second = flags.rate_limit_rps, .burst = flags.rate_limit_burst});
  auto tracer = MakeTracer(flags);
  if (!tracer.ok()) {
    spdlog::critical("{}", tracer.status().message());
    return EXIT_FAILURE;
  }
  // Triton's trace settings, one set for both frontends.
  inferd::handler::TraceSettings trace_settings(tracer->get());
  // Registered system shared memory regions, one registry for both frontends.
  inferd::handler::SharedMemoryRegistry shared_memory;
  // One request handler per frontend: each with its protocol's restrictions, both sharing the
  // rate limit buckets, the tracer and its settings. The metrics listener's handler checks nothing.
  using inferd::handler::RequestHandler;
  using inferd::handler::Transport;
  auto http_handler = RequestHandler::Create({.server = server->get(),
                                              .transport = Transport::kHttp,
                                              .authorizer = &http_auth.value(),
                                              .rate_limiter = &rate_limiter,
                                              .tracer = tracer->get(),
                                              .trace_settings = &trace_settings,
                                              .shared_memory = &shared_memory});
  auto grpc_handler = RequestHandler::Create({.server = server->get(),
                                              .transport = Transport::kGrpc,
                                              .authorizer = &grpc_auth.value(),
                                              .rate_limiter = &rate_limiter,
                                              .tracer = tracer->get(),
                                              .trace_settings = &trace_settings,
                                              .shared_memory = &shared_memory});
  auto metrics_handler =
      RequestHandler::Create({.server = server->get(), .transport = Transport::kHttp});
  for (const auto* h : {&http_handler, &grpc_handler, &metrics_handler}) {
    if (!h->ok()) {
      spdlog::critical("{}", h->status().message());
      return EXIT_FAILURE;
    }
  }

  auto jobs = MakeJobManager(flags, http_handler->get());
  if (!jobs.ok()) {
    spdlog::critical("{}", jobs.status().message());
    return EXIT_FAILURE;
  }
  auto payload_logger = MakePayloadLogger(flags, flags.http_port);
  if (!payload_logger.ok()) {
    spdlog::critical("{}", payload_logger.status().message());
    return EXIT_FAILURE;
  }

  inferd::http::HttpServer::Options http_options;
  http_options.jobs = jobs->get();
  http_options.payload_logger = payload_logger->get();
  http_options.host = flags.host;
  http_options.port = flags.http_port;
  http_options.io_threads = http_threads;
  http_options.max_body_bytes = flags.http_max_body_bytes;
  http_options.max_connections = flags.max_connections;
  http_options.header_timeout_seconds = flags.http_header_timeout_secs;
  http_options.idle_timeout_seconds = flags.http_idle_timeout_secs;
  http_options.tls = {flags.tls_cert, flags.tls_key, flags.tls_client_ca};
  auto http = inferd::http::HttpServer::Create(http_options, http_handler->get());
  if (!http.ok()) {
    spdlog::critical("{}", http.status().message());
    return EXIT_FAILURE;
  }
  // gRPC serves before HTTP starts answering, so HTTP readiness implies both frontends are up.
  std::unique_ptr<inferd::grpc::GrpcServer> grpc_frontend;
  if (flags.grpc_port != 0) {
    inferd::grpc::GrpcServer::Options grpc_options;
    grpc_options.host = flags.host;
    grpc_options.port = flags.grpc_port;
    grpc_options.max_message_bytes = flags.grpc_max_message_bytes;
    // ModelInfer's pollers, from the same I/O share: grpc++'s callback API polls on two threads
    // of its own as well, and one poller per two HTTP threads measured as fast as one each.
    grpc_options.infer_threads = std::max(1, http_threads / 2);
    grpc_options.payload_logger = payload_logger->get();
    grpc_options.tls = {flags.tls_cert, flags.tls_key, flags.tls_client_ca};
    auto created = inferd::grpc::GrpcServer::Create(grpc_options, grpc_handler->get());
    if (!created.ok()) {
      spdlog::critical("{}", created.status().message());
      return EXIT_FAILURE;
    }
    grpc_frontend = std::move(created).value();
    spdlog::info("gRPC listening on {}:{}", flags.host, grpc_frontend->port());
  }

  std::unique_ptr<inferd::http::HttpServer> metrics_http;
  if (flags.metrics_port != 0) {
    inferd::http::HttpServer::Options metrics_options;
    metrics_options.host = flags.host;
    metrics_options.port = flags.metrics_port;
    metrics_options.io_threads = 1;
    metrics_options.metrics_only = true;
    metrics_options.jobs = jobs->get();
    metrics_options.payload_logger = payload_logger->get();
    auto created = inferd::http::HttpServer::Create(metrics_options, metrics_handler->get());
    if (!created.ok()) {
      spdlog::critical("{}", created.status().message());
      return EXIT_FAILURE;
    }
    metrics_http = std::move(created).value();
    metrics_http->Start();
    spdlog::info("metrics listening on {}:{}", flags.host, metrics_http->port());
  }

  (*http)->Start();
  spdlog::info("HTTP listening on {}:{}", flags.host, (*http)->port());

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

  // Readiness false at once, so load balancers stop routing here; keep serving through the
  // grace period for the requests they still send, then stop accepting and let in-flight
  // requests finish, bounded by the drain timeout.
  (*server)->BeginDrain();
  if (grpc_frontend) grpc_frontend->SetNotServing();
  std::this_thread::sleep_for(std::chrono::seconds(flags.drain_grace_secs));
  const auto drain_timeout = std::chrono::seconds(flags.drain_timeout_secs);
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  std::thread grpc_drain;
  if (grpc_frontend) {
    // gRPC calls in flight finish first: their models are still running.
    grpc_drain = std::thread([&grpc_frontend, drain_timeout] {
      grpc_frontend->Drain(drain_timeout);
    });
  }
  if (int left = (*http)->Drain(deadline); left > 0) {
    spdlog::warn("drain timeout: {} HTTP request(s) still in flight are dropped", left);
  }
  if (grpc_drain.joinable()) grpc_drain.join();
  // Stop the transports first; then the models (workers finish queued requests and post their
  // answers to the stopped I/O contexts, which are still alive); then the transports, whose
  // connections still report to the server's counters as they close; the server last.
  (*http)->Stop();
  if (metrics_http) metrics_http->Stop();
  // Running jobs finish (their models still run); queued ones stay queued in the database.
  if (*jobs) (*jobs)->Stop();
  (*server)->StopModels();
  http->reset();
  metrics_http.reset();
  jobs->reset();
  grpc_frontend.reset();
  payload_logger->reset();  // after both frontends, which hand it events
  http_handler->reset();
  grpc_handler->reset();
  metrics_handler->reset();
  server->reset();
  spdlog::info("stopped");
  return EXIT_SUCCESS;
}

}  // namespace

// `inferd optimize ARGS` execs `inferd-optimize optimize ARGS` from inferd's own directory
// (apps/inferd/optimize_main.cc says why it is a separate executable). Returns only on failure.
int RunSiblingOptimize(int argc, char** argv) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  const std::filesystem::path sibling = self.parent_path() / "inferd-optimize";
  const std::string program = sibling.string();
  // argv[0] stays the name the user typed, so usage lines read "inferd optimize ...".
  std::vector<char*> args(argv, argv + argc);

  args.push_back(nullptr);
  if (!error) ::execv(program.c_str(), args.data());
  fmt::print(stderr, "inferd optimize runs {}, which could not be started: {}\n", program,
             error ? error.message() : std::strerror(errno));
  return EXIT_FAILURE;
}

int main(int argc, char** argv) {
  if (argc >= 2 && std::string_view(argv[1]) == "optimize") return RunSiblingOptimize(argc, argv);
  CLI::App app{"inferd: an inference server for ONNX models (KServe v2 / Triton protocols)"};
  app.set_version_flag("--version", std::string(inferd::server::kVersion));
  app.require_subcommand(1);

  ServeFlags flags;
  CLI::App* serve = app.add_subcommand("serve", "Serve the models of a model repository");
  serve->add_option("--model-repository", flags.model_repositories,
                    "Model repository (Triton layout): a directory or s3://bucket[/prefix]; "
                    "repeat for several, a model is served from the first that has it")
      ->required()
      ->take_all()
      ->check(CLI::Validator(
          [](std::string& v) {
            return v.starts_with("s3://") ? std::string() : CLI::ExistingDirectory(v);
          },
          "DIR|s3://BUCKET[/PREFIX]"));
  serve->add_option("--model-cache-directory", flags.model_cache_directory,
                    "Where s3:// repositories are downloaded to")
      ->capture_default_str();
  serve->add_option("--s3-endpoint", flags.s3_endpoint,
                    "S3 API endpoint for s3:// repositories, e.g. http://127.0.0.1:9000 for an "
                    "S3-compatible server (default: $AWS_ENDPOINT_URL, else AWS)");
  serve->add_option("--backend-directory", flags.backend_directory,
                    "Folder of the engine plugins (libinferd_backend_<name>.so), loaded when a "
                    "model first needs one; default: the build's, or ../lib/inferd/backends "
                    "beside the binary");
  serve->add_option("--host", flags.host, "Address to listen on")->capture_default_str();
  serve->add_option("--model-control-mode", flags.model_control_mode,
                    "none: load every model at start; poll: also reload what changes on disk; "
                    "explicit: load only --load-model and API requests")
      ->check(CLI::IsMember({"none", "poll", "explicit"}))
      ->capture_default_str();
  serve->add_option("--repository-poll-secs", flags.repository_poll_secs,
                    "Seconds between repository scans in poll mode")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve->add_option("--load-model", flags.load_models,
                    "Explicit mode: a model to load at start (repeatable; * = all)");
  serve->add_flag("--lazy-load", flags.lazy_load,
                  "Load a model that is on disk but not loaded on its first request");
  serve->add_option("--model-memory-budget", flags.model_memory_budget,
                    "Bytes of loaded models; least recently used idle models are unloaded to "
                    "fit a new one (0 = unlimited)")
      ->capture_default_str();
  serve->add_option("--http-port", flags.http_port, "HTTP port (0 picks a free port)")
      ->capture_default_str();
  serve->add_option("--cpu-threads", flags.cpu_threads,
                    "The CPU budget: engine threads of every model share one pool of this size, "
                    "and the HTTP I/O threads default to min(2, budget) (0 = the cores this "
                    "process may run on)")
      ->check(CLI::NonNegativeNumber);
  serve->add_option("--backend-config", flags.backend_config,
                    "Engine setting, as Triton's: <backend>,<setting>=<value>, or "
                    "<setting>=<value> for every engine (e.g. default-max-batch-size=8, "
                    "onnxruntime,enable-global-threadpool=0); repeatable");
  serve->add_option("--http-threads", flags.http_threads,
                    "HTTP I/O threads (0 = min(2, cores))")
      ->capture_default_str();
  serve->add_option("--http-max-body-bytes", flags.http_max_body_bytes,
                    "Largest accepted HTTP request body; larger ones get 413")
      ->capture_default_str();
  serve->add_option("--grpc-port", flags.grpc_port, "gRPC port (0 disables gRPC)")
      ->capture_default_str();
  serve->add_option("--grpc-max-message-bytes", flags.grpc_max_message_bytes,
                    "Largest accepted gRPC request or response message")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--log-level", flags.log_level, "trace, debug, info, warn, error, critical")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  serve->add_option("--log-format", flags.log_format, "Log line format: text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  serve->add_flag("--access-log", flags.access_log,
                  "Log one line per HTTP request (also settable at runtime: POST /v2/logging)");
  serve->add_option("--metrics-port", flags.metrics_port,
                    "Also serve GET /metrics on this port (0 = only on the HTTP port)")
      ->capture_default_str();
  serve->add_option("--cache-size", flags.cache_size,
                    "Response cache budget in bytes for models with response_cache { enable: "
                    "true } (0 = no cache)")
      ->capture_default_str();
  serve->add_option("--trace-rate", flags.trace_rate,
                    "Share of requests without a sampled traceparent that are traced, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  serve->add_option("--trace-file", flags.trace_file,
                    "Append traces to this file as OTLP JSON lines");
  serve->add_option("--trace-endpoint", flags.trace_endpoint,
                    "Export traces to this OTLP/HTTP collector (http://host:4318/v1/traces)");

  serve->add_option("--auth-token-file", flags.auth_token_file,
                    "API tokens, one 'token scope' per line (scope: infer or admin); requests "
                    "then need 'Authorization: Bearer <token>' (see docs/security.md)")
      ->check(CLI::ExistingFile);
  serve->add_option("--http-restricted-api", flags.http_restricted_api,
                    "Triton form API[,API...]:header=value: HTTP requests to those APIs need "
                    "that header (repeatable)");
  serve->add_option("--grpc-restricted-protocol", flags.grpc_restricted_protocol,
                    "Triton form API[,API...]:header=value for gRPC metadata (repeatable)");
  serve->add_flag("--auth-protect-health", flags.auth_protect_health,
                  "Health endpoints need an infer token too (default: open for probes)");
  CLI::Option* tls_cert =
      serve->add_option("--tls-cert", flags.tls_cert,
                        "PEM certificate chain; with --tls-key, HTTP and gRPC speak only TLS "
                        "(the --metrics-port listener stays plaintext)")
          ->check(CLI::ExistingFile);
  CLI::Option* tls_key =
      serve->add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert (unencrypted)")
          ->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  serve->add_option("--tls-client-ca", flags.tls_client_ca,
                    "PEM CA certificate(s): mutual TLS, clients must present a certificate "
                    "issued by one of them")
      ->check(CLI::ExistingFile)
      ->needs(tls_cert);

  serve->add_option("--max-connections", flags.max_connections,
                    "Open HTTP connections at most; more are answered 503 (0 = no cap)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve->add_option("--http-header-timeout-secs", flags.http_header_timeout_secs,
                    "Seconds a request header may take from its first byte (slow clients)")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  serve->add_option("--http-idle-timeout-secs", flags.http_idle_timeout_secs,
                    "Seconds an idle keep-alive connection stays open")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  serve->add_option("--rate-limit-rps", flags.rate_limit_rps,
                    "Requests per second per API token (or per IP without tokens); over it "
                    "HTTP 429 + Retry-After, gRPC RESOURCE_EXHAUSTED (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve->add_option("--rate-limit-burst", flags.rate_limit_burst,
                    "Requests a client may send at once before the rate applies "
                    "(0 = max(1, rate))")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve->add_option("--max-request-inputs", flags.request_limits.max_inputs,
                    "Input tensors per inference request (0 = no limit)")
      ->capture_default_str();
  serve->add_option("--max-request-elements", flags.request_limits.max_elements,
                    "Tensor elements over all inputs of a request (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve->add_option("--max-request-bytes", flags.request_limits.max_bytes,
                    "Tensor bytes over all inputs of a request (0 = no limit)")
      ->capture_default_str();
  serve->add_option("--max-bytes-element-bytes", flags.request_limits.max_bytes_element_bytes,
                    "Bytes of one BYTES (string) element (0 = no limit)")
      ->capture_default_str();
  serve->add_option("--drain-grace-secs", flags.drain_grace_secs,
                    "On SIGTERM/SIGINT: seconds to keep accepting requests after readiness "
                    "turns false, for load balancers to notice")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();
  serve->add_option("--drain-timeout-secs", flags.drain_timeout_secs,
                    "On SIGTERM/SIGINT: seconds in-flight requests get to finish")
      ->check(CLI::Range(0, 3600))
      ->capture_default_str();

  serve->add_option("--jobs-db", flags.jobs_db,
                    "SQLite database of asynchronous jobs (Prefer: respond-async, /v2/jobs); "
                    "created if missing; jobs are off without it");
  serve->add_option("--jobs-max-queued", flags.jobs_max_queued,
                    "Queued jobs at most; more submissions are answered 429")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--jobs-ttl-secs", flags.jobs_ttl_secs,
                    "Ended jobs (and their results) are removed this long after they end "
                    "(0 = never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  serve->add_option("--jobs-workers", flags.jobs_workers, "Jobs run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve->add_flag("--jobs-callbacks", flags.jobs_callbacks,
                  "Accept an Inferd-Job-Callback URL with a job: the server POSTs the job's "
                  "state there when it ends (the server then makes requests to URLs clients "
                  "choose: enable only for trusted clients)");
  serve->add_option("--jobs-callback-attempts", flags.jobs_callback_attempts,
                    "Deliveries of a callback tried, with exponential backoff, before giving up")
      ->check(CLI::Range(1, 20))
      ->capture_default_str();
  serve->add_option("--payload-log-url", flags.payload_log_url,
                    "Send sampled inference requests and responses as CloudEvents (KServe's "
                    "logger format) to this URL");
  serve->add_option("--payload-log-rate", flags.payload_log_rate,
                    "Share of inference requests logged, 0..1")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  serve->add_option("--payload-log-mode", flags.payload_log_mode,
                    "What is logged: all, request or response")
      ->check(CLI::IsMember({"all", "request", "response"}))
      ->capture_default_str();
  serve->add_option("--payload-log-max-queued", flags.payload_log_max_queued,
                    "Events waiting for the sink at most; more are dropped and counted")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_option("--payload-log-timeout-ms", flags.payload_log_timeout_ms,
                    "One POST to the sink may take this long")
      ->check(CLI::Range(10, 600000))
      ->capture_default_str();
  serve->add_option("--payload-log-service-name", flags.payload_log_service_name,
                    "ce-inferenceservicename of the events (default: the model's name)");
  serve->add_option("--payload-log-namespace", flags.payload_log_namespace,
                    "ce-namespace of the events (default: not sent)");

  CLI::App* bench = inferd::app::AddBenchCommand(app);
  CLI::App* predict = inferd::app::AddPredictCommand(app);
  // Listed for --help only: main() hands `inferd optimize ...` to inferd-optimize before parsing.
  app.add_subcommand("optimize",
                     "Transform an ONNX model (graph optimization, int8, fp16, pruning, "
                     "distill), measure each result, write the chosen one as a new model version "
                     "(runs inferd-optimize; `inferd optimize --help` for its options)");
  CLI::App* tune = inferd::app::AddTuneCommand(app);

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return Serve(flags);
  if (bench->parsed()) return inferd::app::RunBenchCommand();
  if (predict->parsed()) return inferd::app::RunPredictCommand();
  if (tune->parsed()) return inferd::app::RunTuneCommand();
  return EXIT_SUCCESS;
}
