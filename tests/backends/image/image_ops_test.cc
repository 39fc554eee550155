#include "backends/image/image_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backends/image/image_settings.h"
#include "config/model_config_parser.h"

namespace inferd::backends::image {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

FloatImage Gray(int height, int width, std::vector<float> values) {
  return FloatImage{height, width, 1, std::move(values)};
}

TEST(ImageOps, AreaShrinkByAnIntegerFactorAveragesEachBlock) {
  // 4x4 made of four 2x2 blocks.
  auto in = Gray(4, 4, {0, 2, 10, 10, 4, 6, 10, 10, 1, 1, 8, 8, 1, 1, 8, 8});
  auto out = Resize(in, 2, 2, Interpolation::kArea);
  EXPECT_THAT(out.values, Pointwise(FloatNear(1e-5), std::vector<float>{3, 10, 1, 8}));
}

TEST(ImageOps, AreaShrinkUndoesANearestUpscale) {
  auto small = Gray(2, 3, {1, 2, 3, 4, 5, 6});
  auto big = Resize(small, 8, 12, Interpolation::kNearest);
  EXPECT_EQ(big.at(3, 3, 0), 1);
  EXPECT_EQ(big.at(7, 11, 0), 6);
  auto back = Resize(big, 2, 3, Interpolation::kArea);
  EXPECT_THAT(back.values, Pointwise(FloatNear(1e-5), small.values));
}

TEST(ImageOps, BilinearKeepsAConstantImageConstant) {
  auto in = Gray(5, 7, std::vector<float>(35, 42));
  for (auto [h, w] : {std::pair{3, 2}, std::pair{11, 13}}) {
    auto out = Resize(in, h, w, Interpolation::kBilinear);
    ASSERT_EQ(out.values.size(), static_cast<size_t>(h * w));
    for (float v : out.values) EXPECT_NEAR(v, 42, 1e-4);
  }
}

TEST(ImageOps, BilinearUpscaleInterpolatesBetweenPixels) {
  auto out = Resize(Gray(1, 2, {0, 100}), 1, 4, Interpolation::kBilinear);
  EXPECT_THAT(out.values, Pointwise(FloatNear(1e-4), std::vector<float>{0, 25, 75, 100}));
}

TEST(ImageOps, CenterCropTakesTheMiddle) {
  auto in = Gray(3, 3, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto out = CenterCrop(in, 1, 1);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(out->values, ElementsAre(5));
  auto too_big = CenterCrop(in, 4, 1);
  ASSERT_FALSE(too_big.ok());
  EXPECT_THAT(too_big.status().message(), HasSubstr("cannot crop 4x1"));
}

TEST(ImageOps, NormalizeScalesThenSubtractsTheMeanAndDividesByStd) {
  FloatImage rgb{1, 1, 3, {255, 0, 51}};
  Normalize(rgb, 1.0f / 255, {0.5f, 0.5f, 0.2f}, {0.5f, 0.25f, 0.1f});
  EXPECT_THAT(rgb.values, Pointwise(FloatNear(1e-5), std::vector<float>{1, -2, 0}));
}

TEST(ImageOps, PlanarLayoutGroupsChannels) {
  FloatImage rgb{1, 2, 3, {1, 2, 3, 4, 5, 6}};
  EXPECT_THAT(ToPlanar(rgb), ElementsAre(1, 4, 2, 5, 3, 6));
}

config::ModelConfig Parse(const char* text) {
  auto config = config::ParseModelConfig(text, "test");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : config::ModelConfig();
}

TEST(ImageSettings, ReadsEveryParameter) {
  auto s = ReadImageSettings(Parse(R"(
      parameters { key: "channels" value { string_value: "1" } }
      parameters { key: "resize" value { string_value: "32x30" } }
      parameters { key: "interpolation" value { string_value: "area" } }
      parameters { key: "center_crop" value { string_value: "28x28" } }
      parameters { key: "scale" value { string_value: "0.5" } }
      parameters { key: "mean" value { string_value: "0.1" } }
      parameters { key: "std" value { string_value: "0.2" } }
      parameters { key: "layout" value { string_value: "NHWC" } })"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->channels, 1);
  EXPECT_EQ(s->resize->height, 32);
  EXPECT_EQ(s->resize->width, 30);
  EXPECT_EQ(s->interpolation, Interpolation::kArea);
  EXPECT_FLOAT_EQ(s->scale, 0.5f);
  EXPECT_FALSE(s->planar);
  EXPECT_THAT(s->OutputDims(), ElementsAre(28, 28, 1));
}

TEST(ImageSettings, NamesTheBadParameter) {
  auto s =
      ReadImageSettings(Parse(R"(parameters { key: "resize" value { string_value: "big" } })"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("parameters.resize 'big' is not HxW"));
  s = ReadImageSettings(Parse(R"(parameters { key: "mean" value { string_value: "1,2" } })"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("parameters.mean '1,2' is not one value or 3"));
  s = ReadImageSettings(Parse(R"(parameters { key: "std" value { string_value: "0" } })"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("free of zeros"));
}

}  // namespace
}  // namespace inferd::backends::image
