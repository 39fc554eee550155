#include "web/web_files.h"

#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace inferd::web {
namespace {

TEST(WebFiles, EveryFileHasABodyAndAContentType) {
  ASSERT_FALSE(WebFiles().empty());
  for (const WebFile& file : WebFiles()) {
    EXPECT_FALSE(file.body.empty()) << file.name;
    EXPECT_FALSE(file.content_type.empty()) << file.name;
    EXPECT_EQ(FindWebFile(file.name), &file);
  }
  EXPECT_EQ(FindWebFile("console/missing.js"), nullptr);
  EXPECT_EQ(FindWebFile("console/index.html")->content_type, "text/html; charset=utf-8");
}

TEST(WebFiles, TheOpenApiDocumentIsJsonDescribingItselfAndTheConsole) {
  const WebFile* file = FindWebFile("openapi.json");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->content_type, "application/json");
  auto doc = nlohmann::json::parse(file->body, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(doc.is_discarded());
  EXPECT_EQ(doc["openapi"].get<std::string>().substr(0, 2), "3.");
  EXPECT_TRUE(doc["paths"].contains("/v2/openapi.json"));
  EXPECT_TRUE(doc["paths"].contains("/console"));
}

// The page and its scripts name files by /console/<file> or import "./<file>": every one of
// them must be embedded, or the browser gets a 404.
TEST(WebFiles, TheConsoleReferencesOnlyEmbeddedFiles) {
  const std::regex reference(R"re((?:"/console/|from "\./)([A-Za-z0-9_.-]+)")re");
  int references = 0;
  for (const WebFile& file : WebFiles()) {
    if (file.name.substr(0, 8) != "console/") continue;
    const std::string body(file.body);
    for (std::sregex_iterator it(body.begin(), body.end(), reference), end; it != end; ++it) {
      ++references;
      EXPECT_NE(FindWebFile("console/" + (*it)[1].str()), nullptr)
          << file.name << " references " << (*it)[1].str();
    }
  }
  EXPECT_GE(references, 4);  // index.html: css + console.js; console.js: api.js + charts.js
}

}  // namespace
}  // namespace inferd::web
