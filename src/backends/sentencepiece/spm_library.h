// The SentencePiece shim (spm_shim.h), loaded once per process with RTLD_DEEPBIND so that
// Debian's libsentencepiece keeps its own protobuf, and a tokenizer over it. The shim lives
// next to the plugin that uses it (libinferd_backend_sentencepiece.so), else in the build's
// backend directory. Sanitizer runtimes refuse RTLD_DEEPBIND: such builds report the tokenizer
// as UNIMPLEMENTED instead of loading it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace inferd::backends::spm {

struct ShimFunctions;

class Tokenizer {
 public:
  // Loads a SentencePiece model file (the shim first, on first use).
  static Result<std::unique_ptr<Tokenizer>> Load(const std::filesystem::path& model_file);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // The ids of `text`, all of them. Thread-safe (SentencePiece's Encode is const).
  Result<std::vector<int32_t>> Encode(std::string_view text) const;
  int32_t pad_id() const { return pad_id_; }  // -1: the model has none
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  int32_t vocab_size() const { return vocab_size_; }

 private:
  Tokenizer(const ShimFunctions* shim, void* handle);
  const ShimFunctions* shim_;
  void* handle_;
  int32_t pad_id_ = -1, bos_id_ = -1, eos_id_ = -1, vocab_size_ = 0;
};

}  // namespace inferd::backends::spm
