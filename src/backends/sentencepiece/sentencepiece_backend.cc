#include "backends/sentencepiece/sentencepiece_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>

#include "backends/sentencepiece/spm_library.h"
#include "config/model_config_queries.h"
#include "config/model_config_validation.h"
#include "config/proto_data_type.h"
#include "core/duration.h"

namespace inferd::backends {
namespace {

constexpr std::string_view kName = "sentencepiece";
constexpr std::string_view kPlatform = "inferd_sentencepiece";
constexpr std::string_view kIds = "INPUT_IDS";
constexpr std::string_view kMask = "ATTENTION_MASK";

Status Invalid(std::string_view model, std::string_view message) {
  return InvalidArgument(fmt::format("model '{}': {}", model, message));
}

struct TokenizerSettings {
  int64_t max_length = 128;
  bool pad_to_longest = false;  // padding "longest": to the batch's longest text
  bool add_bos = false;
  bool add_eos = false;
  int64_t OutputLength() const { return pad_to_longest ? -1 : max_length; }
};

Result<bool> ReadBool(const config::ModelConfig& config, std::string_view key) {
  auto v = config::GetParameter(config, key);
  if (!v || *v == "false") return false;
  if (*v == "true") return true;
  return InvalidArgument(fmt::format("parameters.{} '{}' is not true or false", key, *v));
}

Result<TokenizerSettings> ReadSettings(const config::ModelConfig& config) {
  TokenizerSettings s;
  if (auto v = config::GetParameter(config, "max_length")) {
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), s.max_length);
    if (ec != std::errc() || ptr != v->data() + v->size() || s.max_length < 1 ||
        s.max_length > 65536) {
      return InvalidArgument(
          fmt::format("parameters.max_length '{}' is not a number from 1 to 65536", *v));
    }
  }
  const std::string padding = config::GetParameter(config, "padding").value_or("max_length");
  if (padding != "max_length" && padding != "longest") {
    return InvalidArgument(
        fmt::format("parameters.padding '{}' is not max_length or longest", padding));
  }
  s.pad_to_longest = padding == "longest";
  ASSIGN_OR_RETURN(s.add_bos, ReadBool(config, "add_bos"));
  ASSIGN_OR_RETURN(s.add_eos, ReadBool(config, "add_eos"));
  if (s.max_length < 1 + s.add_bos + s.add_eos) {
    return InvalidArgument("parameters.max_length leaves no room for text after bos/eos");
  }
  return s;
}

// Fills what the config may leave out (input TEXT, outputs INPUT_IDS and ATTENTION_MASK as
// INT64) and checks what it declares.
Status CompleteTokenizerConfig(config::ModelConfig& config, std::string_view model_name) {
  if (config.name().empty()) config.set_name(std::string(model_name));
  if (config.name() != model_name) {
    return Invalid(model_name, fmt::format("config.pbtxt names the model '{}'", config.name()));
  }
  if (!config.platform().empty() && config.platform() != kPlatform) {
    return Invalid(model_name, fmt::format("platform '{}' does not belong to backend '{}'",
                                           config.platform(), kName));
  }
  config.set_platform(std::string(kPlatform));
  config.set_backend(std::string(kName));
  auto settings = ReadSettings(config);
  if (!settings.ok()) return settings.status().WithContext(fmt::format("model '{}'", model_name));
  if (config.input_size() == 0) {
    auto* in = config.add_input();
    in->set_name("TEXT");
    in->set_data_type(config::TYPE_STRING);
  }
  if (config.input_size() != 1 || config.input(0).data_type() != config::TYPE_STRING) {
    return Invalid(model_name, "a tokenizer takes one TYPE_STRING input (texts)");
  }
  if (config.input(0).dims_size() == 0) config.mutable_input(0)->add_dims(1);
  if (config.input(0).dims_size() != 1 || config.input(0).dims(0) != 1) {
    return Invalid(model_name,
                   "the text input's dims must be [ 1 ]: one text per request (or per batch row)");
  }
  if (config.output_size() == 0) {
    for (std::string_view name : {kIds, kMask}) {
      auto* out = config.add_output();
      out->set_name(std::string(name));
      out->set_data_type(config::TYPE_INT64);
    }
  }
  const int64_t length = settings->OutputLength();
  for (auto& out : *config.mutable_output()) {
    if (out.name() != kIds && out.name() != kMask) {
      return Invalid(model_name, fmt::format("output '{}': a tokenizer's outputs are {} and {}",
                                             out.name(), kIds, kMask));
    }
    if (out.data_type() != config::TYPE_INT64 && out.data_type() != config::TYPE_INT32) {
      return Invalid(model_name,
                     fmt::format("output '{}' must be TYPE_INT64 or TYPE_INT32", out.name()));
    }
    if (out.dims_size() == 0) out.add_dims(length);
    if (out.dims_size() != 1 || out.dims(0) != length) {
      return Invalid(
          model_name,
          fmt::format("output '{}' has dims {} but max_length and padding give [{}]", out.name(),
                      ShapeToString(std::vector<int64_t>(out.dims().begin(), out.dims().end())),
                      length));
    }
  }
  return config::ValidateModelConfig(config);
}

class TokenizerInstance final : public ModelInstance {
 public:
  TokenizerInstance(const config::ModelConfig& config, TokenizerSettings settings,
                    std::unique_ptr<spm::Tokenizer> tokenizer)
      : settings_(settings), tokenizer_(std::move(tokenizer)) {
    batched_ = config.max_batch_size() > 0;
    pad_id_ = std::max(tokenizer_->pad_id(), 0);
    signature_.inputs.push_back({config.input(0).name(), DataType::kBytes, {-1}});
    for (const auto& out : config.output()) {
      const DataType dtype = config::FromProtoDataType(out.data_type());
      dtypes_.emplace_back(out.name(), dtype);
      signature_.outputs.push_back({out.name(), dtype, {settings_.OutputLength()}});
    }
  }

  const config::ModelSignature& signature() const override { return signature_; }

  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings* timings) override {
    const auto start = std::chrono::steady_clock::now();
    if (inputs.size() != 1) return InvalidArgument("a tokenizer takes one input");
    const Tensor& in = inputs[0];
    ASSIGN_OR_RETURN(auto texts, SplitBytesElements(in.data()));
    const int64_t rows = batched_ && !in.shape().empty() ? in.shape()[0] : 1;
    if (static_cast<int64_t>(texts.size()) != rows) {
      return InvalidArgument(
          fmt::format("input '{}' holds {} texts in shape {}; send one text per {}", in.name(),
                      texts.size(), ShapeToString(in.shape()), batched_ ? "batch row" : "request"));
    }
    const size_t room =
        static_cast<size_t>(settings_.max_length) - settings_.add_bos - settings_.add_eos;
    std::vector<std::vector<int32_t>> ids;
    size_t longest = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      auto encoded = tokenizer_->Encode(texts[i]);
      if (!encoded.ok()) {
        return encoded.status().WithContext(fmt::format("text {} of input '{}'", i, in.name()));
      }
      // Built element by element: GCC 12 misreads an insert after a push_back here as an
      // overflow (-Wstringop-overflow).
      const size_t kept = std::min(room, encoded->size());
      std::vector<int32_t> row;
      row.reserve(kept + 2);
      if (settings_.add_bos && tokenizer_->bos_id() >= 0) row.push_back(tokenizer_->bos_id());
      for (size_t k = 0; k < kept; ++k) row.push_back((*encoded)[k]);
      if (settings_.add_eos && tokenizer_->eos_id() >= 0) row.push_back(tokenizer_->eos_id());
      longest = std::max(longest, row.size());
      ids.push_back(std::move(row));
    }
    const size_t length =
        settings_.pad_to_longest ? longest : static_cast<size_t>(settings_.max_length);
    Shape shape;
    if (batched_) shape.push_back(rows);
    shape.push_back(static_cast<int64_t>(length));
    std::vector<Tensor> outputs;
    for (const std::string& name : output_names) {
      auto it = std::find_if(dtypes_.begin(), dtypes_.end(),
                             [&](const auto& d) { return d.first == name; });
      if (it == dtypes_.end()) return InvalidArgument(fmt::format("no output '{}'", name));
      const bool mask = name == kMask;
      std::vector<int64_t> values(ids.size() * length, mask ? 0 : pad_id_);
      for (size_t r = 0; r < ids.size(); ++r) {
        for (size_t j = 0; j < ids[r].size(); ++j) values[r * length + j] = mask ? 1 : ids[r][j];
      }
      Tensor out(name, it->second, shape);
      if (it->second == DataType::kInt64) {
        auto bytes = out.AllocateData(values.size() * sizeof(int64_t));
        std::memcpy(bytes.data(), values.data(), bytes.size());
      } else {
        std::vector<int32_t> narrow(values.begin(), values.end());
        auto bytes = out.AllocateData(narrow.size() * sizeof(int32_t));
        std::memcpy(bytes.data(), narrow.data(), bytes.size());
      }
      outputs.push_back(std::move(out));
    }
    if (timings) timings->infer_ns = NanosSince(start);
    return outputs;
  }

 private:
  const TokenizerSettings settings_;
  std::unique_ptr<spm::Tokenizer> tokenizer_;
  config::ModelSignature signature_;
  std::vector<std::pair<std::string, DataType>> dtypes_;
  bool batched_ = false;
  int64_t pad_id_ = 0;
};

class SentencePieceBackend final : public Backend {
 public:
  std::string_view name() const override { return kName; }
  std::string_view platform() const override { return kPlatform; }
  std::string_view default_model_filename() const override { return "tokenizer.model"; }
  std::string version() const override { return "0.1.97"; }

  Result<std::unique_ptr<ModelInstance>> CreateInstance(const std::filesystem::path& model_file,
                                                        const config::ModelConfig& config,
                                                        const InstanceOptions& options) override {
    if (options.on_gpu) return InvalidArgument("the tokenizer runs on the CPU only");
    config::ModelConfig completed = config;
    const std::string name = config.name().empty() ? std::string("tokenizer") : config.name();
    RETURN_IF_ERROR(CompleteTokenizerConfig(completed, name));
    ASSIGN_OR_RETURN(TokenizerSettings settings, ReadSettings(completed));
    ASSIGN_OR_RETURN(auto tokenizer, spm::Tokenizer::Load(model_file));
    return std::unique_ptr<ModelInstance>(
        new TokenizerInstance(completed, settings, std::move(tokenizer)));
  }

  Status CompleteConfig(config::ModelConfig& config, const config::ModelSignature&,
                        std::string_view model_name) const override {
    return CompleteTokenizerConfig(config, model_name);
  }
};

}  // namespace

Result<std::unique_ptr<Backend>> CreateSentencePieceBackend() {
  return std::unique_ptr<Backend>(new SentencePieceBackend());
}

BackendFactory SentencePieceBackendFactory() {
  return {std::string(kName), std::string(kPlatform), "tokenizer.model",
          &CreateSentencePieceBackend};
}

}  // namespace inferd::backends
