#include "backends/remote/v2_http_call.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace inferd::backends::remote {
namespace {

using ::testing::HasSubstr;

TEST(V2HttpCall, ParsesAnEndpointUrl) {
  auto e = ParseEndpoint("http://127.0.0.1:8000/");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, "8000");
  e = ParseEndpoint("models.internal:9000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "models.internal");
}

TEST(V2HttpCall, RefusesUrlsThatAreNotHostAndPort) {
  for (const char* url : {"", "http://host", "host:", ":80", "http://host:80/v2/models"}) {
    auto e = ParseEndpoint(url);
    ASSERT_FALSE(e.ok()) << url;
    EXPECT_THAT(e.status().message(), HasSubstr("is not http://host:port"));
  }
}

TEST(V2HttpCall, AServerThatIsNotThereIsUnavailableQuickly) {
  // Port 1 on loopback: nothing listens there, the connect is refused at once.
  auto e = ParseEndpoint("127.0.0.1:1");
  ASSERT_TRUE(e.ok());
  e->model_name = "m";
  auto r = CallV2(*e, {}, {}, std::chrono::milliseconds(2000));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("remote server 127.0.0.1:1 failed while connecting"));
}

}  // namespace
}  // namespace inferd::backends::remote
