// The image processor's settings, read from a config's `parameters` (string values):
//   channels        "1" (gray) or "3" (RGB, default)
//   resize          "HxW", e.g. "224x224"; absent: keep the decoded size
//   interpolation   "bilinear" (default), "area" or "nearest"
//   center_crop     "HxW", after the resize; absent: no crop
//   scale           multiplies every value first (e.g. "0.00392156862745098" for 1/255); 1
//   mean, std       per-channel lists "0.485,0.456,0.406" (or one value); 0 and 1
//   layout          "NCHW" (default, also CHW without batching) or "NHWC"
//   max_pixels      largest width x height decoded (default 16777216)
// Parsed once per load; errors name the parameter.
#pragma once

#include <optional>
#include <vector>

#include "backends/image/image_ops.h"
#include "config/model_config.pb.h"
#include "core/status.h"

namespace inferd::backends::image {

struct Size {
  int height = 0;
  int width = 0;
};

struct ImageSettings {
  int channels = 3;
  std::optional<Size> resize;
  Interpolation interpolation = Interpolation::kBilinear;
  std::optional<Size> center_crop;
  float scale = 1.0f;
  std::vector<float> mean, std;
  bool planar = true;  // NCHW
  uint64_t max_pixels = 16ull << 20;

  // The output's [C,H,W] or [H,W,C] when the size is fixed; -1 for H and W otherwise.
  std::vector<int64_t> OutputDims() const;
};

Result<ImageSettings> ReadImageSettings(const config::ModelConfig& config);

}  // namespace inferd::backends::image
