#include "server/request_validator.h"

#include <fmt/format.h>

#include "config/model_config.h"

namespace inferd::server {
namespace {

Status CheckShape(const config::ModelConfig& config, const config::ModelInput& spec,
                  const Tensor& input, int64_t* batch_size) {
  const bool batching = config.max_batch_size() > 0;
  const auto& dims = spec.dims();
  const size_t rank = static_cast<size_t>(dims.size()) + (batching ? 1 : 0);
  const Shape& shape = input.shape();
  auto mismatch = [&]() {
    return InvalidArgument(fmt::format(
        "input '{}' has shape {} but model '{}' expects {}", input.name(), ShapeToString(shape),
        config.name(), ShapeToString(config::FullDims(config, dims))));
  };
  if (shape.size() != rank) return mismatch();
  size_t offset = 0;
  if (batching) {
    const int64_t batch = shape[0];
    if (batch < 1 || batch > config.max_batch_size()) {
      return InvalidArgument(fmt::format(
          "input '{}' has batch size {}; model '{}' accepts 1 to {} (max_batch_size)",
          input.name(), batch, config.name(), config.max_batch_size()));
    }
    if (*batch_size >= 0 && *batch_size != batch) {
      return InvalidArgument(fmt::format(
          "input '{}' has batch size {} but other inputs have {}; all inputs of one request "
          "must share the batch size",
          input.name(), batch, *batch_size));
    }
    *batch_size = batch;
    offset = 1;
  }
  for (int i = 0; i < dims.size(); ++i) {
    const int64_t got = shape[offset + i];
    if (got < 0 || (dims[i] >= 0 && got != dims[i])) return mismatch();
  }
  return Status::Ok();
}

}  // namespace

Result<ValidatedRequest> ValidateRequest(const config::ModelConfig& config,
                                         const InferenceRequest& request) {
  int64_t batch_size = -1;
  size_t matched = 0;
  for (const Tensor& input : request.inputs) {
    const config::ModelInput* spec = nullptr;
    for (const auto& in : config.input()) {
      if (in.name() == input.name()) spec = &in;
    }
    if (spec == nullptr) {
      return InvalidArgument(fmt::format("unexpected inference input '{}' for model '{}'",
                                         input.name(), config.name()));
    }
    ++matched;
    const DataType expected = config::FromProtoDataType(spec->data_type());
    if (input.dtype() != expected) {
      return InvalidArgument(fmt::format(
          "input '{}' has datatype {} but model '{}' expects {}", input.name(),
          DataTypeName(input.dtype()), config.name(), DataTypeName(expected)));
    }
    RETURN_IF_ERROR(CheckShape(config, *spec, input, &batch_size));
    RETURN_IF_ERROR(input.ValidateByteSize());
  }
  if (matched < static_cast<size_t>(config.input_size())) {
    for (const auto& in : config.input()) {
      if (in.optional()) continue;
      bool present = false;
      for (const Tensor& t : request.inputs) present |= t.name() == in.name();
      if (!present) {
        return InvalidArgument(fmt::format("missing input '{}' for model '{}'", in.name(),
                                           config.name()));
      }
    }
  }

  ValidatedRequest validated;
  validated.batch_size = batch_size > 0 ? batch_size : 1;
  scheduling::OutputNames& outputs = validated.output_names;
  if (request.outputs.empty()) {
    for (const auto& out : config.output()) outputs.push_back(out.name());
    return validated;
  }
  for (const RequestedOutput& req : request.outputs) {
    bool known = false;
    for (const auto& out : config.output()) known |= out.name() == req.name;
    if (!known) {
      return InvalidArgument(fmt::format("unexpected inference output '{}' for model '{}'",
                                         req.name, config.name()));
    }
    for (const auto& prev : outputs) {
      if (prev == req.name) {
        return InvalidArgument(fmt::format("output '{}' is requested twice", req.name));
      }
    }
    outputs.push_back(req.name);
  }
  return validated;
}

Status CheckRequestLimits(const InferenceRequest& request, const RequestLimits& limits) {
  if (limits.max_inputs > 0 && request.inputs.size() > limits.max_inputs) {
    return ResourceExhausted(fmt::format("request has {} inputs; the limit is {}",
                                         request.inputs.size(), limits.max_inputs));
  }
  int64_t elements = 0;
  uint64_t bytes = 0;
  for (const Tensor& input : request.inputs) {
    for (int64_t dim : input.shape()) {
      if (dim < 0) return InvalidArgument(fmt::format("input '{}' has a negative dim", input.name()));
    }
    const int64_t count = input.element_count();
    if (count < 0 || (limits.max_elements > 0 && count > limits.max_elements - elements)) {
      return ResourceExhausted(fmt::format(
          "input '{}' brings the request over the limit of {} elements", input.name(),
          limits.max_elements));
    }
    elements += count;
    bytes += input.byte_size();
    if (limits.max_bytes > 0 && bytes > limits.max_bytes) {
      return ResourceExhausted(fmt::format(
          "input '{}' brings the request over the limit of {} tensor bytes", input.name(),
          limits.max_bytes));
    }
    if (input.dtype() == DataType::kBytes && limits.max_bytes_element_bytes > 0) {
      auto strings = SplitBytesElements(input.data());
      if (!strings.ok()) continue;  // malformed: the validator reports it
      for (std::string_view element : *strings) {
        if (element.size() > limits.max_bytes_element_bytes) {
          return ResourceExhausted(fmt::format(
              "input '{}' has a BYTES element of {} bytes; the limit is {}", input.name(),
              element.size(), limits.max_bytes_element_bytes));
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace inferd::server
