// Fuzzes config.pbtxt handling: ParseModelConfig on the input text, then, when it parses,
// CompleteAndValidate against the signature of one of the example models (examples/models):
// "simple" when the config names it, "mlp" otherwise.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/auto_complete.h"
#include "config/model_config_parser.h"

namespace {

using inferd::DataType;
using inferd::config::ModelSignature;

// examples/models/mlp: input [-1,64] FP32 -> logits, probabilities [-1,10] FP32.
const ModelSignature& MlpSignature() {
  static const ModelSignature signature{
      .inputs = {{"input", DataType::kFp32, {-1, 64}}},
      .outputs = {{"logits", DataType::kFp32, {-1, 10}},
                  {"probabilities", DataType::kFp32, {-1, 10}}}};
  return signature;
}

// examples/models/simple: INPUT0, INPUT1 [-1,16] FP32 -> OUTPUT0, OUTPUT1 [-1,16] FP32.
const ModelSignature& SimpleSignature() {
  static const ModelSignature signature{
      .inputs = {{"INPUT0", DataType::kFp32, {-1, 16}}, {"INPUT1", DataType::kFp32, {-1, 16}}},
      .outputs = {{"OUTPUT0", DataType::kFp32, {-1, 16}},
                  {"OUTPUT1", DataType::kFp32, {-1, 16}}}};
  return signature;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = inferd::config::ParseModelConfig(text, "fuzz/config.pbtxt");
  if (!config.ok()) return 0;
  const bool simple = config->name() == "simple";
  (void)inferd::config::CompleteAndValidate(*config, simple ? SimpleSignature() : MlpSignature(),
                                            simple ? "simple" : "mlp",
                                            {"onnxruntime_onnx", "onnxruntime"});
  return 0;
}
