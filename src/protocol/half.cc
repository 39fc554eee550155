#include "protocol/half.h"

#include <bit>

namespace inferd::protocol {
namespace {

constexpr int kDoubleMantissaBits = 52;
constexpr int kDoubleBias = 1023;
constexpr uint64_t kDoubleMantissaMask = (uint64_t{1} << kDoubleMantissaBits) - 1;

// Rounds `value` to a binary float with kExpBits exponent bits and kManBits stored mantissa bits
// (FP16: 5/10, BF16: 8/7), round to nearest even, and returns its bit pattern.
template <int kExpBits, int kManBits>
uint16_t RoundDouble(double value) {
  constexpr int kBias = (1 << (kExpBits - 1)) - 1;
  constexpr int kMinNormalExp = 1 - kBias;
  constexpr uint32_t kExpMask = (1u << kExpBits) - 1;
  constexpr uint32_t kInf = kExpMask << kManBits;
  constexpr int kDropBits = kDoubleMantissaBits - kManBits;

  const auto bits = std::bit_cast<uint64_t>(value);
  const auto sign = static_cast<uint32_t>(bits >> 63) << (kExpBits + kManBits);
  const int biased_exp = static_cast<int>((bits >> kDoubleMantissaBits) & 0x7FF);
  const uint64_t mantissa = bits & kDoubleMantissaMask;

  if (biased_exp == 0x7FF) {
    if (mantissa == 0) return static_cast<uint16_t>(sign | kInf);
    // Quiet NaN, keeping the top payload bits.
    const auto payload = static_cast<uint32_t>(mantissa >> kDropBits);
    return static_cast<uint16_t>(sign | kInf | (1u << (kManBits - 1)) | payload);
  }
  const int exp = biased_exp - kDoubleBias;
  if (exp > kBias) return static_cast<uint16_t>(sign | kInf);

  uint64_t kept;
  uint64_t rest;
  uint64_t halfway;
  if (exp >= kMinNormalExp) {
    kept = (static_cast<uint64_t>(exp + kBias) << kManBits) | (mantissa >> kDropBits);
    rest = mantissa & ((uint64_t{1} << kDropBits) - 1);
    halfway = uint64_t{1} << (kDropBits - 1);
  } else {
    // Subnormal in the target format (double subnormals are far below its range: they give 0).
    const int shift = kDropBits + (kMinNormalExp - exp);
    if (biased_exp == 0 || shift > 60) return static_cast<uint16_t>(sign);
    const uint64_t full = mantissa | (uint64_t{1} << kDoubleMantissaBits);
    kept = full >> shift;
    rest = full & ((uint64_t{1} << shift) - 1);
    halfway = uint64_t{1} << (shift - 1);
  }
  // A carry out of the mantissa bumps the exponent, which is exactly right (up to infinity).
  if (rest > halfway || (rest == halfway && (kept & 1) != 0)) ++kept;
  return static_cast<uint16_t>(sign | static_cast<uint32_t>(kept));
}

}  // namespace

uint16_t DoubleToHalf(double value) { return RoundDouble<5, 10>(value); }

uint16_t DoubleToBf16(double value) { return RoundDouble<8, 7>(value); }

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exp = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 127 - 15) << 23) | (mantissa << 13));
  if (mantissa == 0) return std::bit_cast<float>(sign);
  // Subnormal half: normalize into a float.
  int e = 127 - 15 + 1;
  while ((mantissa & 0x400) == 0) {
    mantissa <<= 1;
    --e;
  }
  return std::bit_cast<float>(sign | (static_cast<uint32_t>(e) << 23) | ((mantissa & 0x3FF) << 13));
}

float Bf16ToFloat(uint16_t bits) { return std::bit_cast<float>(static_cast<uint32_t>(bits) << 16); }

}  // namespace inferd::protocol
