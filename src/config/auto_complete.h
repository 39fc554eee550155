// Auto-complete and validation of a model's config against the model file's own signature,
// with Triton's auto-complete rules: what the config leaves out is filled from the model,
// what it states must agree with the model. The model repository calls CompleteAndValidate
// once per load, after the backend has opened the model file and before any instance starts;
// everything downstream (scheduler, frontends, ModelConfig RPC) sees the completed config.
#pragma once

#include <string_view>

#include "config/model_config.pb.h"
#include "config/model_signature.h"
#include "core/status.h"

namespace inferd::config {

// max_batch_size given to batchable models whose config declares no tensors (Triton's default).
inline constexpr int kDefaultMaxBatchSize = 4;

// The names a backend registers under (Triton's): `platform` "onnxruntime_onnx", `backend`
// "onnxruntime". Passed in by the backend that completes the config; config/ names no engine.
struct EngineNames {
  std::string_view platform;
  std::string_view backend;
};

// Completes `config` for the model `model_name` from `signature`, then validates it:
//  - name: empty -> model_name; any other name -> error.
//  - platform / backend: empty -> engine.platform / engine.backend; anything else -> error.
//  - a model is batchable when every input and output has a dynamic (-1) leading dimension.
//    No config inputs, no outputs and max_batch_size 0 on a batchable model ->
//    max_batch_size = kDefaultMaxBatchSize. max_batch_size > 0 on a model whose inputs or
//    served outputs (those the config lists, all when it lists none) lack that dimension ->
//    error naming the tensor. Config dims exclude the batch dimension when max_batch_size > 0.
//  - inputs: none listed -> all of the model's; otherwise each must exist in the model with the
//    same data type and rank and, where the model's dim is fixed, the same dim (reshape, when
//    set, is what is compared), and every model input must be listed. Outputs likewise, but the
//    config may list a subset.
//  - instance_group: none -> one KIND_CPU group of 1; count 0 -> 1 (Triton's default), < 0 ->
//    error; KIND_AUTO -> KIND_CPU; KIND_GPU is kept (the backend decides whether it can place
//    instances on GPUs); unnamed groups are named "<model>_<index>".
//  - version_policy: unset or latest { num_versions: 0 } -> latest { num_versions: 1 };
//    warmup batch_size 0 -> 1.
//  - then ValidateModelConfig (model_config_validation.h).
// Every error is INVALID_ARGUMENT; where the config and the model file disagree the message
// names both, e.g. "model 'mlp': config input 'x' has data type TYPE_INT32 but the model file
// declares TYPE_FP32". On error `config` may be partly completed and should be discarded.
// `default_max_batch_size` replaces kDefaultMaxBatchSize (Triton's
// --backend-config=default-max-batch-size); 0 leaves such models unbatched.
Status CompleteAndValidate(ModelConfig& config, const ModelSignature& signature,
                           std::string_view model_name, const EngineNames& engine,
                           int default_max_batch_size = kDefaultMaxBatchSize);

// Whether every input and output of the model has a dynamic (-1) leading dimension.
bool IsBatchable(const ModelSignature& signature);

}  // namespace inferd::config
