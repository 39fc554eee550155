#include "backends/image/image_settings.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <string>

#include "config/model_config_queries.h"

namespace inferd::backends::image {
namespace {

Status Bad(std::string_view key, std::string_view value, std::string_view want) {
  return InvalidArgument(fmt::format("parameters.{} '{}' is not {}", key, value, want));
}

Result<int> ParsePositive(std::string_view text) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < 1 || v > 65536) {
    return InvalidArgument("bad number");
  }
  return v;
}

Result<Size> ParseSize(std::string_view key, std::string_view text) {
  const auto x = text.find('x');
  if (x == std::string_view::npos) return Bad(key, text, "HxW (e.g. 224x224)");
  auto h = ParsePositive(text.substr(0, x));
  auto w = ParsePositive(text.substr(x + 1));
  if (!h.ok() || !w.ok()) return Bad(key, text, "HxW with sizes 1..65536 (e.g. 224x224)");
  return Size{*h, *w};
}

Result<float> ParseFloat(std::string_view key, std::string_view text) {
  try {
    size_t used = 0;
    const std::string s(text);
    const float v = std::stof(s, &used);
    if (used != s.size() || !std::isfinite(v)) return Bad(key, text, "a number");
    return v;
  } catch (const std::exception&) {
    return Bad(key, text, "a number");
  }
}

Result<std::vector<float>> ParseList(std::string_view key, std::string_view text, int channels) {
  std::vector<float> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    ASSIGN_OR_RETURN(float v, ParseFloat(key, text.substr(start, comma - start)));
    out.push_back(v);
    start = comma + 1;
  }
  if (out.size() != 1 && out.size() != static_cast<size_t>(channels)) {
    return Bad(key, text, fmt::format("one value or {} (one per channel)", channels));
  }
  return out;
}

}  // namespace

std::vector<int64_t> ImageSettings::OutputDims() const {
  int64_t h = -1, w = -1;
  if (center_crop) {
    h = center_crop->height;
    w = center_crop->width;
  } else if (resize) {
    h = resize->height;
    w = resize->width;
  }
  if (planar) return {channels, h, w};
  return {h, w, channels};
}

Result<ImageSettings> ReadImageSettings(const config::ModelConfig& config) {
  ImageSettings s;
  if (auto v = config::GetParameter(config, "channels")) {
    if (*v != "1" && *v != "3") return Bad("channels", *v, "1 or 3");
    s.channels = *v == "1" ? 1 : 3;
  }
  if (auto v = config::GetParameter(config, "resize")) {
    ASSIGN_OR_RETURN(s.resize, ParseSize("resize", *v));
  }
  if (auto v = config::GetParameter(config, "interpolation")) {
    auto how = ParseInterpolation(*v);
    if (!how.ok()) return Bad("interpolation", *v, "bilinear, area or nearest");
    s.interpolation = *how;
  }
  if (auto v = config::GetParameter(config, "center_crop")) {
    ASSIGN_OR_RETURN(s.center_crop, ParseSize("center_crop", *v));
    if (s.resize &&
        (s.center_crop->height > s.resize->height || s.center_crop->width > s.resize->width)) {
      return Bad("center_crop", *v, "within the resize size");
    }
  }
  if (auto v = config::GetParameter(config, "scale")) {
    ASSIGN_OR_RETURN(s.scale, ParseFloat("scale", *v));
  }
  if (auto v = config::GetParameter(config, "mean")) {
    ASSIGN_OR_RETURN(s.mean, ParseList("mean", *v, s.channels));
  }
  if (auto v = config::GetParameter(config, "std")) {
    ASSIGN_OR_RETURN(s.std, ParseList("std", *v, s.channels));
    for (float x : s.std) {
      if (x == 0) return Bad("std", *v, "free of zeros");
    }
  }
  if (auto v = config::GetParameter(config, "layout")) {
    if (*v != "NCHW" && *v != "NHWC") return Bad("layout", *v, "NCHW or NHWC");
    s.planar = *v == "NCHW";
  }
  if (auto v = config::GetParameter(config, "max_pixels")) {
    uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || ptr != v->data() + v->size() || n == 0) {
      return Bad("max_pixels", *v, "a positive whole number");
    }
    s.max_pixels = n;
  }
  return s;
}

}  // namespace inferd::backends::image
