// inferd command line: `inferd serve` runs the server; `--version` and `--help` as usual.
#include <csignal>
#include <cstdlib>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "grpc/grpc_server.h"
#include "http/http_server.h"
#include "observability/logging.h"
#include "observability/tracer.h"
#include "server/inference_server.h"
#include "server/version.h"
#include "bench_command.h"

namespace {

struct ServeFlags {
  std::string model_repository;
  std::string host = "127.0.0.1";
  uint16_t http_port = 8000;
  int http_threads = 0;
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
};

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

  spdlog::info("inferd {} starting; model repository '{}'", inferd::server::kVersion,
               flags.model_repository);
  inferd::server::InferenceServer::Options server_options;
  server_options.model_repository = flags.model_repository;
  server_options.cache_size_bytes = flags.cache_size;
  server_options.control_mode =
      inferd::repository::ParseControlMode(flags.model_control_mode).value();
  server_options.startup_models = flags.load_models;
  server_options.lazy_load = flags.lazy_load;
  server_options.model_memory_budget_bytes = flags.model_memory_budget;
  server_options.repository_poll_seconds = flags.repository_poll_secs;
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

  inferd::http::HttpServer::Options http_options;
  http_options.host = flags.host;
  http_options.port = flags.http_port;
  http_options.io_threads = flags.http_threads;
  http_options.max_body_bytes = flags.http_max_body_bytes;
  std::unique_ptr<inferd::observability::Tracer> tracer;
  if (!flags.trace_file.empty() || !flags.trace_endpoint.empty()) {
    inferd::observability::Tracer::Options trace_options;
    trace_options.sample_rate = flags.trace_rate;
    trace_options.file = flags.trace_file;
    trace_options.otlp_endpoint = flags.trace_endpoint;
    auto created = inferd::observability::Tracer::Create(trace_options);
    if (!created.ok()) {
      spdlog::critical("{}", created.status().message());
      return EXIT_FAILURE;
    }
    tracer = std::move(created).value();
    http_options.tracer = tracer.get();
  }
  auto http = inferd::http::HttpServer::Create(http_options, server->get());
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
    auto created = inferd::grpc::GrpcServer::Create(grpc_options, server->get());
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
    auto created = inferd::http::HttpServer::Create(metrics_options, server->get());
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
  spdlog::info("signal {} received; shutting down", sig);
  // Stop the transport first, then the models (workers finish queued requests and post their
  // answers to the stopped I/O context, which is still alive), then the transport object.
  (*http)->Stop();
  if (metrics_http) metrics_http->Stop();
  // gRPC calls in flight finish first: their models are still running.
  if (grpc_frontend) grpc_frontend->Stop();
  server->reset();
  http->reset();
  spdlog::info("stopped");
  return EXIT_SUCCESS;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"inferd: an inference server for ONNX models (KServe v2 / Triton protocols)"};
  app.set_version_flag("--version", std::string(inferd::server::kVersion));
  app.require_subcommand(1);

  ServeFlags flags;
  CLI::App* serve = app.add_subcommand("serve", "Serve the models of a model repository");
  serve->add_option("--model-repository", flags.model_repository,
                    "Model repository directory (Triton layout)")
      ->required()
      ->check(CLI::ExistingDirectory);
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

  CLI::App* bench = inferd::app::AddBenchCommand(app);

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return Serve(flags);
  if (bench->parsed()) return inferd::app::RunBenchCommand();
  return EXIT_SUCCESS;
}
