// InferClient: one connection of the load generator (one virtual user), with at most one request
// in flight. The request bytes are built once; each Send() writes them and reads one response.
// Implementations: HttpInferClient (Boost.Beast, keep-alive) and GrpcInferClient (grpc++
// async completion-queue API). LoadGenerator drives them; it never knows which protocol it measures.
#pragma once

#include <functional>

#include "core/status.h"

namespace inferd::bench {

class InferClient {
 public:
  // Called once per Send(), from an I/O thread of the client (never from inside Send()).
  // ok: the server answered with success (HTTP 200 / gRPC OK).
  using Done = std::function<void(bool ok)>;

  virtual ~InferClient() = default;

  // Opens the connection, blocking; called before the measurement starts.
  virtual Status Connect() = 0;
  // Sends the request; `done` runs when the response has been fully read (or failed). A failed
  // connection is reopened by the next Send(). Not to be called again before `done` has run.
  virtual void Send(Done* done) = 0;
};

}  // namespace inferd::bench
