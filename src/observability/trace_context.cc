#include "observability/trace_context.h"

#include <algorithm>
#include <random>

namespace inferd::observability {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // the spec allows lowercase only
}

bool ParseHex(std::string_view s, uint8_t* out) {
  for (size_t i = 0; i < s.size() / 2; ++i) {
    const int hi = Hex(s[2 * i]), lo = Hex(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

template <size_t N>
std::array<uint8_t, N> RandomId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, N> id{};
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t r = rng();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (AllZero(id));
  return id;
}

}  // namespace

std::optional<TraceParent> ParseTraceParent(std::string_view h) {
  // Surrounding whitespace is allowed (it is an HTTP header value).
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  uint8_t version = 0;
  if (!ParseHex(h.substr(0, 2), &version) || version == 0xff) return std::nullopt;
  // Version 00 is exactly 55 characters; later versions may append "-…" fields.
  if (version == 0 && h.size() != 55) return std::nullopt;
  if (version != 0 && h.size() > 55 && h[55] != '-') return std::nullopt;
  TraceParent tp;
  uint8_t flags = 0;
  if (!ParseHex(h.substr(3, 32), tp.trace_id.data()) ||
      !ParseHex(h.substr(36, 16), tp.parent_id.data()) || !ParseHex(h.substr(53, 2), &flags)) {
    return std::nullopt;
  }
  if (AllZero(tp.trace_id) || AllZero(tp.parent_id)) return std::nullopt;
  tp.sampled = (flags & 1) != 0;
  return tp;
}

std::string ToHex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

std::string FormatTraceParent(const TraceId& trace, const SpanId& span, bool sampled) {
  return "00-" + ToHex(trace) + "-" + ToHex(span) + (sampled ? "-01" : "-00");
}

TraceId NewTraceId() { return RandomId<16>(); }
SpanId NewSpanId() { return RandomId<8>(); }

}  // namespace inferd::observability
