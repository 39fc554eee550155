#include "http/control_endpoints.h"

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "server/inference_server.h"

namespace inferd::http {
namespace {

namespace fs = std::filesystem;

// A real server over an empty repository, and the HTTP handler on it.
class ControlEndpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = fs::temp_directory_path() /
            ("inferd-control-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(repo_);
    server::InferenceServer::Options options;
    options.model_repository = repo_;
    auto server = server::InferenceServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().message();
    server_ = std::move(server).value();
    auto handler = handler::RequestHandler::Create({.server = server_.get()});
    ASSERT_TRUE(handler.ok()) << handler.status().message();
    handler_ = std::move(handler).value();
  }
  void TearDown() override {
    handler_.reset();
    server_.reset();
    fs::remove_all(repo_);
  }

  HttpAnswer Answer(const std::string& target, Method method = Method::kGet,
                    std::string_view body = "") {
    auto route = MatchRoute(target);
    EXPECT_TRUE(route.ok()) << target;
    return AnswerControl(*handler_, options_,
                         {.route = *route, .method = method, .target = target, .body = body,
                          .authorization = std::nullopt});
  }

  fs::path repo_;
  HttpServer::Options options_;
  std::unique_ptr<server::InferenceServer> server_;
  std::unique_ptr<handler::RequestHandler> handler_;
};

TEST_F(ControlEndpoints, HealthAnswersWithoutBodyOrContentType) {
  HttpAnswer live = Answer("/v2/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.content_type, "");
  EXPECT_EQ(live.body, "");
}

TEST_F(ControlEndpoints, UnknownModelIsA404NamingIt) {
  HttpAnswer answer = Answer("/v2/models/nosuch");
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.content_type, "application/json");
  EXPECT_NE(answer.body.find("nosuch"), std::string::npos) << answer.body;
}

TEST_F(ControlEndpoints, MetricsArePrometheusText) {
  HttpAnswer answer = Answer("/metrics");
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.content_type.find("text/plain"), std::string::npos);
}

TEST_F(ControlEndpoints, JobsAreA404WhenOff) {
  HttpAnswer answer = Answer("/v2/jobs");
  EXPECT_EQ(answer.status, 404);
  EXPECT_NE(answer.body.find("--jobs-db"), std::string::npos) << answer.body;
}

TEST_F(ControlEndpoints, WebFilesCarryTheirPolicy) {
  HttpAnswer answer = Answer("/v2/openapi.json");
  ASSERT_EQ(answer.status, 200) << answer.body;
  bool csp = false;
  for (const auto& [name, value] : answer.headers) csp |= name == "Content-Security-Policy";
  EXPECT_TRUE(csp);
  EXPECT_EQ(Answer("/console/nosuch.js").status, 404);
}

TEST_F(ControlEndpoints, BadBodiesNameWhatIsWrong) {
  HttpAnswer index = Answer("/v2/repository/index", Method::kPost, R"({"ready": "yes"})");
  EXPECT_EQ(index.status, 400);
  EXPECT_NE(index.body.find("'ready'"), std::string::npos) << index.body;
  HttpAnswer routing = Answer("/v2/repository/models/m/routing", Method::kPost, "[]");
  EXPECT_EQ(routing.status, 400);
  EXPECT_NE(routing.body.find("policy"), std::string::npos) << routing.body;
}

TEST_F(ControlEndpoints, InferenceIsNotAnsweredHere) {
  EXPECT_EQ(Answer("/v2/models/m/infer", Method::kPost).status, 500);
}

TEST(RepositoryControlBody, ReadsTheConfigOverrideOfALoadOnly) {
  auto none = ParseRepositoryControlBody("", true);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto config = ParseRepositoryControlBody(R"({"parameters": {"config": "{}"}})", true);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->value_or(""), "{}");
  EXPECT_EQ(ParseRepositoryControlBody(R"({"parameters": {"config": "{}"}})", false)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRepositoryControlBody(R"({"parameters": {"config": 1}})", true).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseRepositoryControlBody("[1]", true).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace inferd::http
