#include "serve_command.h"

#include <string>

#include "serve.h"
#include "serve_flags.h"

namespace inferd::app {
namespace {

ServeFlags& Flags() {
  static ServeFlags flags;
  return flags;
}

// Where the models come from and how they are loaded.
void AddRepositoryOptions(CLI::App* serve, ServeFlags& flags) {
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
}

// Listeners, threads, engines, logging, the response cache and tracing.
void AddServingOptions(CLI::App* serve, ServeFlags& flags) {
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
}

// Tokens, header restrictions and TLS (docs/security.md).
void AddSecurityOptions(CLI::App* serve, ServeFlags& flags) {
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
}

// Connections, timeouts, rate and request limits, and the drain.
void AddLimitOptions(CLI::App* serve, ServeFlags& flags) {
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
}

// Asynchronous jobs and payload logging.
void AddJobsAndPayloadLogOptions(CLI::App* serve, ServeFlags& flags) {
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
}

}  // namespace

CLI::App* AddServeCommand(CLI::App& app) {
  ServeFlags& flags = Flags();
  CLI::App* serve = app.add_subcommand("serve", "Serve the models of a model repository");
  AddRepositoryOptions(serve, flags);
  AddServingOptions(serve, flags);
  AddSecurityOptions(serve, flags);
  AddLimitOptions(serve, flags);
  AddJobsAndPayloadLogOptions(serve, flags);
  return serve;
}

int RunServeCommand() { return Serve(Flags()); }

}  // namespace inferd::app
