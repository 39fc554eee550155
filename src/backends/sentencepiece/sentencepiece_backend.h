// The SentencePiece tokenizer (`backend: "sentencepiece"`, platform "inferd_sentencepiece"): a
// processor that turns text (a TYPE_STRING input, one text per request or per batch row) into
// token ids and an attention mask for a language model, with a SentencePiece model file
// (`tokenizer.model` in the version folder) and Debian's libsentencepiece (spm_library.h).
// Parameters (docs/pipelines.md): max_length, padding, add_bos, add_eos.
#pragma once

#include <memory>

#include "backends/backend.h"
#include "backends/backend_registry.h"

namespace inferd::backends {

Result<std::unique_ptr<Backend>> CreateSentencePieceBackend();

// The registry entry (src/backends/CMakeLists.txt).
BackendFactory SentencePieceBackendFactory();

}  // namespace inferd::backends
