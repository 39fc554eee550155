#include "bench/load_schedule.h"

#include <charconv>
#include <cmath>
#include <random>
#include <string>

namespace inferd::bench {
namespace {

Result<double> ParsePositive(std::string_view s, std::string_view whole) {
  double v = 0;
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end || !std::isfinite(v) || v <= 0) {
    return InvalidArgument("range '" + std::string(whole) + "': '" + std::string(s) +
                           "' is not a positive number");
  }
  return v;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    parts.push_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

constexpr size_t kMaxLevels = 10'000;

}  // namespace

Result<std::vector<double>> ParseRange(std::string_view text) {
  std::vector<double> out;
  if (text.find(',') != std::string_view::npos) {
    for (std::string_view part : Split(text, ',')) {
      ASSIGN_OR_RETURN(double v, ParsePositive(part, text));
      out.push_back(v);
    }
    return out;
  }
  auto parts = Split(text, ':');
  if (parts.size() > 3) return InvalidArgument("range '" + std::string(text) + "': too many ':'");
  ASSIGN_OR_RETURN(double start, ParsePositive(parts[0], text));
  if (parts.size() == 1) return std::vector<double>{start};
  ASSIGN_OR_RETURN(double end, ParsePositive(parts[1], text));
  if (end < start) {
    return InvalidArgument("range '" + std::string(text) + "': end is below start");
  }
  bool geometric = false;
  double step = 1;
  if (parts.size() == 3) {
    std::string_view s = parts[2];
    if (!s.empty() && (s[0] == 'x' || s[0] == '*')) {
      geometric = true;
      s.remove_prefix(1);
    }
    ASSIGN_OR_RETURN(step, ParsePositive(s, text));
    if (geometric && step < 2) {
      return InvalidArgument("range '" + std::string(text) + "': a geometric factor must be >= 2");
    }
  }
  for (double v = start; v < end; v = geometric ? v * step : v + step) {
    out.push_back(v);
    if (out.size() > kMaxLevels) {
      return InvalidArgument("range '" + std::string(text) + "': more than 10000 levels");
    }
  }
  out.push_back(end);
  return out;
}

Result<std::vector<int>> ParseConcurrencyRange(std::string_view text) {
  ASSIGN_OR_RETURN(std::vector<double> values, ParseRange(text));
  std::vector<int> out;
  for (double v : values) {
    if (v != std::floor(v) || v > 1'000'000) {
      return InvalidArgument("concurrency '" + std::string(text) +
                             "': levels must be whole numbers up to 1000000");
    }
    out.push_back(static_cast<int>(v));
  }
  return out;
}

ArrivalSchedule::ArrivalSchedule(Arrival arrival, double rate_per_s, uint64_t seed)
    : arrival_(arrival), rate_per_s_(rate_per_s), seed_(seed) {}

void ArrivalSchedule::Generate(double duration_s) {
  offsets_ns_.clear();
  const double end_ns = duration_s * 1e9;
  const double gap_ns = 1e9 / rate_per_s_;
  if (arrival_ == Arrival::kConstant) {
    for (uint64_t i = 0;; ++i) {
      const double t = static_cast<double>(i) * gap_ns;
      if (t >= end_ns && i > 0) break;
      offsets_ns_.push_back(static_cast<uint64_t>(t));
    }
    return;
  }
  std::mt19937_64 rng(seed_);
  std::exponential_distribution<double> gap(rate_per_s_ / 1e9);
  double t = 0;
  do {
    offsets_ns_.push_back(static_cast<uint64_t>(t));
    t += gap(rng);
  } while (t < end_ns);
}

}  // namespace inferd::bench
