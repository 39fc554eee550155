// Fuzzes the image processor's decoders (src/backends/image/image_decoder.cc): arbitrary bytes
// as a PNG or JPEG (the first byte picks gray or RGB output), under a small pixel limit so a
// header claiming huge dimensions is refused rather than allocated. Then the pixel operations
// (resize, crop, normalize, planar layout) run on whatever decoded.
#include <cstddef>
#include <cstdint>
#include <span>

#include "backends/image/image_decoder.h"
#include "backends/image/image_ops.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace image = inferd::backends::image;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  const int channels = size > 0 && (data[size - 1] & 1) ? 1 : 3;
  auto decoded = image::DecodeImage(bytes, {.channels = channels, .max_pixels = 1 << 20});
  if (!decoded.ok()) return 0;
  image::FloatImage f = image::ToFloat(*decoded);
  f = image::Resize(f, 7, 5, image::Interpolation::kBilinear);
  f = image::Resize(f, 3, 11, image::Interpolation::kArea);
  auto cropped = image::CenterCrop(f, 2, 2);
  if (cropped.ok()) {
    image::Normalize(*cropped, 1.0f / 255, {0.5f}, {0.25f});
    (void)image::ToPlanar(*cropped);
  }
  return 0;
}
