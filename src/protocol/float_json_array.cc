#include "protocol/float_json_array.h"

#include <bit>
#include <charconv>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <limits>
#include <system_error>

#include "protocol/half.h"

namespace inferd::protocol {
namespace {

constexpr double kExactPowersOf10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

bool IsDigit(char c) { return static_cast<unsigned char>(c - '0') < 10; }
bool IsJsonSpace(char c) {
  return static_cast<unsigned char>(c) <= ' ' && (c == ' ' || c == '\n' || c == '\r' || c == '\t');
}

constexpr uint64_t kIntegerPowersOf10[] = {1,      10,      100,      1000,     10000,
                                           100000, 1000000, 10000000, 100000000};

// Digits are read up to eight at a time, without a branch on how many there are (the SWAR trick
// of simdjson and fast_float, extended to a partial run): the digit loops are what float data
// spends its time in. Bytes are read 8 at a time past the digits, which the padding allows.
static_assert(std::endian::native == std::endian::little, "the digit runs assume little endian");

// The number of leading digit bytes in the 8 bytes at p (0-8), and their value.
[[gnu::always_inline]] inline int DigitRun(const char* p, uint64_t& value) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  // Zero bytes exactly where v has '0'-'9' (a carry out of a byte >= 0xFA only reaches bytes
  // after it, past the first non-digit).
  const uint64_t non_digits =
      ((v & 0xF0F0F0F0F0F0F0F0) | (((v + 0x0606060606060606) & 0xF0F0F0F0F0F0F0F0) >> 4)) ^
      0x3333333333333333;
  const int n = std::countr_zero(non_digits) / 8;  // 8 when all are digits
  // Shifting left by 64 - 8n (in two halves, so that n = 0 shifts everything out) drops the
  // bytes after the run (little endian) and leaves zeros, that is leading zero digits, below it;
  // a borrow from a non-digit byte only reaches dropped bytes.
  const int half_shift = 32 - 4 * n;
  const uint64_t digits = ((v - 0x3030303030303030) << half_shift) << half_shift;
  constexpr uint64_t kMask = 0x000000FF000000FF;
  constexpr uint64_t kMul1 = 0x000F424000000064;  // 100 + (1000000 << 32)
  constexpr uint64_t kMul2 = 0x0000271000000001;  // 1 + (10000 << 32)
  const uint64_t pairs = (digits * 10) + (digits >> 8);
  value = (((pairs & kMask) * kMul1) + (((pairs >> 16) & kMask) * kMul2)) >> 32;
  return n;
}

// Appends the decimal digits at p to `mantissa` (which wraps past 19 digits: callers count the
// digits) and returns the first byte after them.
[[gnu::always_inline]] inline const char* ReadDigits(const char* p, uint64_t& mantissa) {
  uint64_t value;
  const int n = DigitRun(p, value);
  mantissa = mantissa * kIntegerPowersOf10[n] + value;
  p += n;
  if (n == 8) {  // longer runs are rare past a digit or two: one at a time
    while (IsDigit(*p)) {
      mantissa = 10 * mantissa + static_cast<uint64_t>(*p - '0');
      ++p;
    }
  }
  return p;
}

// -value when `negative`, without a branch (the sign of real data is a coin toss).
[[gnu::always_inline]] inline double WithSign(double value, bool negative) {
  return std::bit_cast<double>(std::bit_cast<uint64_t>(value) |
                               (static_cast<uint64_t>(negative) << 63));
}

// Parses the JSON number at *p (grammar -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) into the
// double simdjson's DOM parser gives it, and advances *p past it. False for text that is not a
// number, and for the numbers left to the DOM decoder.
[[gnu::always_inline]] inline bool ParseNumber(const char*& p, double& out) {
  const char* const start = p;
  const bool negative = *p == '-';
  p += negative;
  const char* const digits = p;
  uint64_t mantissa = 0;
  if (*p == '0') {  // no more integer digits: JSON allows no leading zeros ("01")
    ++p;
  } else if (IsDigit(*p)) {
    p = ReadDigits(p, mantissa);
  } else {
    return false;
  }
  const auto integer_digits = static_cast<int64_t>(p - digits);
  int64_t exponent = 0;
  int64_t fraction_digits = 0;
  bool is_integer = true;
  if (*p == '.') {
    is_integer = false;
    const char* const fraction = ++p;
    p = ReadDigits(p, mantissa);
    fraction_digits = p - fraction;
    if (fraction_digits == 0) return false;
    exponent = -fraction_digits;
  }
  if (*p == 'e' || *p == 'E') {
    is_integer = false;
    ++p;
    const bool exponent_negative = *p == '-';
    if (*p == '-' || *p == '+') ++p;
    if (!IsDigit(*p)) return false;
    int64_t value = 0;
    do {
      if (value < 100000) value = 10 * value + (*p - '0');
      ++p;
    } while (IsDigit(*p));
    exponent += exponent_negative ? -value : value;
  }
  if (is_integer) {
    // The DOM parser reads these as 64-bit integers (so "-0" is +0) and rejects larger ones;
    // up to 18 digits both agree.
    if (integer_digits > 18) return false;
    out = WithSign(static_cast<double>(mantissa), negative && mantissa != 0);
    return true;
  }
  if (integer_digits + fraction_digits <= 19 && mantissa <= (uint64_t{1} << 53) &&
      exponent >= -22 && exponent <= 22) {
    // Clinger's fast path: both operands are exact doubles, so one correctly rounded operation
    // gives the correctly rounded value. (Converted through int64, one instruction where uint64
    // takes a branch: mantissa <= 2^53 here.)
    double value = static_cast<double>(static_cast<int64_t>(mantissa));
    value = exponent < 0 ? value / kExactPowersOf10[-exponent] : value * kExactPowersOf10[exponent];
    out = WithSign(value, negative);
    return true;
  }
  // Correctly rounded too; out of the double range (result_out_of_range) is left to the DOM
  // decoder, which rejects overflow and reads underflow as zero.
  const auto [end, error] = std::from_chars(start, p, out);
  return error == std::errc() && end == p;
}

// The string spellings of the non-finite values; an escaped spelling is left to the DOM decoder.
bool ParseNonFinite(const char*& p, const char* end, double& out) {
  const char* const quote = static_cast<const char*>(std::memchr(p + 1, '"', end - p - 1));
  if (quote == nullptr) return false;
  const std::string_view text(p + 1, static_cast<size_t>(quote - p - 1));
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
  } else if (text == "Infinity") {
    out = std::numeric_limits<double>::infinity();
  } else if (text == "-Infinity") {
    out = -std::numeric_limits<double>::infinity();
  } else {
    return false;
  }
  p = quote + 1;
  return true;
}

// One value of float data: a number or a non-finite string, from the first byte of `token` to
// its end, which may be whitespace.
[[gnu::always_inline]] inline bool ParseToken(std::string_view token, double& out) {
  const char* p = token.data();
  const char* const end = token.data() + token.size();
  if (p == end) return false;
  if (*p == '"') {
    if (!ParseNonFinite(p, end, out)) return false;
  } else if (!ParseNumber(p, out)) {
    return false;
  }
  while (p < end && IsJsonSpace(*p)) ++p;
  return p == end;
}

// The DOM decoder's conversions (tensor_json_data.cc): finite values beyond the type's range
// are errors.
bool Convert(double d, float& out) {
  out = static_cast<float>(d);
  return !(std::isinf(out) && std::isfinite(d));
}
bool Convert(double d, double& out) {
  out = d;
  return true;
}
struct Half {
  uint16_t bits;
};
struct Bf16 {
  uint16_t bits;
};
bool Convert(double d, Half& out) {
  out.bits = DoubleToHalf(d);
  return !((out.bits & 0x7FFF) == 0x7C00 && std::isfinite(d));
}
bool Convert(double d, Bf16& out) {
  out.bits = DoubleToBf16(d);
  return !((out.bits & 0x7FFF) == 0x7F80 && std::isfinite(d));
}

// Walks the array text with the flat/nested rule of tensor_json_data.cc: nested when the first
// element is an array, and then rectangular and exactly as deep as the shape.
template <typename T>
class Scanner {
 public:
  Scanner(std::string_view text, int max_depth, Tensor& tensor)
      : p_(text.data()),
        end_(text.data() + text.size()),
        max_depth_(max_depth),
        shape_(tensor.shape()),
        count_(static_cast<size_t>(tensor.element_count())) {
    // Each value takes at least one byte of text: a larger count cannot be right (and is not
    // allocated for).
    if (count_ <= text.size()) {
      out_ = tensor.AllocateData(count_ * sizeof(T)).data();
      allocated_ = true;
    }
  }

  bool Scan(int depth) {
    if (!allocated_ || depth > max_depth_ || !Take('[')) return false;
    SkipSpace();
    if (p_ < end_ && *p_ == '[') {
      if (shape_.empty() || !Nested(0, depth)) return false;
    } else if (!Flat()) {
      return false;
    }
    SkipSpace();
    return p_ == end_ && index_ == count_;
  }

 private:
  // After the '[' of a flat array.
  bool Flat() {
    SkipSpace();
    if (p_ < end_ && *p_ == ']') return ++p_, true;
    while (true) {
      if (!Value()) return false;
      const char c = *p_++;  // Value() stopped at a ',' or ']'
      if (c == ']') return true;
      SkipSpace();
    }
  }

  // After the '[' of an array at dimension `dim`, whose elements are arrays unless innermost.
  bool Nested(size_t dim, int depth) {
    if (depth > max_depth_) return false;
    const bool innermost = dim + 1 == shape_.size();
    const auto expected = static_cast<size_t>(shape_[dim]);
    size_t n = 0;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return expected == 0;
    }
    while (true) {
      if (++n > expected) return false;
      if (innermost) {
        if (!Value()) return false;
      } else if (!Take('[') || !Nested(dim + 1, depth + 1)) {
        return false;
      } else {
        SkipSpace();
      }
      if (p_ == end_) return false;
      const char c = *p_++;
      if (c == ']') return n == expected;
      if (c != ',') return false;
      SkipSpace();
    }
  }

  // One scalar element starting at p_; leaves p_ at the ',' or ']' after it. The value is read
  // straight from the text (a number cannot run past end_: the text ends with the array's ']'
  // and whitespace).
  [[gnu::always_inline]] bool Value() {
    if (index_ == count_) return false;
    const char* p = p_;
    double d;
    if (*p == '"') {
      if (!ParseNonFinite(p, end_, d)) return false;
    } else if (!ParseNumber(p, d)) {
      return false;
    }
    if (*p != ',') {  // usually the ',' follows at once
      while (p < end_ && IsJsonSpace(*p)) ++p;
      if (p >= end_ || (*p != ',' && *p != ']')) return false;
    }
    T value;
    if (!Convert(d, value)) return false;
    p_ = p;
    std::memcpy(out_ + index_ * sizeof(T), &value, sizeof(T));
    ++index_;
    return true;
  }

  bool Take(char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  void SkipSpace() {
    while (p_ < end_ && IsJsonSpace(*p_)) ++p_;
  }

  const char* p_;
  const char* const end_;
  const int max_depth_;
  const Shape& shape_;
  const size_t count_;
  std::byte* out_ = nullptr;
  bool allocated_ = false;
  size_t index_ = 0;
};

template <typename T>
bool ScanAs(std::string_view text, int depth, int max_depth, Tensor& tensor) {
  return Scanner<T>(text, max_depth, tensor).Scan(depth);
}

}  // namespace

bool ParseJsonFloatToken(std::string_view token, double& out) { return ParseToken(token, out); }

bool ScanFloatJsonArray(std::string_view text, int depth, int max_depth, Tensor& tensor) {
  switch (tensor.dtype()) {
    case DataType::kFp16:
      return ScanAs<Half>(text, depth, max_depth, tensor);
    case DataType::kBf16:
      return ScanAs<Bf16>(text, depth, max_depth, tensor);
    case DataType::kFp32:
      return ScanAs<float>(text, depth, max_depth, tensor);
    case DataType::kFp64:
      return ScanAs<double>(text, depth, max_depth, tensor);
    default:
      return false;
  }
}

}  // namespace inferd::protocol
