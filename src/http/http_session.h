// One HTTP connection of HttpServer: reads requests (keep-alive), checks credentials, routes,
// calls server::InferenceServer and writes the answers. The listener (HttpServer) owns the
// ListenerState that its sessions share; sessions keep themselves alive with shared_from_this
// for as long as an operation is pending. Over TLS a session handshakes first and then serves
// exactly as over plain TCP (see connection_stream.h). Internal to src/http.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "http/http_server.h"

namespace inferd::http {

// What the listener shares with its connections. Outlives every session (the io_context that
// holds their handlers is destroyed first).
struct ListenerState {
  ListenerState(const HttpServer::Options& o, server::InferenceServer* s)
      : options(o), server(s) {}

  const HttpServer::Options options;
  server::InferenceServer* const server;
  boost::asio::thread_pool control_pool{1};  // repository load/unload, one at a time
  std::atomic<int> connections{0};           // open sessions
  std::atomic<int> in_flight{0};             // requests read and not yet answered
  std::atomic<bool> draining{false};         // answers close their connection
  // Set before the listener starts, then only read; null = plaintext.
  std::unique_ptr<boost::asio::ssl::context> tls_context;
};

// Serves an accepted connection until the peer closes it, it idles out or it errs; over TLS
// when state->tls_context is set.
void StartSession(boost::asio::ip::tcp::socket socket, ListenerState* state);

}  // namespace inferd::http
