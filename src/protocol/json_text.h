// Low-level JSON text writing for the protocol encoders: string escaping and number formatting
// appended straight into a std::string (no DOM). Numbers use the shortest text that reads back
// to the same value; NaN and infinities are written as the bare tokens NaN, Infinity and
// -Infinity, as Triton does (rapidjson's kWriteNanAndInfFlag; Python's json module reads them),
// because JSON proper has no spelling for them.
#pragma once

#include <string>
#include <string_view>

namespace inferd::protocol {

bool IsValidUtf8(std::string_view text);

// Appends `text` as a quoted JSON string: '"', '\\' and control characters are escaped; valid
// UTF-8 passes through; each byte of an invalid UTF-8 sequence becomes U+FFFD, so the output is
// always valid JSON (callers that must not lose bytes check IsValidUtf8 first).
void AppendJsonString(std::string& out, std::string_view text);

void AppendJsonDouble(std::string& out, double value);
// Shortest text that reads back to the same float (so 0.1f is "0.1", not "0.10000000149011612").
void AppendJsonFloat(std::string& out, float value);

}  // namespace inferd::protocol
