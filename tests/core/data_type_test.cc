#include "core/data_type.h"

#include <gtest/gtest.h>

namespace inferd {
namespace {

TEST(DataType, NamesRoundTripForEveryType) {
  for (DataType t : kAllDataTypes) {
    EXPECT_EQ(DataTypeFromName(DataTypeName(t)), t) << DataTypeName(t);
    EXPECT_EQ(DataTypeFromConfigName(DataTypeConfigName(t)), t) << DataTypeConfigName(t);
  }
}

TEST(DataType, BytesIsTypeStringInConfig) {
  EXPECT_EQ(DataTypeConfigName(DataType::kBytes), "TYPE_STRING");
  EXPECT_EQ(DataTypeFromConfigName("TYPE_STRING"), DataType::kBytes);
}

TEST(DataType, UnknownNamesAreInvalid) {
  EXPECT_EQ(DataTypeFromName("fp32"), DataType::kInvalid);
  EXPECT_EQ(DataTypeFromName("FLOAT"), DataType::kInvalid);
  EXPECT_EQ(DataTypeFromConfigName("FP32"), DataType::kInvalid);
}

TEST(DataType, ByteSizes) {
  EXPECT_EQ(DataTypeByteSize(DataType::kBool), 1u);
  EXPECT_EQ(DataTypeByteSize(DataType::kFp16), 2u);
  EXPECT_EQ(DataTypeByteSize(DataType::kBf16), 2u);
  EXPECT_EQ(DataTypeByteSize(DataType::kInt32), 4u);
  EXPECT_EQ(DataTypeByteSize(DataType::kFp64), 8u);
  EXPECT_EQ(DataTypeByteSize(DataType::kBytes), 0u);
}

}  // namespace
}  // namespace inferd
