// libinferd_sentencepiece_shim.so (spm_shim.h): Debian's SentencePiece behind a C interface.
#include "backends/sentencepiece/spm_shim.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

namespace {

void WriteError(const std::string& message, char* error, size_t error_size) {
  if (error == nullptr || error_size == 0) return;
  const size_t n = std::min(message.size(), error_size - 1);
  std::memcpy(error, message.data(), n);
  error[n] = '\0';
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void* inferd_spm_load(const char* model_path, char* error,
                                                             size_t error_size) {
  auto* processor = new sentencepiece::SentencePieceProcessor();
  const auto status = processor->Load(model_path);
  if (!status.ok()) {
    WriteError(status.ToString(), error, error_size);
    delete processor;
    return nullptr;
  }
  return processor;
}

__attribute__((visibility("default"))) void inferd_spm_free(void* tokenizer) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(tokenizer);
}

__attribute__((visibility("default"))) int64_t inferd_spm_encode(void* tokenizer, const char* text,
                                                                 size_t text_size, int32_t* ids,
                                                                 size_t capacity, char* error,
                                                                 size_t error_size) {
  std::vector<int> pieces;
  const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(tokenizer)->Encode(
      std::string_view(text, text_size), &pieces);
  if (!status.ok()) {
    WriteError(status.ToString(), error, error_size);
    return -1;
  }
  for (size_t i = 0; i < pieces.size() && i < capacity; ++i) ids[i] = pieces[i];
  return static_cast<int64_t>(pieces.size());
}

__attribute__((visibility("default"))) int32_t inferd_spm_id(void* tokenizer, int which) {
  const auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(tokenizer);
  switch (which) {
    case 0:
      return p->pad_id();
    case 1:
      return p->unk_id();
    case 2:
      return p->bos_id();
    case 3:
      return p->eos_id();
    case 4:
      return p->GetPieceSize();
    default:
      return -1;
  }
}

}  // extern "C"
