#include "config/model_config_queries.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace inferd::config {
namespace {

using ::testing::ElementsAre;

TEST(ModelConfigQueries, FullDimsPrependsTheBatchDimensionWhenBatching) {
  ModelConfig config;
  ModelInput& input = *config.add_input();
  input.add_dims(3);
  input.add_dims(-1);
  EXPECT_THAT(FullDims(config, input.dims()), ElementsAre(3, -1));
  config.set_max_batch_size(8);
  EXPECT_THAT(FullDims(config, input.dims()), ElementsAre(-1, 3, -1));
}

TEST(ModelConfigQueries, GetParameterReturnsTheStringValueOrNothing) {
  ModelConfig config;
  (*config.mutable_parameters())["threads"].set_string_value("2");
  EXPECT_EQ(GetParameter(config, "threads"), "2");
  EXPECT_EQ(GetParameter(config, "missing"), std::nullopt);
}

TEST(ModelConfigQueries, FindsTensorsByName) {
  ModelConfig config;
  config.add_input()->set_name("a");
  config.add_output()->set_name("b");
  ASSERT_NE(FindInput(config, "a"), nullptr);
  EXPECT_EQ(FindInput(config, "b"), nullptr);
  ASSERT_NE(FindOutput(config, "b"), nullptr);
  EXPECT_EQ(FindOutput(config, "a"), nullptr);
}

}  // namespace
}  // namespace inferd::config
