// ChannelzConnections: counts the gRPC frontend's live connections from gRPC's own channelz
// registry (the sockets each server in this process holds), which grpc++ offers no callback
// for. Read at each metrics scrape through metrics::ConnectionStats::SetProbe. Connections
// that open and close between two reads are missing from `total` — it counts every socket a
// read has seen. Thread-safe.
#pragma once

#include <cstdint>

#include "core/mutex.h"
#include "metrics/connection_stats.h"

namespace inferd::grpc {

class ChannelzConnections {
 public:
  metrics::ConnectionCounts Read() EXCLUDES(mu_);

 private:
  Mutex mu_;
  int64_t max_socket_id_ GUARDED_BY(mu_) = 0;  // the newest socket a read has counted
  uint64_t total_ GUARDED_BY(mu_) = 0;
};

}  // namespace inferd::grpc
