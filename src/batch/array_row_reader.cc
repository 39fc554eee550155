// The array readers: .npy (single-input models) and stored .npz (an array per input, named by
// the input), read a row at a time with pread so that memory stays flat (see row_reader.h).
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "batch/npy_format.h"
#include "batch/text_row_reader.h"

namespace inferd::batch {
namespace {

// One input's array inside the file.
struct ArraySource {
  InputSpec input;
  uint64_t data_offset = 0;  // of element 0 in the file
  size_t row_bytes = 0;
};

class ArrayReader final : public RowReader {
 public:
  ArrayReader(int fd, std::string path, std::vector<ArraySource> arrays, uint64_t rows)
      : fd_(fd), path_(std::move(path)), arrays_(std::move(arrays)), rows_(rows) {}
  ~ArrayReader() override { close(fd_); }

  Result<std::optional<Row>> Next(bool parse) override {
    if (next_ >= rows_) return std::optional<Row>();
    Row row;
    row.line = static_cast<int64_t>(++next_);
    if (!parse) return std::optional<Row>(std::move(row));
    for (const ArraySource& array : arrays_) {
      Tensor tensor(array.input.name, array.input.dtype, array.input.row_shape);
      std::span<std::byte> bytes = tensor.AllocateData(array.row_bytes);
      const auto at = static_cast<off_t>(array.data_offset + (next_ - 1) * array.row_bytes);
      const ssize_t n = pread(fd_, bytes.data(), bytes.size(), at);
      if (n != static_cast<ssize_t>(bytes.size())) {
        return Unavailable(fmt::format("reading '{}': {}", path_,
                                       n < 0 ? std::strerror(errno) : "the file is cut short"));
      }
      row.inputs.push_back(std::move(tensor));
    }
    return std::optional<Row>(std::move(row));
  }
  uint64_t position() const override { return next_; }
  int64_t line() const override { return static_cast<int64_t>(next_); }
  Status Seek(uint64_t position, int64_t /*line*/) override {
    if (position > rows_) return InvalidArgument(fmt::format("'{}' has fewer rows", path_));
    next_ = position;
    return Status::Ok();
  }
  uint64_t end_position() const override { return rows_; }

 private:
  int fd_;
  std::string path_;
  std::vector<ArraySource> arrays_;
  uint64_t rows_;
  uint64_t next_ = 0;
};

// The array at [offset, offset + size) of the open file, checked against `input`.
Result<ArraySource> ReadArray(int fd, const std::string& where, uint64_t offset,
                              const InputSpec& input, const ModelSpec& model, uint64_t* rows) {
  std::string head(4096, '\0');
  const ssize_t n = pread(fd, head.data(), head.size(), static_cast<off_t>(offset));
  if (n <= 0) return InvalidArgument(fmt::format("{}: cannot read the .npy header", where));
  head.resize(static_cast<size_t>(n));
  auto header = ParseNpyHeader(head);
  if (!header.ok()) return header.status().WithContext(where + ": ");
  if (header->dtype != input.dtype) {
    return InvalidArgument(fmt::format("{}: the array is {}, input '{}' is {}", where,
                                       DataTypeName(header->dtype), input.name,
                                       DataTypeName(input.dtype)));
  }
  Shape row_shape(header->shape.begin() + (header->shape.empty() ? 0 : 1), header->shape.end());
  const bool batched = model.max_batch_size > 0;
  if (header->shape.empty() || ElementCount(row_shape) != ElementCount(input.row_shape)) {
    return InvalidArgument(fmt::format("{}: shape {} does not hold rows of input '{}' {}{}", where,
                                       ShapeToString(header->shape), input.name,
                                       ShapeToString(input.row_shape),
                                       batched ? "" : " (the first dim counts the rows)"));
  }
  *rows = static_cast<uint64_t>(header->shape[0]);
  ArraySource array;
  array.input = input;
  array.data_offset = offset + header->data_offset;
  array.row_bytes =
      static_cast<size_t>(ElementCount(input.row_shape)) * DataTypeByteSize(input.dtype);
  return array;
}

}  // namespace

Result<std::unique_ptr<RowReader>> OpenArrayReader(const std::string& path, const ModelSpec& model,
                                                   bool npz) {
  for (const InputSpec& input : model.inputs) {
    if (input.dtype == DataType::kBytes || ElementCount(input.row_shape) < 0) {
      return InvalidArgument(fmt::format(
          "input '{}' ({} {}) cannot come from an array file: fixed-size types and dims only",
          input.name, DataTypeName(input.dtype), ShapeToString(input.row_shape)));
    }
  }
  if (!npz && model.inputs.size() != 1) {
    return InvalidArgument(
        fmt::format(".npy input needs a single-input model; '{}' has {} inputs (use an .npz)",
                    model.name, model.inputs.size()));
  }
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NotFound(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  std::vector<ArraySource> arrays;
  std::optional<uint64_t> rows;
  auto fail = [fd](Status s) {
    close(fd);
    return s;
  };
  std::vector<ZipMember> members;
  if (npz) {
    auto listed = ListStoredZipMembers(path);
    if (!listed.ok()) return fail(listed.status());
    members = std::move(listed).value();
  }
  for (const InputSpec& input : model.inputs) {
    uint64_t offset = 0;
    std::string where = fmt::format("'{}'", path);
    if (npz) {
      auto it = std::find_if(members.begin(), members.end(), [&input](const ZipMember& m) {
        return m.name == input.name + ".npy" || m.name == input.name;
      });
      if (it == members.end()) {
        return fail(InvalidArgument(
            fmt::format("'{}' has no array '{}' for input '{}'", path, input.name, input.name)));
      }
      offset = it->data_offset;
      where = fmt::format("'{}' array '{}'", path, input.name);
    }
    uint64_t count = 0;
    auto array = ReadArray(fd, where, offset, input, model, &count);
    if (!array.ok()) return fail(array.status());
    if (rows && *rows != count) {
      return fail(InvalidArgument(fmt::format(
          "'{}': the arrays have different row counts ({} and {})", path, *rows, count)));
    }
    rows = count;
    arrays.push_back(std::move(array).value());
  }
  return std::unique_ptr<RowReader>(new ArrayReader(fd, path, std::move(arrays), rows.value_or(0)));
}

Result<FileFormat> ResolveFormat(const std::string& flag, const std::string& path) {
  std::string name = flag;
  if (name.empty()) {
    const size_t dot = path.rfind('.');
    name = dot == std::string::npos ? "" : path.substr(dot + 1);
    if (name == "ndjson" || name == "json") name = "jsonl";
  }
  if (name == "jsonl") return FileFormat::kJsonLines;
  if (name == "csv") return FileFormat::kCsv;
  if (name == "npy") return FileFormat::kNpy;
  if (name == "npz") return FileFormat::kNpz;
  return InvalidArgument(
      fmt::format("cannot tell the format of '{}': use .jsonl, .csv, .npy or .npz, or say it with "
                  "--input-format/--output-format",
                  path));
}

Result<std::unique_ptr<RowReader>> OpenRowReader(const std::string& path, const ModelSpec& model,
                                                 const ReaderOptions& options) {
  switch (options.format) {
    case FileFormat::kJsonLines:
      return OpenJsonLinesReader(path, model);
    case FileFormat::kCsv:
      return OpenCsvReader(path, model, options.columns);
    case FileFormat::kNpy:
      return OpenArrayReader(path, model, false);
    case FileFormat::kNpz:
      return OpenArrayReader(path, model, true);
  }
  return InvalidArgument("unknown input format");
}

}  // namespace inferd::batch
