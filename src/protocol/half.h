// Conversions between IEEE binary16 (FP16), bfloat16 (BF16) and float/double, for the protocol
// codecs: JSON carries numbers, tensors carry 16-bit patterns. Narrowing rounds to nearest, ties
// to even, directly from double (no double rounding through float); overflow gives infinity and
// NaN stays a quiet NaN with its sign. Widening is exact. Pure functions, no state.
#pragma once

#include <cstdint>

namespace inferd::protocol {

uint16_t DoubleToHalf(double value);
inline uint16_t FloatToHalf(float value) { return DoubleToHalf(static_cast<double>(value)); }
float HalfToFloat(uint16_t bits);

uint16_t DoubleToBf16(double value);
inline uint16_t FloatToBf16(float value) { return DoubleToBf16(static_cast<double>(value)); }
float Bf16ToFloat(uint16_t bits);

}  // namespace inferd::protocol
