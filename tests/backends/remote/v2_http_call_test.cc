#include "backends/remote/v2_http_call.h"

#include "backends/remote/v2_grpc_call.h"

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
  EXPECT_FALSE(e->grpc);
  e = ParseEndpoint("models.internal:9000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "models.internal");
  e = ParseEndpoint("grpc://models.internal:8001");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->grpc);
  EXPECT_EQ(e->host, "models.internal");
  EXPECT_EQ(e->port, "8001");
}

TEST(V2HttpCall, RefusesUrlsThatAreNotHostAndPort) {
  for (const char* url :
       {"", "http://host", "host:", ":80", "http://host:80/v2/models", "grpc://host"}) {
    auto e = ParseEndpoint(url);
    ASSERT_FALSE(e.ok()) << url;
    EXPECT_THAT(e.status().message(), HasSubstr("is not http://host:port or grpc://host:port"));
  }
}

TEST(V2HttpCall, AServerThatIsNotThereIsABadGatewayQuickly) {
  // Port 1 on loopback: nothing listens there, the connect is refused at once.
  auto e = ParseEndpoint("127.0.0.1:1");
  ASSERT_TRUE(e.ok());
  e->model_name = "m";
  const auto start = std::chrono::steady_clock::now();
  auto r = CallV2(*e, {}, {}, {.timeout = std::chrono::milliseconds(2000)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadGateway);
  EXPECT_THAT(r.status().message(), HasSubstr("remote server 127.0.0.1:1 failed while connecting"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

TEST(V2GrpcCall, AServerThatIsNotThereIsABadGatewayQuickly) {
  auto e = ParseEndpoint("grpc://127.0.0.1:1");
  ASSERT_TRUE(e.ok());
  e->model_name = "m";
  V2GrpcClient client(*e);
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Call({}, {}, {.timeout = std::chrono::milliseconds(2000)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadGateway) << r.status().ToString();
  EXPECT_THAT(r.status().message(),
              HasSubstr("remote server 127.0.0.1:1 failed while connecting (gRPC)"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
}

}  // namespace
}  // namespace inferd::backends::remote
