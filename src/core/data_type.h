// The tensor element types of the KServe v2 protocol and their names in each vocabulary:
// v2 protocol names ("FP32"), model config names ("TYPE_FP32"), and element sizes.
// Pure functions; used by config, protocol and backends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace inferd {

enum class DataType : uint8_t {
  kInvalid = 0,
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp16,
  kFp32,
  kFp64,
  kBf16,
  kBytes,  // variable-length byte strings (ONNX "string")
};

// Every valid DataType, for tables and tests.
inline constexpr DataType kAllDataTypes[] = {
    DataType::kBool, DataType::kUint8, DataType::kUint16, DataType::kUint32, DataType::kUint64,
    DataType::kInt8, DataType::kInt16, DataType::kInt32,  DataType::kInt64,  DataType::kFp16,
    DataType::kFp32, DataType::kFp64,  DataType::kBf16,   DataType::kBytes};

// "BOOL", "UINT8", …, "FP32", "BF16", "BYTES"; "INVALID" for kInvalid.
std::string_view DataTypeName(DataType type);
// Inverse of DataTypeName; kInvalid for anything else (case-sensitive, as the protocol is).
DataType DataTypeFromName(std::string_view name);

// Model config names: "TYPE_BOOL", …, "TYPE_FP32", "TYPE_STRING" (Triton's name for BYTES).
std::string_view DataTypeConfigName(DataType type);
DataType DataTypeFromConfigName(std::string_view name);

// Size of one element in bytes; 0 for BYTES (variable length) and kInvalid.
size_t DataTypeByteSize(DataType type);

}  // namespace inferd
