#include "config/model_config_json.h"

#include <google/protobuf/descriptor.h>
#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace inferd::config {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using Json = nlohmann::ordered_json;

bool Is64BitInteger(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// Protobuf JSON writes 64-bit integers as strings; turns one back into a number.
void StringToNumber(Json& value, const FieldDescriptor& field) {
  if (!value.is_string()) return;
  const std::string& text = value.get_ref<const std::string&>();
  const char* end = text.data() + text.size();
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
    uint64_t number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), end, number);
    if (ec == std::errc() && ptr == end) value = number;
  } else {
    int64_t number = 0;
    auto [ptr, ec] = std::from_chars(text.data(), end, number);
    if (ec == std::errc() && ptr == end) value = number;
  }
}

void FixMessage(Json& object, const Descriptor& descriptor);

// One field's JSON value (a single value, or the whole array / map object).
void FixField(Json& value, const FieldDescriptor& field) {
  if (field.is_map()) {
    // Map keys stay strings in JSON (as in Triton); values may need fixing.
    if (!value.is_object()) return;
    const FieldDescriptor& value_field = *field.message_type()->map_value();
    for (auto& entry : value.items()) FixField(entry.value(), value_field);
    return;
  }
  if (field.is_repeated() && value.is_array()) {
    for (auto& element : value) {
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        FixMessage(element, *field.message_type());
      } else if (Is64BitInteger(field)) {
        StringToNumber(element, field);
      }
    }
    return;
  }
  if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    FixMessage(value, *field.message_type());
  } else if (Is64BitInteger(field)) {
    StringToNumber(value, field);
  }
}

void FixMessage(Json& object, const Descriptor& descriptor) {
  if (!object.is_object()) return;
  for (auto& member : object.items()) {
    if (const FieldDescriptor* field = descriptor.FindFieldByName(member.key())) {
      FixField(member.value(), *field);
    }
  }
}

}  // namespace

std::string ModelConfigToJson(const ModelConfig& config) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  // Printing a well-formed generated message cannot fail.
  (void)google::protobuf::util::MessageToJsonString(config, &text, options);
  Json json = Json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return text;
  FixMessage(json, *ModelConfig::descriptor());
  return json.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false,
                   Json::error_handler_t::replace);
}

}  // namespace inferd::config

namespace inferd::config {

Result<ModelConfig> ModelConfigFromJson(std::string_view json) {
  ModelConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &config, options);
  if (!status.ok()) {
    return InvalidArgument(fmt::format("model config JSON: {}", status.message().as_string()));
  }
  return config;
}

}  // namespace inferd::config
