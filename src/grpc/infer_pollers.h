// InferPollers: the threads that serve ModelInfer on grpc++'s async API (AsyncInferCall). Each
// thread owns one server completion queue, keeps a few calls requested on it, and runs every
// event of its calls: gRPC's polling, the call's admission and decoding, and the inference
// itself when the model executes inline. Created by GrpcServer before the ::grpc::Server is
// built (AddTo), started after (Start), and shut down around its Shutdown (see Stop).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>
#include <vector>

#include "grpc/async_infer_call.h"

namespace inferd::grpc {

class InferPollers {
 public:
  struct Options {
    int threads = 2;              // polling threads, one completion queue each; at least 1
    int requested_per_queue = 8;  // calls kept requested (waiting for a client) per queue
    observability::PayloadLogger* payload_logger = nullptr;  // not owned; null = none
  };

  // `service` and `handler` are not owned and must outlive this object.
  InferPollers(const Options& options, InferenceService* service, handler::RequestHandler* handler);
  ~InferPollers();  // Stop()s

  // Adds the completion queues to the server being built; call once, before BuildAndStart.
  void AddTo(::grpc::ServerBuilder& builder);
  // Requests the first calls and starts the threads; after BuildAndStart.
  void Start();
  // Stops asking for new calls. Call before ::grpc::Server::Shutdown.
  void StopAccepting();
  // After ::grpc::Server::Shutdown has returned: waits for the calls still alive (their
  // inference finishes or is cancelled), then shuts the queues down and joins the threads.
  // Idempotent.
  void Stop();

 private:
  void Poll(::grpc::ServerCompletionQueue* cq);

  const Options options_;
  AsyncInferCall::Shared shared_;
  std::vector<std::unique_ptr<::grpc::ServerCompletionQueue>> queues_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace inferd::grpc
