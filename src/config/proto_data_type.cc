#include "config/proto_data_type.h"

#include <string>

namespace inferd::config {
namespace {

struct DataTypePair {
  inferd::DataType core;
  config::DataType proto;
};

constexpr DataTypePair kPairs[] = {
    {inferd::DataType::kBool, TYPE_BOOL},     {inferd::DataType::kUint8, TYPE_UINT8},
    {inferd::DataType::kUint16, TYPE_UINT16}, {inferd::DataType::kUint32, TYPE_UINT32},
    {inferd::DataType::kUint64, TYPE_UINT64}, {inferd::DataType::kInt8, TYPE_INT8},
    {inferd::DataType::kInt16, TYPE_INT16},   {inferd::DataType::kInt32, TYPE_INT32},
    {inferd::DataType::kInt64, TYPE_INT64},   {inferd::DataType::kFp16, TYPE_FP16},
    {inferd::DataType::kFp32, TYPE_FP32},     {inferd::DataType::kFp64, TYPE_FP64},
    {inferd::DataType::kBf16, TYPE_BF16},     {inferd::DataType::kBytes, TYPE_STRING},
};

}  // namespace

inferd::DataType FromProtoDataType(config::DataType t) {
  for (const auto& pair : kPairs) {
    if (pair.proto == t) return pair.core;
  }
  return inferd::DataType::kInvalid;
}

config::DataType ToProtoDataType(inferd::DataType t) {
  for (const auto& pair : kPairs) {
    if (pair.core == t) return pair.proto;
  }
  return TYPE_INVALID;
}

std::string_view ProtoDataTypeName(config::DataType t) {
  if (!DataType_IsValid(t)) return "TYPE_INVALID";
  // The descriptor owns the name for the life of the program.
  const std::string& name = DataType_Name(t);
  return name;
}

}  // namespace inferd::config
