#include "protocol/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

namespace inferd::protocol {
namespace {

TEST(Half, ExactValuesConvertBothWays) {
  EXPECT_EQ(FloatToHalf(0.0f), 0x0000);
  EXPECT_EQ(FloatToHalf(-0.0f), 0x8000);
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);  // largest finite half
  EXPECT_EQ(HalfToFloat(0x3C00), 1.0f);
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
}

TEST(Half, EveryHalfSurvivesARoundTripThroughFloat) {
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const float value = HalfToFloat(static_cast<uint16_t>(bits));
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(value)))) << bits;
    } else {
      EXPECT_EQ(FloatToHalf(value), bits) << bits;
    }
  }
}

TEST(Half, SubnormalsConvertExactly) {
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -24)), 0x0001);
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -14)), 0x0400);  // smallest normal
}

TEST(Half, RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to the even 1.
  EXPECT_EQ(DoubleToHalf(1.0 + std::ldexp(1.0, -11)), 0x3C00);
  // 1 + 3 * 2^-11 lies halfway between 0x3C01 and 0x3C02: ties go to the even 0x3C02.
  EXPECT_EQ(DoubleToHalf(1.0 + 3 * std::ldexp(1.0, -11)), 0x3C02);
  // Just above the halfway point rounds up.
  EXPECT_EQ(DoubleToHalf(1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -30)), 0x3C01);
  // Half of the smallest subnormal ties to zero; a bit more rounds up to it.
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -25)), 0x0000);
  EXPECT_EQ(DoubleToHalf(std::ldexp(1.0, -25) * 1.0001), 0x0001);
  EXPECT_EQ(DoubleToHalf(0.1), 0x2E66);
}

TEST(Half, RoundsFromDoubleWithoutDoubleRounding) {
  // x rounds to float 1 + 2^-11 (a half tie, which would then go down to 1), but x itself is
  // above the half midpoint, so the correct half is 1 + 2^-10.
  const double x = 1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40);
  EXPECT_EQ(static_cast<float>(x), 1.0f + std::ldexp(1.0f, -11));
  EXPECT_EQ(DoubleToHalf(x), 0x3C01);
}

TEST(Half, OverflowGivesInfinityAndNanStaysNan) {
  EXPECT_EQ(DoubleToHalf(65519.0), 0x7BFF);  // below the rounding midpoint
  EXPECT_EQ(DoubleToHalf(65520.0), 0x7C00);  // midpoint ties to "even" infinity
  EXPECT_EQ(DoubleToHalf(1e10), 0x7C00);
  EXPECT_EQ(DoubleToHalf(-1e10), 0xFC00);
  EXPECT_EQ(DoubleToHalf(std::numeric_limits<double>::infinity()), 0x7C00);
  const uint16_t nan = DoubleToHalf(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
  EXPECT_TRUE(std::isnan(HalfToFloat(nan)));
  EXPECT_TRUE(std::isinf(HalfToFloat(0xFC00)));
}

TEST(Bf16, ExactValuesConvertBothWays) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3F80);
  EXPECT_EQ(FloatToBf16(-2.0f), 0xC000);
  EXPECT_EQ(Bf16ToFloat(0x3F80), 1.0f);
  EXPECT_EQ(Bf16ToFloat(0x4049), 3.140625f);
  EXPECT_EQ(FloatToBf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to infinity
}

TEST(Bf16, EveryBf16SurvivesARoundTripThroughFloat) {
  for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
    const float value = Bf16ToFloat(static_cast<uint16_t>(bits));
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(value)))) << bits;
    } else {
      EXPECT_EQ(FloatToBf16(value), bits) << bits;
    }
  }
}

TEST(Bf16, RoundsToNearestEven) {
  // 1 + 2^-8 is halfway between 1 (0x3F80) and 1 + 2^-7 (0x3F81): ties to the even 0x3F80.
  EXPECT_EQ(DoubleToBf16(1.0 + std::ldexp(1.0, -8)), 0x3F80);
  EXPECT_EQ(DoubleToBf16(1.0 + 3 * std::ldexp(1.0, -8)), 0x3F82);
  EXPECT_EQ(DoubleToBf16(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -40)), 0x3F81);
  EXPECT_EQ(DoubleToBf16(0.1), 0x3DCD);
  EXPECT_EQ(DoubleToBf16(std::ldexp(1.0, -133)), 0x0001);  // smallest subnormal
}

TEST(Bf16, NanStaysQuietNan) {
  const uint16_t nan = DoubleToBf16(-std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(nan & 0x7FC0, 0x7FC0);
  EXPECT_NE(nan & 0x8000, 0);
  EXPECT_TRUE(std::isnan(Bf16ToFloat(nan)));
}

}  // namespace
}  // namespace inferd::protocol
