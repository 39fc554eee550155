// Durations as the integer nanoseconds that statistics, metrics and traces record.
#pragma once

#include <chrono>
#include <cstdint>

namespace inferd {

template <typename Rep, typename Period>
uint64_t ToNanos(std::chrono::duration<Rep, Period> d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
}

// Nanoseconds from `start` (a steady-clock time) to now.
inline uint64_t NanosSince(std::chrono::steady_clock::time_point start) {
  return ToNanos(std::chrono::steady_clock::now() - start);
}

}  // namespace inferd
