#include "metrics/process_metrics.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace inferd::metrics {
namespace {

// "VmRSS:   1234 kB" → 1234 * 1024; 0 when the key is missing.
uint64_t KibField(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return 0;
  std::istringstream in(text.substr(at + key.size()));
  uint64_t kib = 0;
  in >> kib;
  return kib * 1024;
}

uint64_t PlainField(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return 0;
  std::istringstream in(text.substr(at + key.size()));
  uint64_t v = 0;
  in >> v;
  return v;
}

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

ProcessSnapshot ProcessSampler::Sample() {
  ProcessSnapshot s;
  const std::string status = ReadFile("/proc/self/status");
  s.resident_memory_bytes = KibField(status, "VmRSS:");
  s.virtual_memory_bytes = KibField(status, "VmSize:");
  s.threads = PlainField(status, "Threads:");

  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++s.open_fds;
  }

  // /proc/self/stat: fields after the parenthesized command; utime, stime are fields 14, 15
  // and starttime field 22 (clock ticks since boot).
  const long ticks = sysconf(_SC_CLK_TCK);
  const std::string stat = ReadFile("/proc/self/stat");
  if (const size_t close = stat.rfind(')'); close != std::string::npos && ticks > 0) {
    std::istringstream in(stat.substr(close + 2));
    std::vector<std::string> fields;
    for (std::string f; in >> f;) fields.push_back(f);
    // fields[0] is field 3 (state).
    if (fields.size() > 19) {
      s.cpu_seconds = (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(ticks);
      const double start_since_boot = std::stod(fields[19]) / static_cast<double>(ticks);
      const std::string uptime = ReadFile("/proc/uptime");
      double up = 0;
      std::istringstream(uptime) >> up;
      const double now = std::chrono::duration<double>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
      s.start_time_seconds = now - up + start_since_boot;
    }
  }

  const std::string meminfo = ReadFile("/proc/meminfo");
  s.host_memory_total_bytes = KibField(meminfo, "MemTotal:");
  const uint64_t available = KibField(meminfo, "MemAvailable:");
  s.host_memory_used_bytes =
      s.host_memory_total_bytes > available ? s.host_memory_total_bytes - available : 0;

  // First line of /proc/stat: "cpu user nice system idle iowait irq softirq steal …".
  std::istringstream cpu(ReadFile("/proc/stat"));
  std::string label;
  cpu >> label;
  std::vector<uint64_t> jiffies;
  for (uint64_t v; jiffies.size() < 8 && cpu >> v;) jiffies.push_back(v);
  if (label == "cpu" && jiffies.size() >= 5) {
    uint64_t total = 0;
    for (uint64_t v : jiffies) total += v;
    const uint64_t idle = jiffies[3] + jiffies[4];
    const uint64_t busy = total - idle;
    MutexLock lock(mu_);
    const uint64_t d_total = total - last_total_;
    const uint64_t d_busy = busy >= last_busy_ ? busy - last_busy_ : 0;
    if (d_total > 0) {
      last_utilization_ = static_cast<double>(d_busy) / static_cast<double>(d_total);
      last_total_ = total;
      last_busy_ = busy;
    }
    s.host_cpu_utilization = last_utilization_;
  }
  return s;
}

}  // namespace inferd::metrics
