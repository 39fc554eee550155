// ONNX model files for `inferd optimize`: reading and checking a ModelProto with Debian's
// libonnx (protobuf, checker, shape inference), and the small tensor helpers the graph rewrites
// in this folder share. Pure functions over protobuf values; no ONNX Runtime here.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::optimize {

// Parses a serialized ModelProto; INVALID_ARGUMENT naming `what` when the bytes are not one
// (an ONNX file has a graph; a protobuf that parses to an empty graph is not accepted).
Result<onnx::ModelProto> ParseOnnxModel(const std::string& bytes, const std::string& what);
// Reads and parses the file at `path`.
Result<onnx::ModelProto> LoadOnnxModel(const std::string& path);

// The ONNX checker plus strict shape inference; INVALID_ARGUMENT with the checker's message.
Status CheckOnnxModel(const onnx::ModelProto& model);

// Drops the graph's value_info (intermediate types and shapes), which a rewrite that changes
// types or shapes makes stale; ONNX Runtime infers them at load, CheckOnnxModel in its copy.
void DropValueInfo(onnx::ModelProto& model);

// The initializer called `name`, or null.
onnx::TensorProto* FindInitializer(onnx::GraphProto& graph, const std::string& name);
// A FLOAT tensor's values (raw_data or float_data).
Result<std::vector<float>> FloatValues(const onnx::TensorProto& tensor);
onnx::TensorProto MakeFloatTensor(const std::string& name, std::vector<int64_t> dims,
                                  const std::vector<float>& values);
// How many nodes of the graph read `tensor` (graph outputs count as readers too).
int CountReaders(const onnx::GraphProto& graph, const std::string& tensor);
// Removes initializers no node or graph output reads (and their graph inputs, for models that
// list initializers as inputs).
void RemoveUnreadInitializers(onnx::GraphProto& graph);
// The opset version the model imports for the default ONNX domain (0 when none).
int64_t OnnxOpset(const onnx::ModelProto& model);

// A name not yet used in the graph: `base`, else `base_1`, `base_2`, …
std::string UniqueName(const onnx::GraphProto& graph, const std::string& base);

}  // namespace inferd::optimize
