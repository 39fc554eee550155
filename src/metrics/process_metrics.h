// ProcessSampler: reads the process's and the machine's resource use from /proc for the
// Prometheus exposition — resident memory, threads, open file descriptors, CPU time of inferd,
// and the host's CPU utilization and memory (Triton's nv_cpu_* metrics). CPU utilization is
// measured between consecutive samples (since boot for the first). Thread-safe.
#pragma once

#include <cstdint>

#include "core/mutex.h"

namespace inferd::metrics {

struct ProcessSnapshot {
  uint64_t resident_memory_bytes = 0;  // VmRSS of this process
  uint64_t virtual_memory_bytes = 0;   // VmSize of this process
  uint64_t threads = 0;                // threads of this process
  uint64_t open_fds = 0;               // open file descriptors of this process
  double cpu_seconds = 0;              // user + system CPU time of this process
  double start_time_seconds = 0;       // process start, seconds since the Unix epoch
  double host_cpu_utilization = 0;     // busy share of all host CPUs since the last sample, 0..1
  uint64_t host_memory_total_bytes = 0;  // MemTotal
  uint64_t host_memory_used_bytes = 0;   // MemTotal - MemAvailable
};

class ProcessSampler {
 public:
  ProcessSnapshot Sample() EXCLUDES(mu_);

 private:
  Mutex mu_;
  uint64_t last_busy_ GUARDED_BY(mu_) = 0;   // jiffies, from /proc/stat
  uint64_t last_total_ GUARDED_BY(mu_) = 0;
  double last_utilization_ GUARDED_BY(mu_) = 0;  // kept when two samples share a tick
};

}  // namespace inferd::metrics
