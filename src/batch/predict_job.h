// PredictJob: `inferd predict`'s pipeline. Reads rows from the input a block at a time, sends
// each block's rows to a PredictEngine as batched requests (up to the model's max_batch_size
// rows each, a few blocks in flight), writes the answers in input order and the bad rows to an
// error file, and checkpoints after whole blocks so that a killed run resumes (checkpoint.h).
// Memory is bounded by the blocks in flight, whatever the input's size.
// Blocks are also the unit of sharding: shard I of N scores blocks I, I+N, I+2N, ...
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "batch/predict_engine.h"
#include "batch/row_reader.h"

namespace inferd::batch {

struct PredictOptions {
  std::string model = {};
  std::string input = {};
  std::string output = {};
  std::string errors = {};  // the bad-row file (JSON Lines); empty = <output>.errors.jsonl
  ReaderOptions reader = {};
  FileFormat output_format = FileFormat::kJsonLines;
  std::vector<std::string> outputs = {};  // outputs to write, in order; empty = all the model's
  int64_t classification = 0;             // > 0: top-k of each output (the classification ext.)
  int64_t block_rows = 1024;              // rows a block; checkpoints and shards are by block
  int64_t batch_rows = 0;                 // rows a request at most; 0 = the model's max
  int in_flight_blocks = 2;               // blocks sent before the oldest is written
  int shard_index = 0;                    // this run scores blocks shard_index + k * shard_count
  int shard_count = 1;
  bool fail_fast = false;           // stop at the first bad row
  double checkpoint_seconds = 2.0;  // at most this long between checkpoints; 0 = every block
};

struct PredictProgress {
  int64_t rows_ok = 0;      // written to the output, this run and resumed ones
  int64_t rows_failed = 0;  // written to the error file
  int64_t rows_this_run = 0;
  uint64_t position = 0;  // of the reader (bytes or rows), for a share done
  uint64_t end_position = 0;
  double seconds = 0;  // since this run started
};

struct PredictSummary {
  PredictProgress progress;
  bool resumed = false;
  bool stopped_at_bad_row = false;  // --fail-fast stopped the run
};

class PredictJob {
 public:
  using ProgressFn = std::function<void(const PredictProgress&)>;
  // Runs to the end of the input. An error Status means the run could not go on (I/O, the
  // engine down after retries); its checkpoint then stays for the next start.
  static Result<PredictSummary> Run(PredictEngine& engine, const PredictOptions& options,
                                    const ProgressFn& progress);
};

// <output>.checkpoint
std::string CheckpointPath(const PredictOptions& options);

}  // namespace inferd::batch
