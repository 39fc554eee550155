#include "backends/sentencepiece/spm_library.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <array>
#include <mutex>

#include "backends/sentencepiece/spm_shim.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INFERD_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define INFERD_SANITIZER_BUILD 1
#endif
#endif

namespace inferd::backends::spm {

struct ShimFunctions {
  decltype(&inferd_spm_load) load = nullptr;
  decltype(&inferd_spm_free) free = nullptr;
  decltype(&inferd_spm_encode) encode = nullptr;
  decltype(&inferd_spm_id) id = nullptr;
};

namespace {

#ifndef INFERD_SANITIZER_BUILD
constexpr char kShimFile[] = "libinferd_sentencepiece_shim.so";

// Where the shim is: beside the library this code is in (the plugin), else the build's folder.
std::filesystem::path ShimPath() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<const void*>(&ShimPath), &info) != 0 && info.dli_fname != nullptr) {
    auto beside = std::filesystem::path(info.dli_fname).parent_path() / kShimFile;
    std::error_code ec;
    if (std::filesystem::exists(beside, ec)) return beside;
  }
  return std::filesystem::path(INFERD_SENTENCEPIECE_SHIM_DIR) / kShimFile;
}
#endif

Result<const ShimFunctions*> LoadShim() {
#ifdef INFERD_SANITIZER_BUILD
  return Unimplemented(
      "the SentencePiece tokenizer is not available in sanitizer builds: it needs "
      "dlopen(RTLD_DEEPBIND), which sanitizer runtimes refuse");
#else
  static std::once_flag once;
  static ShimFunctions shim;
  static Status loaded;
  std::call_once(once, [] {
    const auto path = ShimPath();
    // DEEPBIND: libsentencepiece's protobuf references bind to its own copy, not the system
    // protobuf already in the process (spm_shim.h).
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
    if (handle == nullptr) {
      loaded = Unavailable(
          fmt::format("cannot load the SentencePiece shim {}: {}", path.string(), dlerror()));
      return;
    }
    shim.load = reinterpret_cast<decltype(shim.load)>(dlsym(handle, "inferd_spm_load"));
    shim.free = reinterpret_cast<decltype(shim.free)>(dlsym(handle, "inferd_spm_free"));
    shim.encode = reinterpret_cast<decltype(shim.encode)>(dlsym(handle, "inferd_spm_encode"));
    shim.id = reinterpret_cast<decltype(shim.id)>(dlsym(handle, "inferd_spm_id"));
    if (!shim.load || !shim.free || !shim.encode || !shim.id) {
      loaded = Internal(fmt::format("{} lacks the inferd_spm_* functions", path.string()));
    }
    // Never closed: tokenizers may live until exit.
  });
  if (!loaded.ok()) return loaded;
  return &shim;
#endif
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::filesystem::path& model_file) {
  ASSIGN_OR_RETURN(const ShimFunctions* shim, LoadShim());
  std::array<char, 512> error{};
  void* handle = shim->load(model_file.c_str(), error.data(), error.size());
  if (handle == nullptr) {
    return InvalidArgument(
        fmt::format("SentencePiece model {}: {}", model_file.string(), error.data()));
  }
  return std::unique_ptr<Tokenizer>(new Tokenizer(shim, handle));
}

Tokenizer::Tokenizer(const ShimFunctions* shim, void* handle) : shim_(shim), handle_(handle) {
  pad_id_ = shim_->id(handle_, 0);
  bos_id_ = shim_->id(handle_, 2);
  eos_id_ = shim_->id(handle_, 3);
  vocab_size_ = shim_->id(handle_, 4);
}

Tokenizer::~Tokenizer() { shim_->free(handle_); }

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> ids(text.size() + 8);  // usually enough: at most a piece per byte
  std::array<char, 512> error{};
  for (;;) {
    const int64_t n = shim_->encode(handle_, text.data(), text.size(), ids.data(), ids.size(),
                                    error.data(), error.size());
    if (n < 0) return InvalidArgument(fmt::format("SentencePiece: {}", error.data()));
    const bool complete = static_cast<size_t>(n) <= ids.size();
    ids.resize(static_cast<size_t>(n));
    if (complete) return ids;
  }
}

}  // namespace inferd::backends::spm
