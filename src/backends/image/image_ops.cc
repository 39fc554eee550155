#include "backends/image/image_ops.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace inferd::backends::image {
namespace {

// For one axis: each output index's first source index and weights (summing to 1).
struct AxisWeights {
  std::vector<int> first;
  std::vector<std::vector<float>> weights;
};

float Filter(Interpolation how, float x) {
  if (how == Interpolation::kArea) return (x >= -0.5f && x < 0.5f) ? 1.0f : 0.0f;
  return std::max(0.0f, 1.0f - std::fabs(x));  // bilinear: a triangle
}

AxisWeights ComputeWeights(int in_size, int out_size, Interpolation how) {
  AxisWeights w;
  w.first.resize(static_cast<size_t>(out_size));
  w.weights.resize(static_cast<size_t>(out_size));
  const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
  const float widen = std::max(1.0f, scale);  // shrinking: the filter covers more source
  const float support = (how == Interpolation::kArea ? 0.5f : 1.0f) * widen;
  for (int o = 0; o < out_size; ++o) {
    const float center = (static_cast<float>(o) + 0.5f) * scale;
    int lo = std::max(0, static_cast<int>(std::floor(center - support)));
    int hi = std::min(in_size, static_cast<int>(std::ceil(center + support)));
    std::vector<float> ws;
    float total = 0;
    for (int i = lo; i < hi; ++i) {
      const float v = Filter(how, (static_cast<float>(i) + 0.5f - center) / widen);
      ws.push_back(v);
      total += v;
    }
    if (total <= 0) {  // degenerate (area, tiny upscale): take the nearest pixel
      lo = std::clamp(static_cast<int>(center), 0, in_size - 1);
      ws.assign(1, 1.0f);
      total = 1;
    }
    for (float& v : ws) v /= total;
    w.first[static_cast<size_t>(o)] = lo;
    w.weights[static_cast<size_t>(o)] = std::move(ws);
  }
  return w;
}

FloatImage ResizeNearest(const FloatImage& in, int height, int width) {
  FloatImage out{height, width, in.channels, {}};
  out.values.resize(static_cast<size_t>(height) * width * in.channels);
  for (int y = 0; y < height; ++y) {
    const int sy =
        std::min(in.height - 1, static_cast<int>(static_cast<int64_t>(y) * in.height / height));
    for (int x = 0; x < width; ++x) {
      const int sx =
          std::min(in.width - 1, static_cast<int>(static_cast<int64_t>(x) * in.width / width));
      for (int c = 0; c < in.channels; ++c) {
        out.values[(static_cast<size_t>(y) * width + x) * in.channels + c] = in.at(sy, sx, c);
      }
    }
  }
  return out;
}

}  // namespace

Result<Interpolation> ParseInterpolation(std::string_view text) {
  if (text == "nearest") return Interpolation::kNearest;
  if (text == "bilinear") return Interpolation::kBilinear;
  if (text == "area") return Interpolation::kArea;
  return InvalidArgument(
      fmt::format("interpolation '{}' is not one of nearest, bilinear, area", text));
}

FloatImage ToFloat(const Image& image) {
  FloatImage f{image.height, image.width, image.channels, {}};
  f.values.assign(image.pixels.begin(), image.pixels.end());
  return f;
}

FloatImage Resize(const FloatImage& in, int height, int width, Interpolation how) {
  if (in.height == height && in.width == width) return in;
  if (how == Interpolation::kNearest) return ResizeNearest(in, height, width);
  const AxisWeights wx = ComputeWeights(in.width, width, how);
  const AxisWeights wy = ComputeWeights(in.height, height, how);
  const int c = in.channels;
  // Horizontal pass: in.height x width.
  std::vector<float> tmp(static_cast<size_t>(in.height) * width * c, 0.0f);
  for (int y = 0; y < in.height; ++y) {
    for (int x = 0; x < width; ++x) {
      const auto& ws = wx.weights[static_cast<size_t>(x)];
      const int first = wx.first[static_cast<size_t>(x)];
      for (int ch = 0; ch < c; ++ch) {
        float sum = 0;
        for (size_t k = 0; k < ws.size(); ++k)
          sum += ws[k] * in.at(y, first + static_cast<int>(k), ch);
        tmp[(static_cast<size_t>(y) * width + x) * c + ch] = sum;
      }
    }
  }
  FloatImage out{height, width, c, {}};
  out.values.assign(static_cast<size_t>(height) * width * c, 0.0f);
  for (int y = 0; y < height; ++y) {
    const auto& ws = wy.weights[static_cast<size_t>(y)];
    const int first = wy.first[static_cast<size_t>(y)];
    for (int x = 0; x < width; ++x) {
      for (int ch = 0; ch < c; ++ch) {
        float sum = 0;
        for (size_t k = 0; k < ws.size(); ++k) {
          sum += ws[k] * tmp[((static_cast<size_t>(first) + k) * width + x) * c + ch];
        }
        out.values[(static_cast<size_t>(y) * width + x) * c + ch] = sum;
      }
    }
  }
  return out;
}

Result<FloatImage> CenterCrop(const FloatImage& in, int height, int width) {
  if (height > in.height || width > in.width) {
    return InvalidArgument(fmt::format("cannot crop {}x{} (height x width) out of a {}x{} image",
                                       height, width, in.height, in.width));
  }
  const int top = (in.height - height) / 2, left = (in.width - width) / 2;
  FloatImage out{height, width, in.channels, {}};
  out.values.reserve(static_cast<size_t>(height) * width * in.channels);
  for (int y = 0; y < height; ++y) {
    const auto row =
        in.values.begin() +
        static_cast<std::ptrdiff_t>((static_cast<size_t>(top + y) * in.width + left) * in.channels);
    out.values.insert(out.values.end(), row,
                      row + static_cast<std::ptrdiff_t>(width) * in.channels);
  }
  return out;
}

void Normalize(FloatImage& image, float scale, const std::vector<float>& mean,
               const std::vector<float>& std) {
  const int c = image.channels;
  for (size_t i = 0; i < image.values.size(); ++i) {
    const size_t ch = i % static_cast<size_t>(c);
    const float m = mean.empty() ? 0.0f : mean[mean.size() == 1 ? 0 : ch];
    const float s = std.empty() ? 1.0f : std[std.size() == 1 ? 0 : ch];
    image.values[i] = (image.values[i] * scale - m) / s;
  }
}

std::vector<float> ToPlanar(const FloatImage& image) {
  std::vector<float> out(image.values.size());
  const size_t plane = static_cast<size_t>(image.height) * image.width;
  for (size_t p = 0; p < plane; ++p) {
    for (int c = 0; c < image.channels; ++c) {
      out[static_cast<size_t>(c) * plane + p] = image.values[p * image.channels + c];
    }
  }
  return out;
}

}  // namespace inferd::backends::image
