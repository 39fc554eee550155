// HttpServer: the KServe v2 HTTP/REST frontend on Boost.Beast. Accepts connections, reads
// requests (keep-alive), routes them, calls handler::RequestHandler and writes the answer.
// Transport only: admission, tracing, access logs and cancellation belong to the handler; I/O
// threads never run a model; an inference completes through the handler's callback, which
// posts the response back onto the connection's strand.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "handler/request_handler.h"
#include "security/pem_file.h"

namespace inferd::jobs {
class JobManager;
}
namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::http {

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 8000;                        // 0 picks a free port (see port())
    int io_threads = 0;                          // 0 = min(2, hardware threads)
    uint64_t max_body_bytes = 64ull << 20;       // larger bodies get 413
    uint32_t max_header_bytes = 16u << 10;       // larger request headers get 431
    int idle_timeout_seconds = 60;               // idle keep-alive connections are closed
    // A request's header must be complete this long after its first byte (slow clients,
    // slowloris); its body gets idle_timeout_seconds.
    int header_timeout_seconds = 10;
    int max_connections = 0;  // open connections; more are answered 503 and closed; 0 = no cap
    bool metrics_only = false;  // serve only GET /metrics (the --metrics-port listener)
    // HTTPS (TLS 1.2 or later, HTTP/1.1, no ALPN); plaintext by default.
    using Tls = security::TlsFiles;
    Tls tls;
    // Asynchronous jobs (Prefer: respond-async, /v2/jobs); not owned, must outlive the server;
    // null = jobs are off (the preference is ignored, /v2/jobs answers 404).
    jobs::JobManager* jobs = nullptr;
    // Sends sampled inference requests and responses to a CloudEvents sink; not owned, must
    // outlive the server; null = no payload logging.
    observability::PayloadLogger* payload_logger = nullptr;
  };

  // Binds and listens; Start() begins serving. `handler` must outlive the HttpServer.
  // INVALID_ARGUMENT (naming the file) when a TLS file cannot be read or used.
  static Result<std::unique_ptr<HttpServer>> Create(const Options& options,
                                                    handler::RequestHandler* handler);
  ~HttpServer();

  // The bound port (useful with port 0).
  uint16_t port() const;
  // Starts the I/O threads; returns at once.
  void Start();
  // Graceful drain: stops accepting new connections, answers every further response with
  // `Connection: close`, and waits until no request is in flight or `deadline` passes.
  // Returns the number of requests still in flight at the end (0 = drained). Call Stop() next.
  int Drain(std::chrono::steady_clock::time_point deadline);
  // Stops accepting, closes connections, joins the I/O threads. Idempotent.
  void Stop();

 private:
  class Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd::http
