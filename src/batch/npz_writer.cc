#include "batch/npz_writer.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "batch/npy_format.h"
#include "batch/zip_writer.h"

namespace inferd::batch {
namespace {

constexpr uint64_t kHeaderBytes = 128;  // NpyHeaderText's fixed size

struct Part {
  std::string name = {};  // the output's
  DataType dtype = DataType::kInvalid;
  Shape row_shape = {};
  uint64_t row_bytes = 0;  // bytes of one row of this output
  std::unique_ptr<OutputFile> file = {};
};

class NpzWriter final : public RowWriter {
 public:
  explicit NpzWriter(std::string path) : path_(std::move(path)) {}

  // Reopens the parts of a killed run at the checkpoint's total `bytes`.
  Status Resume(uint64_t bytes) {
    std::ifstream names(NamesPath());
    std::string name;
    while (std::getline(names, name)) parts_.push_back(Part{.name = name});
    if (parts_.empty()) {
      return FailedPrecondition(
          fmt::format("cannot resume '{}': '{}' is missing or empty", path_, NamesPath()));
    }
    uint64_t row_bytes = 0;
    for (size_t i = 0; i < parts_.size(); ++i) {
      std::FILE* in = std::fopen(PartPath(i).c_str(), "rb");
      if (in == nullptr) return FailedPrecondition("cannot resume: missing " + PartPath(i));
      std::string head(kHeaderBytes, '\0');
      head.resize(std::fread(head.data(), 1, head.size(), in));
      std::fclose(in);
      ASSIGN_OR_RETURN(NpyHeader header, ParseNpyHeader(head));
      parts_[i].dtype = header.dtype;
      parts_[i].row_shape = Shape(header.shape.begin() + 1, header.shape.end());
      parts_[i].row_bytes =
          static_cast<uint64_t>(ElementCount(parts_[i].row_shape)) * DataTypeByteSize(header.dtype);
      row_bytes += parts_[i].row_bytes;
    }
    const uint64_t headers = kHeaderBytes * parts_.size();
    if (bytes < headers || row_bytes == 0 || (bytes - headers) % row_bytes != 0) {
      return FailedPrecondition(fmt::format(
          "cannot resume '{}': its parts do not match the checkpoint ({} bytes)", path_, bytes));
    }
    const uint64_t rows = (bytes - headers) / row_bytes;
    for (size_t i = 0; i < parts_.size(); ++i) {
      ASSIGN_OR_RETURN(parts_[i].file,
                       OutputFile::Open(PartPath(i), kHeaderBytes + rows * parts_[i].row_bytes));
    }
    return Status::Ok();
  }

  Status WriteRows(const std::vector<Tensor>& outputs, int64_t rows) override {
    if (parts_.empty()) RETURN_IF_ERROR(Start(outputs, rows));
    if (outputs.size() != parts_.size()) {
      return Internal(
          fmt::format("{} outputs where the .npz has {}", outputs.size(), parts_.size()));
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor& output = outputs[i];
      if (output.name() != parts_[i].name || output.dtype() != parts_[i].dtype ||
          output.byte_size() != parts_[i].row_bytes * static_cast<uint64_t>(rows)) {
        return InvalidArgument(fmt::format(
            "output '{}' changed its type or row shape between rows; .npz arrays are uniform",
            output.name()));
      }
      RETURN_IF_ERROR(parts_[i].file->Append(std::string_view(
          reinterpret_cast<const char*>(output.data().data()), output.byte_size())));
    }
    return Status::Ok();
  }

  Status WriteResponse(std::string_view /*json*/) override {
    return InvalidArgument("v2 request lines can only be answered into JSON Lines output");
  }

  Result<uint64_t> Flush() override {
    uint64_t total = 0;
    for (Part& part : parts_) {
      ASSIGN_OR_RETURN(uint64_t size, part.file->Flush());
      total += size;
    }
    return total;
  }

  Status Finish() override {
    if (parts_.empty()) {
      return FailedPrecondition("no row was scored, so the .npz output has no shapes to write");
    }
    std::vector<ZipSource> members;
    for (size_t i = 0; i < parts_.size(); ++i) {
      Part& part = parts_[i];
      ASSIGN_OR_RETURN(uint64_t size, part.file->Flush());
      const auto rows = static_cast<int64_t>((size - kHeaderBytes) / part.row_bytes);
      ASSIGN_OR_RETURN(std::string header, NpyHeaderText(part.dtype, rows, part.row_shape));
      RETURN_IF_ERROR(part.file->WriteAt(0, header));
      part.file.reset();
      members.push_back(ZipSource{.name = part.name + ".npy", .path = PartPath(i)});
    }
    // Written beside the output and renamed over it, so a kill here leaves no half archive.
    const std::string temporary = path_ + ".tmp";
    RETURN_IF_ERROR(WriteStoredZip(temporary, members));
    std::error_code error;
    std::filesystem::rename(temporary, path_, error);
    if (error) return Unavailable(fmt::format("cannot write '{}': {}", path_, error.message()));
    return Status::Ok();
  }

  void RemoveScratchFiles() override {
    std::error_code ignored;
    for (size_t i = 0; i < parts_.size(); ++i) std::filesystem::remove(PartPath(i), ignored);
    std::filesystem::remove(NamesPath(), ignored);
  }

 private:
  std::string NamesPath() const { return path_ + ".parts"; }
  std::string PartPath(size_t i) const { return fmt::format("{}.{}.npy.part", path_, i); }

  // The first rows of a fresh run fix the outputs, their types and row shapes.
  Status Start(const std::vector<Tensor>& outputs, int64_t rows) {
    std::string names;
    for (const Tensor& output : outputs) {
      if (output.dtype() == DataType::kBytes) {
        return InvalidArgument(
            fmt::format("output '{}' is BYTES (e.g. --classification); .npz holds numbers only",
                        output.name()));
      }
      if (output.name().find_first_of("/\n") != std::string::npos) {
        return InvalidArgument(
            fmt::format("output '{}' cannot name an .npz member", output.name()));
      }
      names += output.name() + "\n";
    }
    // The names go to disk before any checkpoint counts part bytes: a resume needs them.
    {
      std::ofstream out(NamesPath(), std::ios::trunc);
      out << names;
      out.flush();
      if (!out) return Unavailable(fmt::format("cannot write '{}'", NamesPath()));
    }
    for (size_t i = 0; i < outputs.size(); ++i) {
      const Tensor& output = outputs[i];
      Part part;
      part.name = output.name();
      part.dtype = output.dtype();
      const Shape& shape = output.shape();
      // Without the batch dim when the tensor has one (its first dim is `rows`).
      part.row_shape =
          !shape.empty() && shape[0] == rows ? Shape(shape.begin() + 1, shape.end()) : shape;
      part.row_bytes = output.byte_size() / static_cast<uint64_t>(rows);
      ASSIGN_OR_RETURN(part.file, OutputFile::Open(PartPath(i), std::nullopt));
      ASSIGN_OR_RETURN(std::string header, NpyHeaderText(part.dtype, 0, part.row_shape));
      RETURN_IF_ERROR(part.file->Append(header));
      parts_.push_back(std::move(part));
    }
    return Status::Ok();
  }

  std::string path_;
  std::vector<Part> parts_;
};

}  // namespace

Result<std::unique_ptr<RowWriter>> OpenNpzWriter(const std::string& path,
                                                 std::optional<uint64_t> resume_bytes) {
  auto writer = std::make_unique<NpzWriter>(path);
  if (resume_bytes.value_or(0) > 0) RETURN_IF_ERROR(writer->Resume(*resume_bytes));
  return std::unique_ptr<RowWriter>(std::move(writer));
}

}  // namespace inferd::batch
