// RowReader: the input side of `inferd predict`. Rows are read one at a time from a file so that
// memory does not grow with the file: JSON Lines (an object of input name -> values, a bare
// array for single-input models, or a full v2 infer request per line), CSV (single-input models,
// columns chosen by name), .npy (single-input) and uncompressed .npz (one array per input).
// A row that cannot be read (wrong width, not a number, wrong type) comes back with `error` set:
// the job records it and goes on. Not thread-safe; PredictJob reads on one thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/predict_engine.h"
#include "core/inference_request.h"

namespace inferd::batch {

enum class FileFormat { kJsonLines, kCsv, kNpy, kNpz };

// From a --input-format/--output-format value ("jsonl", "csv", "npy", "npz") or, when that is
// empty, from the file's extension (.jsonl/.ndjson/.json, .csv, .npy, .npz).
Result<FileFormat> ResolveFormat(const std::string& flag, const std::string& path);

struct Row {
  int64_t line = 0;            // 1-based: the line of a text file, the row of an array file
  std::vector<Tensor> inputs;  // one per model input, shaped as the input's row_shape
  std::optional<InferenceRequest> request;  // a full v2 infer request line (JSON Lines only)
  std::string error;                        // set: the row is bad and carries nothing else
};

struct ReaderOptions {
  FileFormat format = FileFormat::kJsonLines;
  std::vector<std::string> columns =
      {};  // CSV: the columns that make a row, in order; all if empty
};

class RowReader {
 public:
  virtual ~RowReader() = default;
  // The next row, or nullopt at the end. With parse = false the row is only stepped over (rows
  // of another shard) and comes back empty. Errors are for the file itself (I/O, a broken
  // header); a bad row is a Row with `error`.
  virtual Result<std::optional<Row>> Next(bool parse) = 0;
  // Where the next row starts (bytes for text files, rows for arrays): saved in checkpoints.
  virtual uint64_t position() const = 0;
  virtual int64_t line() const = 0;  // the line (row) count read so far
  // Continues from a position() and line() taken earlier from a reader of the same file.
  virtual Status Seek(uint64_t position, int64_t line) = 0;
  virtual uint64_t end_position() const = 0;  // position() at the end, for progress
};

Result<std::unique_ptr<RowReader>> OpenRowReader(const std::string& path, const ModelSpec& model,
                                                 const ReaderOptions& options);

}  // namespace inferd::batch
