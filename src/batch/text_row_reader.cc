// The text readers: JSON Lines and CSV, one row per line (see row_reader.h).
#include "batch/text_row_reader.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <charconv>
#include <cstring>

#include "batch/line_file.h"
#include "batch/row_reader.h"
#include "protocol/tensor_json_data.h"
#include "protocol/v2_json_codec.h"

namespace inferd::batch {
namespace {

namespace dom = simdjson::dom;

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t") == std::string_view::npos;
}

// The next non-blank line of `file` as a row (parsed by `parse_line` when `parse`), or none at
// the end of the file.
template <typename ParseLine>
Result<std::optional<Row>> NextRow(LineFile& file, bool parse, const ParseLine& parse_line) {
  std::string_view line;
  while (true) {
    ASSIGN_OR_RETURN(bool more, file.Next(line));
    if (!more) return std::optional<Row>();
    if (!IsBlank(line)) break;
  }
  Row row;
  row.line = file.line();
  if (parse) parse_line(line, row);
  return std::optional<Row>(std::move(row));
}

class JsonLinesReader final : public RowReader {
 public:
  JsonLinesReader(std::unique_ptr<LineFile> file, ModelSpec model)
      : file_(std::move(file)), model_(std::move(model)) {}

  Result<std::optional<Row>> Next(bool parse) override {
    return NextRow(*file_, parse, [this](std::string_view line, Row& row) { Parse(line, row); });
  }
  uint64_t position() const override { return file_->position(); }
  int64_t line() const override { return file_->line(); }
  Status Seek(uint64_t position, int64_t line) override { return file_->Seek(position, line); }
  uint64_t end_position() const override { return file_->size(); }

 private:
  void Parse(std::string_view line, Row& row) {
    dom::element root;
    if (auto error = parser_.parse(line.data(), line.size()).get(root)) {
      row.error = fmt::format("not JSON: {}", simdjson::error_message(error));
      return;
    }
    if (root.is_array() && model_.inputs.size() == 1) {
      return DecodeInput(model_.inputs[0], root, row);
    }
    dom::object object;
    if (root.get_object().get(object) != simdjson::SUCCESS) {
      row.error = "a row must be a JSON object of input name -> values";
      return;
    }
    if (object["inputs"].is_array()) return DecodeRequest(line, row);
    for (const InputSpec& input : model_.inputs) {
      dom::element value;
      if (object[input.name].get(value) != simdjson::SUCCESS) {
        row.error = fmt::format("input '{}' is missing", input.name);
        return;
      }
      DecodeInput(input, value, row);
      if (!row.error.empty()) return;
    }
  }

  void DecodeInput(const InputSpec& input, const dom::element& value, Row& row) {
    Tensor tensor(input.name, input.dtype, input.row_shape);
    if (Status s = protocol::DecodeTensorJsonData(value, tensor); !s.ok()) {
      row.error = s.message();
      row.inputs.clear();
      return;
    }
    row.inputs.push_back(std::move(tensor));
  }

  void DecodeRequest(std::string_view line, Row& row) {
    auto body = std::make_shared<std::string>();
    body->reserve(line.size() + protocol::kRequestBodyPadding);
    body->assign(line);
    auto request = protocol::DecodeInferRequest(body, std::nullopt);
    if (!request.ok()) {
      row.error = request.status().message();
      return;
    }
    row.request = std::move(request).value();
  }

  std::unique_ptr<LineFile> file_;
  ModelSpec model_;
  dom::parser parser_;
};

// CSV fields of one line: commas separate, double quotes may wrap a field ("" is a quote).
std::vector<std::string> SplitCsv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

template <typename T>
void Store(double value, std::byte* out) {
  const T typed = static_cast<T>(value);
  std::memcpy(out, &typed, sizeof(T));
}

class CsvReader final : public RowReader {
 public:
  CsvReader(std::unique_ptr<LineFile> file, InputSpec input, std::vector<size_t> columns,
            uint64_t data_start)
      : file_(std::move(file)),
        input_(std::move(input)),
        columns_(std::move(columns)),
        data_start_(data_start) {}

  Result<std::optional<Row>> Next(bool parse) override {
    return NextRow(*file_, parse, [this](std::string_view line, Row& row) { Parse(line, row); });
  }
  uint64_t position() const override { return file_->position(); }
  int64_t line() const override { return file_->line(); }
  Status Seek(uint64_t position, int64_t line) override {
    return file_->Seek(std::max(position, data_start_), std::max<int64_t>(line, 1));
  }
  uint64_t end_position() const override { return file_->size(); }

 private:
  void Parse(std::string_view line, Row& row) {
    const std::vector<std::string> fields = SplitCsv(line);
    Tensor tensor(input_.name, input_.dtype, input_.row_shape);
    const size_t width = DataTypeByteSize(input_.dtype);
    std::span<std::byte> bytes = tensor.AllocateData(columns_.size() * width);
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i] >= fields.size()) {
        row.error = fmt::format("{} fields, the header has more", fields.size());
        return;
      }
      const std::string& field = fields[columns_[i]];
      double value = 0;
      const char* begin = field.data();
      while (begin < field.data() + field.size() && *begin == ' ') ++begin;
      auto [end, ec] = std::from_chars(begin, field.data() + field.size(), value);
      if (ec != std::errc() || end != field.data() + field.size() || begin == end) {
        row.error = fmt::format("column {}: '{}' is not a number", columns_[i] + 1, field);
        return;
      }
      std::byte* out = bytes.data() + i * width;
      switch (input_.dtype) {
        case DataType::kFp32:
          Store<float>(value, out);
          break;
        case DataType::kFp64:
          Store<double>(value, out);
          break;
        case DataType::kInt32:
          Store<int32_t>(value, out);
          break;
        case DataType::kInt64:
          Store<int64_t>(value, out);
          break;
        default:
          Store<uint8_t>(value, out);
          break;  // UINT8/INT8/BOOL, checked at open
      }
    }
    row.inputs.push_back(std::move(tensor));
  }

  std::unique_ptr<LineFile> file_;
  InputSpec input_;
  std::vector<size_t> columns_;  // field index of each value of a row
  uint64_t data_start_;          // the first byte after the header line
};

}  // namespace

Result<std::unique_ptr<RowReader>> OpenJsonLinesReader(const std::string& path,
                                                       const ModelSpec& model) {
  ASSIGN_OR_RETURN(auto file, LineFile::Open(path));
  return std::unique_ptr<RowReader>(new JsonLinesReader(std::move(file), model));
}

Result<std::unique_ptr<RowReader>> OpenCsvReader(const std::string& path, const ModelSpec& model,
                                                 const std::vector<std::string>& columns) {
  if (model.inputs.size() != 1) {
    return InvalidArgument(fmt::format("CSV input needs a single-input model; '{}' has {}",
                                       model.name, model.inputs.size()));
  }
  const InputSpec& input = model.inputs[0];
  switch (input.dtype) {
    case DataType::kFp32:
    case DataType::kFp64:
    case DataType::kInt32:
    case DataType::kInt64:
    case DataType::kUint8:
    case DataType::kInt8:
    case DataType::kBool:
      break;
    default:
      return InvalidArgument(fmt::format("CSV input: input '{}' is {}, not a numeric type",
                                         input.name, DataTypeName(input.dtype)));
  }
  ASSIGN_OR_RETURN(auto file, LineFile::Open(path));
  std::string_view header_line;
  ASSIGN_OR_RETURN(bool has_header, file->Next(header_line));
  if (!has_header) return InvalidArgument(fmt::format("'{}' has no CSV header line", path));
  const std::vector<std::string> header = SplitCsv(header_line);
  std::vector<size_t> picked;
  if (columns.empty()) {
    for (size_t i = 0; i < header.size(); ++i) picked.push_back(i);
  }
  for (const std::string& name : columns) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      return InvalidArgument(
          fmt::format("column '{}' is not in the CSV header of '{}'", name, path));
    }
    picked.push_back(static_cast<size_t>(it - header.begin()));
  }
  if (static_cast<int64_t>(picked.size()) != ElementCount(input.row_shape)) {
    return InvalidArgument(
        fmt::format("input '{}' takes {} values a row; {} CSV columns are selected (--columns)",
                    input.name, ElementCount(input.row_shape), picked.size()));
  }
  const uint64_t data_start = file->position();
  return std::unique_ptr<RowReader>(
      new CsvReader(std::move(file), input, std::move(picked), data_start));
}

}  // namespace inferd::batch
