#include "batch/row_writer.h"

#include <fmt/format.h>

#include <cstring>

#include "batch/npy_format.h"
#include "batch/npz_writer.h"
#include "protocol/json_text.h"
#include "protocol/v2_json_codec.h"

namespace inferd::batch {
namespace {

// Byte range of each row of `tensor`, `rows` rows of equal element count.
Result<std::vector<std::span<const std::byte>>> RowSpans(const Tensor& tensor, int64_t rows) {
  std::vector<std::span<const std::byte>> spans;
  const int64_t elements = tensor.element_count();
  if (rows <= 0 || elements < 0 || elements % rows != 0) {
    return Internal(fmt::format("output '{}' of shape {} does not split into {} rows",
                                tensor.name(), ShapeToString(tensor.shape()), rows));
  }
  const std::span<const std::byte> data = tensor.data();
  if (tensor.dtype() != DataType::kBytes) {
    const size_t row_bytes = data.size() / static_cast<size_t>(rows);
    for (int64_t r = 0; r < rows; ++r) spans.push_back(data.subspan(r * row_bytes, row_bytes));
    return spans;
  }
  const int64_t per_row = elements / rows;
  size_t at = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const size_t start = at;
    for (int64_t e = 0; e < per_row; ++e) {
      if (at + 4 > data.size()) return Internal("a BYTES output is cut short");
      uint32_t length = 0;
      std::memcpy(&length, data.data() + at, 4);
      at += 4 + length;
    }
    if (at > data.size()) return Internal("a BYTES output is cut short");
    spans.push_back(data.subspan(start, at - start));
  }
  return spans;
}

// One row's shape: without the batch dim when the tensor has one (its first dim is `rows`).
Shape RowShape(const Tensor& tensor, int64_t rows) {
  const Shape& shape = tensor.shape();
  if (!shape.empty() && shape[0] == rows) return Shape(shape.begin() + 1, shape.end());
  return shape;
}

class JsonLinesWriter final : public RowWriter {
 public:
  explicit JsonLinesWriter(std::unique_ptr<OutputFile> file) : file_(std::move(file)) {}

  Status WriteRows(const std::vector<Tensor>& outputs, int64_t rows) override {
    std::vector<std::vector<std::span<const std::byte>>> spans;
    for (const Tensor& output : outputs) {
      ASSIGN_OR_RETURN(auto split, RowSpans(output, rows));
      spans.push_back(std::move(split));
    }
    line_.clear();
    for (int64_t r = 0; r < rows; ++r) {
      line_ += '{';
      for (size_t o = 0; o < outputs.size(); ++o) {
        if (o != 0) line_ += ',';
        protocol::AppendJsonString(line_, outputs[o].name());
        line_ += ':';
        Tensor row(outputs[o].name(), outputs[o].dtype(), {});
        row.SetData(spans[o][r], nullptr);
        if (!protocol::AppendTensorJsonData(line_, row)) {
          return InvalidArgument(fmt::format(
              "output '{}' holds bytes that are not UTF-8 text; JSON Lines cannot carry them",
              outputs[o].name()));
        }
      }
      line_ += "}\n";
    }
    return file_->Append(line_);
  }
  Status WriteResponse(std::string_view json) override {
    RETURN_IF_ERROR(file_->Append(json));
    return file_->Append("\n");
  }
  Result<uint64_t> Flush() override { return file_->Flush(); }
  Status Finish() override { return file_->Flush().status(); }

 private:
  std::unique_ptr<OutputFile> file_;
  std::string line_;
};

// A CSV field: quoted when it holds a comma, a quote or a line break.
void AppendCsvField(std::string& out, std::string_view text) {
  if (text.find_first_of(",\"\n\r") == std::string_view::npos) {
    out += text;
    return;
  }
  out += '"';
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

class CsvWriter final : public RowWriter {
 public:
  explicit CsvWriter(std::unique_ptr<OutputFile> file) : file_(std::move(file)) {}

  Status WriteRows(const std::vector<Tensor>& outputs, int64_t rows) override {
    std::vector<std::vector<std::span<const std::byte>>> spans;
    for (const Tensor& output : outputs) {
      ASSIGN_OR_RETURN(auto split, RowSpans(output, rows));
      spans.push_back(std::move(split));
    }
    text_.clear();
    if (file_->size() == 0) AppendHeader(outputs, rows);
    std::string values;
    for (int64_t r = 0; r < rows; ++r) {
      for (size_t o = 0; o < outputs.size(); ++o) {
        if (o != 0) text_ += ',';
        Tensor row(outputs[o].name(), outputs[o].dtype(), {});
        row.SetData(spans[o][r], nullptr);
        if (outputs[o].dtype() == DataType::kBytes) {
          ASSIGN_OR_RETURN(auto elements, SplitBytesElements(row.data()));
          for (size_t e = 0; e < elements.size(); ++e) {
            if (e != 0) text_ += ',';
            AppendCsvField(text_, elements[e]);
          }
          continue;
        }
        values.clear();
        protocol::AppendTensorJsonData(values, row);  // "[a,b,c]": numbers are CSV fields too
        text_.append(values, 1, values.size() - 2);
      }
      text_ += '\n';
    }
    return file_->Append(text_);
  }
  Status WriteResponse(std::string_view /*json*/) override {
    return InvalidArgument("v2 request lines can only be answered into JSON Lines output");
  }
  Result<uint64_t> Flush() override { return file_->Flush(); }
  Status Finish() override { return file_->Flush().status(); }

 private:
  void AppendHeader(const std::vector<Tensor>& outputs, int64_t rows) {
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (o != 0) text_ += ',';
      const int64_t width = outputs[o].element_count() / rows;
      for (int64_t i = 0; i < width; ++i) {
        if (i != 0) text_ += ',';
        AppendCsvField(text_,
                       width == 1 ? outputs[o].name() : fmt::format("{}_{}", outputs[o].name(), i));
      }
    }
    text_ += '\n';
  }

  std::unique_ptr<OutputFile> file_;
  std::string text_;
};

constexpr uint64_t kNpyHeaderBytes = 128;

class NpyWriter final : public RowWriter {
 public:
  explicit NpyWriter(std::unique_ptr<OutputFile> file) : file_(std::move(file)) {}

  // A resumed file: its header (written with the first rows) gives the row layout.
  Status ReadHeader() {
    std::FILE* in = std::fopen(file_->path().c_str(), "rb");
    if (in == nullptr) return FailedPrecondition("cannot reread " + file_->path());
    std::string head(kNpyHeaderBytes, '\0');
    const size_t n = std::fread(head.data(), 1, head.size(), in);
    std::fclose(in);
    head.resize(n);
    ASSIGN_OR_RETURN(NpyHeader header, ParseNpyHeader(head));
    dtype_ = header.dtype;
    row_shape_ = Shape(header.shape.begin() + 1, header.shape.end());
    row_bytes_ = static_cast<size_t>(ElementCount(row_shape_)) * DataTypeByteSize(dtype_);
    return Status::Ok();
  }

  Status WriteRows(const std::vector<Tensor>& outputs, int64_t rows) override {
    if (outputs.size() != 1) {
      return InvalidArgument(fmt::format(
          ".npy output holds one output and the model gives {}; choose one with --outputs",
          outputs.size()));
    }
    const Tensor& output = outputs[0];
    Shape row_shape = RowShape(output, rows);
    if (output.dtype() == DataType::kBytes) {
      return InvalidArgument(fmt::format(
          "output '{}' is BYTES (e.g. --classification); .npy holds numbers only", output.name()));
    }
    dtype_ = output.dtype();
    row_shape_ = row_shape;
    row_bytes_ = output.byte_size() / static_cast<size_t>(rows);
    if (file_->size() == 0) {
      ASSIGN_OR_RETURN(std::string header, NpyHeaderText(dtype_, 0, row_shape_));
      RETURN_IF_ERROR(file_->Append(header));
    }
    return file_->Append(
        std::string_view(reinterpret_cast<const char*>(output.data().data()), output.byte_size()));
  }
  Status WriteResponse(std::string_view /*json*/) override {
    return InvalidArgument("v2 request lines can only be answered into JSON Lines output");
  }
  Result<uint64_t> Flush() override { return file_->Flush(); }
  Status Finish() override {
    ASSIGN_OR_RETURN(uint64_t size, file_->Flush());
    if (size == 0) {
      return FailedPrecondition("no row was scored, so the .npy output has no shape to write");
    }
    const auto rows = static_cast<int64_t>((size - kNpyHeaderBytes) / row_bytes_);
    ASSIGN_OR_RETURN(std::string header, NpyHeaderText(dtype_, rows, row_shape_));
    return file_->WriteAt(0, header);
  }

 private:
  std::unique_ptr<OutputFile> file_;
  DataType dtype_ = DataType::kInvalid;
  Shape row_shape_;
  size_t row_bytes_ = 0;
};

}  // namespace

Result<std::unique_ptr<RowWriter>> OpenRowWriter(const std::string& path, FileFormat format,
                                                 std::optional<uint64_t> resume_bytes) {
  if (format == FileFormat::kNpz) {
    return OpenNpzWriter(path, resume_bytes);
  }
  ASSIGN_OR_RETURN(auto file, OutputFile::Open(path, resume_bytes));
  switch (format) {
    case FileFormat::kCsv:
      return std::unique_ptr<RowWriter>(new CsvWriter(std::move(file)));
    case FileFormat::kNpy: {
      auto writer = std::make_unique<NpyWriter>(std::move(file));
      if (resume_bytes.value_or(0) > 0) RETURN_IF_ERROR(writer->ReadHeader());
      return std::unique_ptr<RowWriter>(std::move(writer));
    }
    default:
      return std::unique_ptr<RowWriter>(new JsonLinesWriter(std::move(file)));
  }
}

}  // namespace inferd::batch
