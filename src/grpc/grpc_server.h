// GrpcServer: the gRPC frontend. Serves inference.GRPCInferenceService (KServe v2 / Triton
// protocol, see grpc/grpc_service.proto) and grpc.health.v1.Health on one port: ModelInfer on
// grpc++'s async API with inferd's own polling threads (InferPollers), the other RPCs on its
// callback API. gRPC threads only decode, call handler::RequestHandler and encode; inference
// completes on model workers (or inline, see docs/scheduling.md). Created by `inferd serve` next
// to the HTTP frontend.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "handler/request_handler.h"
#include "security/pem_file.h"

namespace inferd::observability {
class PayloadLogger;
}

namespace inferd::grpc {

class GrpcServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // address to listen on
    uint16_t port = 8001;            // 0 picks a free port (see port())
    // Largest request or response message, bytes; larger ones get RESOURCE_EXHAUSTED.
    int max_message_bytes = 64 << 20;
    int max_stream_requests_in_flight = 64;  // per ModelStreamInfer stream
    // Threads polling ModelInfer's completion queues; 0 = one per two cores, 1..4. `inferd
    // serve` gives it half the HTTP I/O threads (--http-threads, or the CPU budget's share).
    int infer_threads = 0;
    // Sampled inference calls go to it (grpc/infer_payload_log.h); not owned, must outlive the
    // server; null = no payload logging.
    observability::PayloadLogger* payload_logger = nullptr;
    // TLS (grpc::SslServerCredentials); plaintext by default.
    using Tls = security::TlsFiles;
    Tls tls;
  };

  // Listens and starts serving. `handler` (admission, tracing, the server facade) is not owned
  // and must outlive this object.
  // UNAVAILABLE when the port cannot be bound, INVALID_ARGUMENT for bad options or a TLS file
  // that cannot be read (naming it).
  static Result<std::unique_ptr<GrpcServer>> Create(const Options& options,
                                                    handler::RequestHandler* handler);
  ~GrpcServer();  // Stop()s

  uint16_t port() const;
  // Marks grpc.health.v1 NOT_SERVING (the start of a drain); calls keep being served.
  void SetNotServing();
  // Stops accepting calls and waits for calls in flight until `timeout` passes, then cancels
  // them. Idempotent (Stop() after Drain() does nothing).
  void Drain(std::chrono::milliseconds timeout);
  // Stops accepting calls, marks health NOT_SERVING, and waits for calls in flight to finish
  // (cancelling them after a grace period). Idempotent.
  void Stop();

 private:
  class Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace inferd::grpc
