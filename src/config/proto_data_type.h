// Conversions between the core tensor type inferd::DataType and the model config's proto enum
// inferd::config::DataType (Triton's TYPE_* values). Used by auto-complete, the repository and
// the gRPC frontend. Inside namespace inferd::config the bare name `DataType` is the proto
// enum; the core type is always spelled inferd::DataType.
#pragma once

#include "config/model_config.pb.h"
#include "core/data_type.h"

namespace inferd::config {

// TYPE_STRING -> kBytes; TYPE_INVALID and unknown values -> kInvalid.
inferd::DataType FromProtoDataType(config::DataType t);
// kBytes -> TYPE_STRING; kInvalid -> TYPE_INVALID.
config::DataType ToProtoDataType(inferd::DataType t);

// "TYPE_FP32", …, for messages; "TYPE_INVALID" for values outside the enum.
std::string_view ProtoDataTypeName(config::DataType t);

}  // namespace inferd::config
