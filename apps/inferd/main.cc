// inferd command line: `inferd serve` runs the server; `--version` and `--help` as usual.
#include <csignal>
#include <cstdlib>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "grpc/grpc_server.h"
#include "http/http_server.h"
#include "server/inference_server.h"
#include "server/version.h"

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
};

int Serve(const ServeFlags& flags) {
  spdlog::set_level(spdlog::level::from_str(flags.log_level));

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

  (*http)->Start();
  spdlog::info("HTTP listening on {}:{}", flags.host, (*http)->port());

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("signal {} received; shutting down", sig);
  // Stop the transport first, then the models (workers finish queued requests and post their
  // answers to the stopped I/O context, which is still alive), then the transport object.
  (*http)->Stop();
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

  CLI11_PARSE(app, argc, argv);
  if (serve->parsed()) return Serve(flags);
  return EXIT_SUCCESS;
}
