#include "backends/image/image_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "backends/image/image_decoder.h"
#include "backends/image/image_ops.h"
#include "backends/image/image_settings.h"
#include "config/model_config_validation.h"
#include "config/proto_data_type.h"
#include "core/duration.h"

namespace inferd::backends {
namespace {

using image::ImageSettings;

constexpr std::string_view kName = "image";
constexpr std::string_view kPlatform = "inferd_image";

Status Invalid(std::string_view model, std::string_view message) {
  return InvalidArgument(fmt::format("model '{}': {}", model, message));
}

// Fills the tensors a processor's config may leave out (input IMAGE, the output's dims) and
// checks what it declares against the settings.
Status CompleteImageConfig(config::ModelConfig& config, std::string_view model_name) {
  if (config.name().empty()) config.set_name(std::string(model_name));
  if (config.name() != model_name) {
    return Invalid(model_name, fmt::format("config.pbtxt names the model '{}'", config.name()));
  }
  if (!config.platform().empty() && config.platform() != kPlatform) {
    return Invalid(model_name, fmt::format("platform '{}' does not belong to backend '{}'",
                                           config.platform(), kName));
  }
  config.set_platform(std::string(kPlatform));
  config.set_backend(std::string(kName));
  auto settings = image::ReadImageSettings(config);
  if (!settings.ok()) return settings.status().WithContext(fmt::format("model '{}'", model_name));
  if (config.input_size() == 0) {
    auto* in = config.add_input();
    in->set_name("IMAGE");
    in->set_data_type(config::TYPE_STRING);
  }
  if (config.input_size() != 1 || config.input(0).data_type() != config::TYPE_STRING) {
    return Invalid(model_name, "an image processor takes one TYPE_STRING input (encoded images)");
  }
  if (config.input(0).dims_size() == 0) config.mutable_input(0)->add_dims(1);
  if (config.input(0).dims_size() != 1 || config.input(0).dims(0) != 1) {
    return Invalid(model_name,
                   "the image input's dims must be [ 1 ]: one image per request (or "
                   "per batch row)");
  }
  if (config.output_size() != 1) {
    return Invalid(model_name, "an image processor has exactly one output");
  }
  auto* out = config.mutable_output(0);
  if (out->data_type() != config::TYPE_FP32 && out->data_type() != config::TYPE_UINT8) {
    return Invalid(model_name,
                   fmt::format("output '{}' must be TYPE_FP32 or TYPE_UINT8", out->name()));
  }
  const std::vector<int64_t> dims = settings->OutputDims();
  if (out->dims_size() == 0) {
    for (int64_t d : dims) out->add_dims(d);
  }
  const std::vector<int64_t> declared(out->dims().begin(), out->dims().end());
  if (declared != dims) {
    return Invalid(model_name,
                   fmt::format("output '{}' has dims {} but the parameters produce {}", out->name(),
                               ShapeToString(declared), ShapeToString(dims)));
  }
  return config::ValidateModelConfig(config);
}

class ImageInstance final : public ModelInstance {
 public:
  ImageInstance(config::ModelConfig config, ImageSettings settings)
      : config_(std::move(config)), settings_(std::move(settings)) {
    const auto& out = config_.output(0);
    out_dtype_ = config::FromProtoDataType(out.data_type());
    out_name_ = out.name();
    batched_ = config_.max_batch_size() > 0;
    signature_.inputs.push_back({config_.input(0).name(), DataType::kBytes, {-1}});
    signature_.outputs.push_back({out_name_, out_dtype_, settings_.OutputDims()});
  }

  const config::ModelSignature& signature() const override { return signature_; }

  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings* timings) override {
    const auto start = std::chrono::steady_clock::now();
    if (inputs.size() != 1) return InvalidArgument("an image processor takes one input");
    const Tensor& in = inputs[0];
    ASSIGN_OR_RETURN(auto elements, SplitBytesElements(in.data()));
    const int64_t rows = batched_ && !in.shape().empty() ? in.shape()[0] : 1;
    if (static_cast<int64_t>(elements.size()) != rows) {
      return InvalidArgument(
          fmt::format("input '{}' holds {} images in shape {}; send one image "
                      "per {}",
                      in.name(), elements.size(), ShapeToString(in.shape()),
                      batched_ ? "batch row" : "request"));
    }
    std::vector<float> values;
    Shape dims;
    for (size_t i = 0; i < elements.size(); ++i) {
      auto processed = Process(elements[i]);
      if (!processed.ok()) {
        return processed.status().WithContext(fmt::format("image {} of input '{}'", i, in.name()));
      }
      Shape image_dims = settings_.planar
                             ? Shape{processed->channels, processed->height, processed->width}
                             : Shape{processed->height, processed->width, processed->channels};
      if (i == 0) dims = image_dims;
      if (image_dims != dims) {
        return InvalidArgument(fmt::format(
            "image {} of input '{}' is {} but image 0 is {}; images of one batch must have one "
            "size (or set parameters.resize)",
            i, in.name(), ShapeToString(image_dims), ShapeToString(dims)));
      }
      if (settings_.planar) {
        auto planar = image::ToPlanar(*processed);
        values.insert(values.end(), planar.begin(), planar.end());
      } else {
        values.insert(values.end(), processed->values.begin(), processed->values.end());
      }
    }
    Shape shape;
    if (batched_) shape.push_back(rows);
    shape.insert(shape.end(), dims.begin(), dims.end());
    Tensor out(output_names.empty() ? out_name_ : output_names[0], out_dtype_, shape);
    if (out_dtype_ == DataType::kUint8) {
      auto bytes = out.AllocateData(values.size());
      for (size_t i = 0; i < values.size(); ++i) {
        bytes[i] = static_cast<std::byte>(std::clamp(std::lround(values[i]), 0L, 255L));
      }
    } else {
      auto bytes = out.AllocateData(values.size() * sizeof(float));
      std::memcpy(bytes.data(), values.data(), bytes.size());
    }
    if (timings) timings->infer_ns = NanosSince(start);
    std::vector<Tensor> outputs;
    outputs.push_back(std::move(out));
    return outputs;
  }

 private:
  Result<image::FloatImage> Process(std::string_view encoded) const {
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(encoded.data()),
                                           encoded.size());
    ASSIGN_OR_RETURN(image::Image decoded,
                     image::DecodeImage(bytes, {.channels = settings_.channels,
                                                .max_pixels = settings_.max_pixels}));
    image::FloatImage f = image::ToFloat(decoded);
    if (settings_.resize) {
      f = image::Resize(f, settings_.resize->height, settings_.resize->width,
                        settings_.interpolation);
    }
    if (settings_.center_crop) {
      ASSIGN_OR_RETURN(
          f, image::CenterCrop(f, settings_.center_crop->height, settings_.center_crop->width));
    }
    image::Normalize(f, settings_.scale, settings_.mean, settings_.std);
    return f;
  }

  const config::ModelConfig config_;
  const ImageSettings settings_;
  config::ModelSignature signature_;
  DataType out_dtype_ = DataType::kFp32;
  std::string out_name_;
  bool batched_ = false;
};

class ImageBackend final : public Backend {
 public:
  std::string_view name() const override { return kName; }
  std::string_view platform() const override { return kPlatform; }
  std::string_view default_model_filename() const override { return ""; }
  std::string version() const override { return "1"; }

  Result<std::unique_ptr<ModelInstance>> CreateInstance(const std::filesystem::path&,
                                                        const config::ModelConfig& config,
                                                        const InstanceOptions& options) override {
    if (options.on_gpu) return InvalidArgument("the image processor runs on the CPU only");
    config::ModelConfig completed = config;
    const std::string name = config.name().empty() ? std::string("image") : config.name();
    RETURN_IF_ERROR(CompleteImageConfig(completed, name));
    ASSIGN_OR_RETURN(ImageSettings settings, image::ReadImageSettings(completed));
    return std::unique_ptr<ModelInstance>(
        new ImageInstance(std::move(completed), std::move(settings)));
  }

  Status CompleteConfig(config::ModelConfig& config, const config::ModelSignature&,
                        std::string_view model_name) const override {
    return CompleteImageConfig(config, model_name);
  }
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateImageBackend() {
  return std::unique_ptr<Backend>(new ImageBackend());
}

BackendFactory ImageBackendFactory() {
  return {std::string(kName), std::string(kPlatform), "", &CreateImageBackend};
}

}  // namespace inferd::backends
