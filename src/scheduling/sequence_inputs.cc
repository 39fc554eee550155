#include "scheduling/sequence_inputs.h"

#include <fmt/format.h>

#include <cstring>

#include "config/proto_data_type.h"

namespace inferd::scheduling {

using SequenceConfig = config::ModelSequenceBatching;

namespace {

template <typename T>
std::vector<std::byte> Bytes(T value) {
  std::vector<std::byte> out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

Result<SequenceControl> ParseControl(const std::string& input, const SequenceConfig::Control& c) {
  SequenceControl out;
  out.input = input;
  out.kind = c.kind();
  if (c.kind() == SequenceConfig::Control::CONTROL_SEQUENCE_CORRID) {
    out.dtype = config::FromProtoDataType(c.data_type());
    if (out.dtype != DataType::kInt32 && out.dtype != DataType::kUint32 &&
        out.dtype != DataType::kInt64 && out.dtype != DataType::kUint64 &&
        out.dtype != DataType::kBytes) {
      return InvalidArgument(fmt::format(
          "sequence_batching control_input '{}': CORRID data_type must be TYPE_INT32, "
          "TYPE_UINT32, TYPE_INT64, TYPE_UINT64 or TYPE_STRING",
          input));
    }
    return out;
  }
  if (c.int32_false_true_size() == 2) {
    out.dtype = DataType::kInt32;
    out.false_value = Bytes(c.int32_false_true(0));
    out.true_value = Bytes(c.int32_false_true(1));
  } else if (c.fp32_false_true_size() == 2) {
    out.dtype = DataType::kFp32;
    out.false_value = Bytes(c.fp32_false_true(0));
    out.true_value = Bytes(c.fp32_false_true(1));
  } else if (c.bool_false_true_size() == 2) {
    out.dtype = DataType::kBool;
    out.false_value = Bytes(static_cast<uint8_t>(c.bool_false_true(0)));
    out.true_value = Bytes(static_cast<uint8_t>(c.bool_false_true(1)));
  } else {
    return InvalidArgument(fmt::format(
        "sequence_batching control_input '{}' needs two values (false, true) in "
        "int32_false_true, fp32_false_true or bool_false_true",
        input));
  }
  return out;
}

Result<SequenceState> ParseState(const SequenceConfig::State& s) {
  SequenceState out;
  out.input = s.input_name();
  out.output = s.output_name();
  out.dtype = config::FromProtoDataType(s.data_type());
  out.dims.assign(s.dims().begin(), s.dims().end());
  if (out.input.empty() || out.output.empty() || out.dtype == DataType::kInvalid ||
      out.dtype == DataType::kBytes) {
    return InvalidArgument(
        "sequence_batching state needs input_name, output_name and a fixed-size data_type");
  }
  if (ElementCount(out.dims) < 0) {
    return InvalidArgument(fmt::format(
        "sequence_batching state '{}' has dims {}; inferd keeps states of fixed dims only",
        out.input, ShapeToString(out.dims)));
  }
  for (const auto& initial : s.initial_state()) {
    if (initial.has_data_file()) {
      return InvalidArgument(fmt::format(
          "sequence_batching state '{}': initial_state data_file is not supported (zero_data is)",
          out.input));
    }
  }
  return out;
}

Tensor Filled(const std::string& name, DataType dtype, Shape shape,
              std::span<const std::byte> element) {
  Tensor t(name, dtype, std::move(shape));
  const int64_t count = t.element_count();
  std::span<std::byte> data = t.AllocateData(static_cast<size_t>(count) * element.size());
  for (int64_t i = 0; i < count; ++i) {
    std::memcpy(data.data() + i * element.size(), element.data(), element.size());
  }
  return t;
}

}  // namespace

Result<std::vector<SequenceControl>> ParseSequenceControls(const SequenceConfig& batching) {
  std::vector<SequenceControl> out;
  for (const auto& input : batching.control_input()) {
    for (const auto& control : input.control()) {
      ASSIGN_OR_RETURN(auto parsed, ParseControl(input.name(), control));
      out.push_back(std::move(parsed));
    }
  }
  return out;
}

Result<std::vector<SequenceState>> ParseSequenceStates(const SequenceConfig& batching) {
  std::vector<SequenceState> out;
  for (const auto& state : batching.state()) {
    ASSIGN_OR_RETURN(auto parsed, ParseState(state));
    out.push_back(std::move(parsed));
  }
  return out;
}

Result<std::vector<Tensor>> SequenceControlTensors(const std::vector<SequenceControl>& controls,
                                                   std::string_view sequence_id, bool start,
                                                   bool end, bool batched) {
  std::vector<Tensor> inputs;
  const Shape shape = batched ? Shape{1, 1} : Shape{1};
  const bool numeric = sequence_id.starts_with("n:");
  const std::string text(sequence_id.substr(2));
  for (const SequenceControl& c : controls) {
    switch (c.kind) {
      case SequenceConfig::Control::CONTROL_SEQUENCE_START:
        inputs.push_back(Filled(c.input, c.dtype, shape, start ? c.true_value : c.false_value));
        break;
      case SequenceConfig::Control::CONTROL_SEQUENCE_END:
        inputs.push_back(Filled(c.input, c.dtype, shape, end ? c.true_value : c.false_value));
        break;
      case SequenceConfig::Control::CONTROL_SEQUENCE_READY:
        inputs.push_back(Filled(c.input, c.dtype, shape, c.true_value));
        break;
      case SequenceConfig::Control::CONTROL_SEQUENCE_CORRID: {
        if (c.dtype == DataType::kBytes) {
          Tensor t(c.input, c.dtype, shape);
          std::vector<std::byte> bytes;
          AppendBytesElement(bytes, text);
          t.SetData(std::move(bytes));
          inputs.push_back(std::move(t));
          break;
        }
        if (!numeric) {
          return InvalidArgument(fmt::format(
              "sequence_id '{}' is a string but control_input '{}' takes a number", text,
              c.input));
        }
        const uint64_t value = std::stoull(text);
        std::vector<std::byte> element;
        switch (c.dtype) {
          case DataType::kInt32: element = Bytes(static_cast<int32_t>(value)); break;
          case DataType::kUint32: element = Bytes(static_cast<uint32_t>(value)); break;
          case DataType::kInt64: element = Bytes(static_cast<int64_t>(value)); break;
          default: element = Bytes(value); break;
        }
        inputs.push_back(Filled(c.input, c.dtype, shape, element));
        break;
      }
      default:
        break;
    }
  }
  return inputs;
}

Tensor InitialState(const SequenceState& state, bool batched) {
  Shape shape = state.dims;
  if (batched) shape.insert(shape.begin(), 1);
  const std::vector<std::byte> zero(DataTypeByteSize(state.dtype));
  return Filled(state.input, state.dtype, std::move(shape), zero);
}

}  // namespace inferd::scheduling
