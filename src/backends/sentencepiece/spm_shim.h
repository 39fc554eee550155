// The C interface of libinferd_sentencepiece_shim.so, a small library that links Debian's
// libsentencepiece and nothing else of inferd. That library carries its own copy of protobuf
// (3.14, lite) whose symbols have the same names as the system protobuf 3.21 that inferd links
// for gRPC; loaded the usual way, its generated code binds to 3.21, fails protobuf's version
// check and aborts the process. So the shim is dlopen()ed with RTLD_DEEPBIND (spm_library.h):
// it and libsentencepiece resolve symbols in their own libraries first and keep their own
// protobuf. Only C types cross this interface.
#pragma once

#include <stddef.h>
#include <stdint.h>

extern "C" {

// A loaded tokenizer, or null with a message in `error` (NUL-terminated, truncated).
void* inferd_spm_load(const char* model_path, char* error, size_t error_size);
void inferd_spm_free(void* tokenizer);
// The ids of `text`, at most `capacity` written to `ids`; returns how many it has in all, or
// -1 with a message in `error`.
int64_t inferd_spm_encode(void* tokenizer, const char* text, size_t text_size, int32_t* ids,
                          size_t capacity, char* error, size_t error_size);
// The model's special ids (-1 when it has none): which = 0 pad, 1 unk, 2 bos, 3 eos; and its
// vocabulary size for which = 4.
int32_t inferd_spm_id(void* tokenizer, int which);
}
