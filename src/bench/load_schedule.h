// What `inferd bench` sweeps and when an open-loop client sends: parsing of the concurrency and
// request-rate ranges given on the command line ("1:64:x2", "100:400:100", "1,8,64"), and the
// arrival schedule of an open-loop level (constant spacing or a Poisson process). Pure and
// deterministic for a given seed; unit-tested in tests/bench/load_schedule_test.cc.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd::bench {

// "N" → {N}; "A,B,C" → {A,B,C}; "START:END" → START..END step 1; "START:END:STEP" →
// additive steps; "START:END:xF" → geometric steps (×F, F ≥ 2); END is always the last value.
// Values must be positive. INVALID_ARGUMENT on malformed input.
Result<std::vector<double>> ParseRange(std::string_view text);

// ParseRange restricted to positive integers (concurrency levels).
Result<std::vector<int>> ParseConcurrencyRange(std::string_view text);

enum class Arrival { kConstant, kPoisson };

// Send times of an open-loop level, as offsets from its start in nanoseconds: request i at
// offset(i). Constant: i / rate. Poisson: cumulative sums of exponential gaps of mean 1/rate
// (std::mt19937_64 seeded with `seed`, so runs are repeatable).
class ArrivalSchedule {
 public:
  ArrivalSchedule(Arrival arrival, double rate_per_s, uint64_t seed);
  // Precomputes offsets covering `duration_s` seconds (at least one entry).
  void Generate(double duration_s);
  const std::vector<uint64_t>& offsets_ns() const { return offsets_ns_; }

 private:
  Arrival arrival_;
  double rate_per_s_;
  uint64_t seed_;
  std::vector<uint64_t> offsets_ns_;
};

}  // namespace inferd::bench
