#include "config/model_config_parser.h"

#include <fmt/format.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include <climits>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include "config/ensemble_config.h"

namespace inferd::config {
namespace {

// Keeps the first error: later ones are usually consequences of it.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!error_) error_ = Error{line, column, message};
  }

  struct Error {
    int line;    // 0-based
    int column;  // 0-based
    std::string message;
  };
  const std::optional<Error>& error() const { return error_; }

 private:
  std::optional<Error> error_;
};

// An ensemble step's run_if (inferd's own syntax) is checked as the file is read, so a mistake
// in it is reported with its line and column like a syntax error.
Status CheckConditionsWhereWritten(const ModelConfig& config,
                                   const google::protobuf::TextFormat::ParseInfoTree& locations,
                                   std::string_view source) {
  if (!config.has_ensemble_scheduling()) return Status::Ok();
  int step = -1;
  Status s = ValidateStepConditions(config, &step);
  if (s.ok()) return s;
  const auto* config_fields = ModelConfig::descriptor();
  const auto* step_fields = ModelEnsembling::Step::descriptor();
  const auto* scheduling =
      locations.GetTreeForNested(config_fields->FindFieldByName("ensemble_scheduling"), -1);
  const auto* step_tree = scheduling
                              ? scheduling->GetTreeForNested(
                                    ModelEnsembling::descriptor()->FindFieldByName("step"), step)
                              : nullptr;
  const auto where = step_tree ? step_tree->GetLocation(step_fields->FindFieldByName("run_if"), -1)
                               : google::protobuf::TextFormat::ParseLocation();
  const std::string what = DescribeEnsembleStep(config, static_cast<size_t>(step));
  if (where.line < 0) return InvalidArgument(fmt::format("{}: {}: {}", source, what, s.message()));
  return InvalidArgument(
      fmt::format("{}:{}:{}: {}: {}", source, where.line + 1, where.column + 1, what, s.message()));
}

}  // namespace

Result<ModelConfig> ParseModelConfig(std::string_view text, std::string_view source) {
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  // Strict: unknown fields and unknown enum values are errors, never silently dropped.
  parser.AllowUnknownField(false);
  parser.AllowUnknownExtension(false);

  if (text.size() > static_cast<size_t>(INT_MAX)) {
    return InvalidArgument(fmt::format("{}: the model configuration is too large", source));
  }
  ModelConfig config;
  google::protobuf::TextFormat::ParseInfoTree locations;
  parser.WriteLocationsTo(&locations);
  google::protobuf::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  if (!parser.Parse(&input, &config)) {
    if (const auto& error = errors.error()) {
      return InvalidArgument(
          fmt::format("{}:{}:{}: {}", source, error->line + 1, error->column + 1, error->message));
    }
    return InvalidArgument(fmt::format("{}: could not parse the model configuration", source));
  }
  RETURN_IF_ERROR(CheckConditionsWhereWritten(config, locations, source));
  return config;
}

Result<ModelConfig> ReadModelConfigFile(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return NotFound(fmt::format("model configuration '{}' does not exist", path.string()));
  }
  if (std::filesystem::is_directory(path, ec)) {
    return InvalidArgument(fmt::format("model configuration '{}' is a directory", path.string()));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Internal(fmt::format("cannot open model configuration '{}'", path.string()));
  }
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) {
    return Internal(fmt::format("cannot read model configuration '{}'", path.string()));
  }
  return ParseModelConfig(contents.str(), path.string());
}

}  // namespace inferd::config
