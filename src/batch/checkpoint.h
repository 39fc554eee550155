// Checkpoint: how far a `predict` run got, saved next to its output (<output>.checkpoint) after
// whole blocks, so that the same command started again after a crash or kill -9 continues from
// there. The outputs are flushed before the checkpoint that counts their bytes is written, and
// the checkpoint is replaced atomically (write + rename), so it never claims bytes that are not
// in the files; a resumed run truncates the files to the recorded sizes and goes on, which keeps
// the final output byte-identical to an uninterrupted run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace inferd::batch {

struct Checkpoint {
  std::string fingerprint = {};  // the command and input it belongs to (PredictJob's)
  uint64_t input_position = 0;   // RowReader::position() of the next unread row
  int64_t input_line = 0;        // RowReader::line() there
  int64_t next_block = 0;        // the block that row starts
  uint64_t output_bytes = 0;
  uint64_t error_bytes = 0;
  int64_t rows_ok = 0;
  int64_t rows_failed = 0;
};

// nullopt when there is no checkpoint file; INVALID_ARGUMENT when it cannot be read.
Result<std::optional<Checkpoint>> LoadCheckpoint(const std::string& path);
Status SaveCheckpoint(const std::string& path, const Checkpoint& checkpoint);

}  // namespace inferd::batch
