#include "backends/image/image_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "test_images.h"

namespace inferd::backends::image {
namespace {

using ::testing::ElementsAre;
using testing::EncodeJpeg;
using testing::EncodePng;
using ::testing::HasSubstr;

// 3 x 2 RGB: red, green, blue / white, black, gray.
const std::vector<uint8_t> kRgb = {255, 0,   0,   0, 255, 0, 0,   0,   255,
                                   255, 255, 255, 0, 0,   0, 128, 128, 128};

TEST(ImageDecoder, DecodesAPngExactly) {
  auto image = DecodeImage(EncodePng(kRgb, 3, 2, 3), {.channels = 3});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width, 3);
  EXPECT_EQ(image->height, 2);
  EXPECT_EQ(image->channels, 3);
  EXPECT_EQ(image->pixels, kRgb);
}

TEST(ImageDecoder, ConvertsToGrayOnRequest) {
  auto image = DecodeImage(EncodePng({0, 0, 0, 255, 255, 255}, 2, 1, 3), {.channels = 1});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_THAT(image->pixels, ElementsAre(0, 255));
}

TEST(ImageDecoder, DecodesAJpegCloseToTheOriginal) {
  std::vector<uint8_t> gray(16 * 16, 100);
  auto image = DecodeImage(EncodeJpeg(gray, 16, 16, 1), {.channels = 1});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  ASSERT_EQ(image->pixels.size(), 256u);
  for (uint8_t v : image->pixels) EXPECT_NEAR(v, 100, 2);
  auto rgb = DecodeImage(EncodeJpeg(gray, 16, 16, 1), {.channels = 3});
  ASSERT_TRUE(rgb.ok()) << rgb.status().ToString();
  EXPECT_EQ(rgb->pixels.size(), 16u * 16 * 3);
}

TEST(ImageDecoder, RefusesBytesThatAreNoImage) {
  const std::string text = "hello, not an image";
  auto image = DecodeImage(std::as_bytes(std::span(text.data(), text.size())), {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(image.status().message(), HasSubstr("not a PNG or JPEG image"));
}

TEST(ImageDecoder, RefusesTruncatedFiles) {
  auto png = EncodePng(kRgb, 3, 2, 3);
  png.resize(png.size() / 2);
  auto image = DecodeImage(png, {});
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(), HasSubstr("not a readable PNG image"));
  auto jpeg = EncodeJpeg(std::vector<uint8_t>(64, 7), 8, 8, 1);
  jpeg.resize(20);
  image = DecodeImage(jpeg, {});
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(), HasSubstr("not a readable JPEG image"));
}

TEST(ImageDecoder, RefusesImagesOverThePixelLimitBeforeDecoding) {
  auto png = EncodePng(std::vector<uint8_t>(64 * 64, 0), 64, 64, 1);
  auto image = DecodeImage(png, {.channels = 1, .max_pixels = 1000});
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(),
              HasSubstr("the image is 64x64 pixels, over the limit of 1000 pixels"));
  auto jpeg = EncodeJpeg(std::vector<uint8_t>(64 * 64, 0), 64, 64, 1);
  image = DecodeImage(jpeg, {.channels = 1, .max_pixels = 1000});
  ASSERT_FALSE(image.ok());
  EXPECT_THAT(image.status().message(), HasSubstr("over the limit"));
}

TEST(ImageDecoder, DetectsFormatsBySignature) {
  EXPECT_EQ(DetectFormat(EncodePng(kRgb, 3, 2, 3)), ImageFormat::kPng);
  EXPECT_EQ(DetectFormat(EncodeJpeg(kRgb, 3, 2, 3)), ImageFormat::kJpeg);
  EXPECT_EQ(DetectFormat({}), ImageFormat::kUnknown);
}

}  // namespace
}  // namespace inferd::backends::image
