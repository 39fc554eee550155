// One HTTP connection of HttpServer: reads requests (keep-alive), checks credentials, routes,
// calls server::InferenceServer and writes the answers. The listener (HttpServer) owns the
// ListenerState that its sessions share; sessions keep themselves alive with shared_from_this
// for as long as an operation is pending. Internal to src/http.
#pragma once

#include <atomic>
#include <cstdint>

#include <boost/asio/ip/tcp.hpp>
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
};

// Serves an accepted connection until the peer closes it, it idles out or it errs.
void StartSession(boost::asio::ip::tcp::socket socket, ListenerState* state);

}  // namespace inferd::http
