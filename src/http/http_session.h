// One HTTP connection of HttpServer: reads requests (keep-alive), routes them, calls
// handler::RequestHandler (admission, observation, the server) and writes the answers. The listener (HttpServer) owns the
// ListenerState that its sessions share; sessions keep themselves alive with shared_from_this
// for as long as an operation is pending. Over TLS a session handshakes first and then serves
// exactly as over plain TCP (see connection_stream.h). Internal to src/http.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "core/mutex.h"
#include "http/connection_stream.h"
#include "http/http_server.h"

namespace inferd::http {

// What the listener shares with its connections. Outlives every session (the io_context that
// holds their handlers is destroyed first).
struct ListenerState {
  ListenerState(const HttpServer::Options& o, handler::RequestHandler* h)
      : options(o), handler(h) {}

  // A request was read / its answer is written; the last one out during a drain wakes
  // HttpServer::Drain.
  void RequestStarted() { in_flight.fetch_add(1); }
  void RequestFinished() {
    if (in_flight.fetch_sub(1) == 1 && draining.load()) {
      MutexLock lock(drain_mu);
      drained.NotifyAll();
    }
  }

  const HttpServer::Options options;
  handler::RequestHandler* const handler;
  std::atomic<int> connections{0};    // open sessions
  std::atomic<int> in_flight{0};      // requests read and not yet answered
  std::atomic<bool> draining{false};  // answers close their connection
  Mutex drain_mu;                     // pairs with `drained` (in_flight itself is atomic)
  CondVar drained;
  // Set before the listener starts, then only read; null = plaintext.
  std::unique_ptr<boost::asio::ssl::context> tls_context;
};

// Serves an accepted connection until the peer closes it, it idles out or it errs; over TLS
// when state->tls_context is set. Runs on the socket's io_context (one thread).
void StartSession(TcpSocket socket, ListenerState* state);

}  // namespace inferd::http
