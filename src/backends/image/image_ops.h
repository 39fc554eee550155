// The pixel operations of the image processor, as pure functions over float images in HWC
// order: resize (nearest, bilinear or area/box resampling, antialiased when shrinking), centre
// crop, scale + per-channel mean/std normalization, and the final layout (NCHW or NHWC). The
// image backend chains them as its config's parameters say; unit-tested in tests/backends/image.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "backends/image/image_decoder.h"
#include "core/status.h"

namespace inferd::backends::image {

struct FloatImage {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<float> values;  // HWC
  float at(int y, int x, int c) const {
    return values[(static_cast<size_t>(y) * width + x) * channels + c];
  }
};

enum class Interpolation { kNearest, kBilinear, kArea };

// "nearest", "bilinear", "area".
Result<Interpolation> ParseInterpolation(std::string_view text);

FloatImage ToFloat(const Image& image);

// Resamples to height x width (each >= 1). Bilinear and area weigh the source pixels each
// output pixel covers, widening the filter when shrinking, so downscaling averages instead of
// skipping pixels; an exact integer shrink with area averages each block.
FloatImage Resize(const FloatImage& in, int height, int width, Interpolation how);

// The centred height x width window; INVALID_ARGUMENT when the image is smaller.
Result<FloatImage> CenterCrop(const FloatImage& in, int height, int width);

// value = (value * scale - mean[c]) / std[c]; mean and std have one entry per channel (or one
// for all channels); std entries must be non-zero.
void Normalize(FloatImage& image, float scale, const std::vector<float>& mean,
               const std::vector<float>& std);

// CHW order of the values (planar), for NCHW models.
std::vector<float> ToPlanar(const FloatImage& image);

}  // namespace inferd::backends::image
