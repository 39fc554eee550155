// The options of `inferd serve` (serve_command.cc reads them from the command line, serve.cc
// runs the server they describe).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "server/inference_server.h"

namespace inferd::app {

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

}  // namespace inferd::app
