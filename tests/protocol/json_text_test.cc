#include "protocol/json_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace inferd::protocol {
namespace {

std::string Quoted(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(JsonText, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Quoted("plain"), R"("plain")");
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(Quoted(std::string("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(Quoted(""), R"("")");
}

TEST(JsonText, PassesValidUtf8Through) {
  EXPECT_EQ(Quoted("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));
}

TEST(JsonText, ReplacesInvalidUtf8BytesWithReplacementCharacter) {
  EXPECT_FALSE(
      IsValidUtf8("a\xFF"
                  "b"));
  EXPECT_EQ(Quoted("a\xFF"
                   "b"),
            "\"a\xEF\xBF\xBD"
            "b\"");
  // A truncated sequence, then a valid one: only the broken bytes are replaced.
  EXPECT_EQ(Quoted("\xE2\x82 \xC3\xA9"), "\"\xEF\xBF\xBD\xEF\xBF\xBD \xC3\xA9\"");
  // Overlong encodings and surrogates are invalid too.
  EXPECT_EQ(Quoted("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(Quoted("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonText, FloatsUseTheShortestRoundTripText) {
  std::string out;
  AppendJsonFloat(out, 0.1f);
  out += ' ';
  AppendJsonFloat(out, 1.0f);
  out += ' ';
  AppendJsonFloat(out, -1.5e-7f);
  out += ' ';
  AppendJsonDouble(out, 0.1);
  out += ' ';
  AppendJsonDouble(out, 1e300);
  EXPECT_EQ(out, "0.1 1 -1.5e-07 0.1 1e+300");
}

TEST(JsonText, NonFiniteNumbersAreWrittenAsTritonDoes) {
  std::string out;
  AppendJsonFloat(out, std::numeric_limits<float>::quiet_NaN());
  out += ' ';
  AppendJsonFloat(out, std::numeric_limits<float>::infinity());
  out += ' ';
  AppendJsonDouble(out, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(out, "NaN Infinity -Infinity");
}

}  // namespace
}  // namespace inferd::protocol
