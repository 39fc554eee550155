// W3C Trace Context (https://www.w3.org/TR/trace-context/): parsing and writing the
// `traceparent` header ("00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>") and
// generating trace and span ids. Pure apart from the id generator (thread-safe).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace inferd::observability {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct TraceParent {
  TraceId trace_id{};
  SpanId parent_id{};
  bool sampled = false;  // flags bit 0
};

// nullopt for a malformed header, version ff, or an all-zero trace or span id (the spec says
// such a header is ignored and a new trace starts).
std::optional<TraceParent> ParseTraceParent(std::string_view header);
std::string FormatTraceParent(const TraceId& trace, const SpanId& span, bool sampled);

std::string ToHex(const uint8_t* bytes, size_t n);
inline std::string ToHex(const TraceId& id) { return ToHex(id.data(), id.size()); }
inline std::string ToHex(const SpanId& id) { return ToHex(id.data(), id.size()); }

// Random, never all-zero ids.
TraceId NewTraceId();
SpanId NewSpanId();

}  // namespace inferd::observability
