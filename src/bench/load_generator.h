// LoadGenerator: runs one load level of `inferd bench` and measures it.
//  * Closed loop: `concurrency` virtual users, each with its own connection, send the next
//    request as soon as the previous answer arrives.
//  * Open loop: requests are due at the times of an ArrivalSchedule (constant or Poisson) and go
//    out on whichever of `max_connections` connections is idle; latency counts from the due time,
//    so a server that falls behind is charged for it (no coordinated omission).
// After a warm-up the level runs in measurement windows until the throughput of the last
// `stable_windows` windows lies within ±`stability` of their mean (or `max_windows` is reached);
// latencies are taken from those windows only, and the server-side breakdown from statistics
// snapshots taken at their edges. I/O runs on `io_threads` threads of one io_context.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bench/infer_client.h"
#include "bench/latency_stats.h"
#include "bench/load_schedule.h"
#include "core/status.h"

namespace boost::asio {
class io_context;
}

namespace inferd::bench {

struct LevelOptions {
  int concurrency = 1;             // closed loop: virtual users (= connections)
  double request_rate = 0;         // > 0: open loop at this many requests/s
  Arrival arrival = Arrival::kConstant;
  int max_connections = 64;        // open loop: connections available to carry due requests
  double warmup_s = 1;             // seconds before the first measurement window
  double window_s = 1;             // length of one measurement window in seconds
  int stable_windows = 3;          // windows that must agree, and that are reported
  int max_windows = 10;            // give up waiting for stability after this many
  double stability = 0.1;          // allowed deviation of a window from the mean (0.1 = ±10%)
  int io_threads = 1;              // threads running the client io_context
  uint64_t seed = 1;               // Poisson schedule seed
};

struct LevelResult {
  int concurrency = 0;
  double request_rate = 0;         // 0 for closed loop
  double throughput_rps = 0;       // successful responses per second in the measured windows
  uint64_t ok = 0;                 // successful responses in the measured windows
  uint64_t errors = 0;             // failed requests (HTTP != 200, gRPC error, I/O error)
  double measured_s = 0;           // length of the measured interval
  int windows = 0;                 // windows run (measured ones included)
  bool stable = false;
  LatencySummary latency;
  std::optional<ServerBreakdown> server;  // absent when the statistics were not readable
};

// Makes a connected-or-connectable client; called on the controlling thread before timing.
using ClientFactory = std::function<std::unique_ptr<InferClient>(boost::asio::io_context&)>;
// Reads the statistics document of the benchmarked model; errors mean "no breakdown".
using StatsFetcher = std::function<Result<std::string>()>;
// Called after each window: (windows so far, that window's throughput in requests/s, errors).
using ProgressFn = std::function<void(int, double, uint64_t)>;

// Runs one level. Errors only when the connections cannot be opened at all.
Result<LevelResult> RunLevel(const LevelOptions& options, const ClientFactory& make_client,
                             const StatsFetcher& fetch_stats, const std::string& model,
                             const ProgressFn& progress);

}  // namespace inferd::bench
