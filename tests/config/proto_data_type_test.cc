#include "config/proto_data_type.h"

#include <gtest/gtest.h>

namespace inferd::config {
namespace {

struct Row {
  inferd::DataType core;
  config::DataType proto;
  const char* proto_name;
};

// Triton's TYPE_* value for every core type.
constexpr Row kTable[] = {
    {inferd::DataType::kBool, TYPE_BOOL, "TYPE_BOOL"},
    {inferd::DataType::kUint8, TYPE_UINT8, "TYPE_UINT8"},
    {inferd::DataType::kUint16, TYPE_UINT16, "TYPE_UINT16"},
    {inferd::DataType::kUint32, TYPE_UINT32, "TYPE_UINT32"},
    {inferd::DataType::kUint64, TYPE_UINT64, "TYPE_UINT64"},
    {inferd::DataType::kInt8, TYPE_INT8, "TYPE_INT8"},
    {inferd::DataType::kInt16, TYPE_INT16, "TYPE_INT16"},
    {inferd::DataType::kInt32, TYPE_INT32, "TYPE_INT32"},
    {inferd::DataType::kInt64, TYPE_INT64, "TYPE_INT64"},
    {inferd::DataType::kFp16, TYPE_FP16, "TYPE_FP16"},
    {inferd::DataType::kFp32, TYPE_FP32, "TYPE_FP32"},
    {inferd::DataType::kFp64, TYPE_FP64, "TYPE_FP64"},
    {inferd::DataType::kBf16, TYPE_BF16, "TYPE_BF16"},
    {inferd::DataType::kBytes, TYPE_STRING, "TYPE_STRING"},
};

TEST(ProtoDataType, ConvertsEveryTypeBothWays) {
  for (const Row& row : kTable) {
    EXPECT_EQ(ToProtoDataType(row.core), row.proto) << row.proto_name;
    EXPECT_EQ(FromProtoDataType(row.proto), row.core) << row.proto_name;
    EXPECT_EQ(ProtoDataTypeName(row.proto), row.proto_name);
    // The proto enum's names are the core module's config names.
    EXPECT_EQ(DataTypeConfigName(row.core), row.proto_name);
  }
}

TEST(ProtoDataType, CoversEveryCoreType) {
  for (inferd::DataType type : kAllDataTypes) {
    EXPECT_NE(ToProtoDataType(type), TYPE_INVALID) << DataTypeName(type);
  }
}

TEST(ProtoDataType, InvalidMapsToInvalid) {
  EXPECT_EQ(ToProtoDataType(inferd::DataType::kInvalid), TYPE_INVALID);
  EXPECT_EQ(FromProtoDataType(TYPE_INVALID), inferd::DataType::kInvalid);
  EXPECT_EQ(FromProtoDataType(static_cast<config::DataType>(99)), inferd::DataType::kInvalid);
  EXPECT_EQ(ProtoDataTypeName(static_cast<config::DataType>(99)), "TYPE_INVALID");
}

}  // namespace
}  // namespace inferd::config
