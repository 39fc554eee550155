// RowWriter: the output side of `inferd predict`: one output row per scored input row, in input
// order, as JSON Lines ({"<output>": [values], ...}), CSV (a header of <output>[_<i>] columns),
// .npy (one output) or .npz (an array per output, npz_writer.h). Writers append to OutputFiles
// so that a resumed run continues them.
// Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/output_file.h"
#include "batch/row_reader.h"

namespace inferd::batch {

class RowWriter {
 public:
  virtual ~RowWriter() = default;
  // Writes rows [0, rows) of `outputs` (each [rows, ...]: the batch dim first; an unbatched
  // model's single row has no batch dim, rows = 1).
  virtual Status WriteRows(const std::vector<Tensor>& outputs, int64_t rows) = 0;
  // A full v2 response for a v2 request line (JSON Lines only).
  virtual Status WriteResponse(std::string_view json) = 0;
  // Bytes written so far, flushed: what a checkpoint records.
  virtual Result<uint64_t> Flush() = 0;
  // After the last row: completes what needs the row count (the .npy header).
  virtual Status Finish() = 0;
  // After the run's checkpoint is removed: deletes working files (the .npz parts), if any.
  virtual void RemoveScratchFiles() {}
};

// resume_bytes: nullopt starts the file afresh; otherwise the writer continues a file that a
// checkpoint says holds that many bytes.
Result<std::unique_ptr<RowWriter>> OpenRowWriter(const std::string& path, FileFormat format,
                                                 std::optional<uint64_t> resume_bytes);

}  // namespace inferd::batch
