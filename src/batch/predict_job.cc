#include "batch/predict_job.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <map>

#include "batch/checkpoint.h"
#include "batch/output_file.h"
#include "batch/row_writer.h"
#include "protocol/json_text.h"
#include "protocol/v2_json_codec.h"

namespace inferd::batch {
namespace {

using Clock = std::chrono::steady_clock;

// One request of a block: consecutive good rows (or one v2 request line) and its answer.
struct Chunk {
  std::vector<size_t> rows;  // indices into Block::rows
  InferenceRequest request;  // kept for v2 lines: their response is encoded against it
  std::future<Result<InferenceResponse>> answer;
};

struct Block {
  int64_t index = 0;
  std::vector<Row> rows;
  std::vector<Chunk> chunks;
  uint64_t end_position = 0;  // the reader after the block's last row
  int64_t end_line = 0;
};

std::string ErrorsPath(const PredictOptions& options) {
  return options.errors.empty() ? options.output + ".errors.jsonl" : options.errors;
}

// What a checkpoint must match to be resumed: the command's options that change the output and
// the input file's identity (size and modification time).
std::string Fingerprint(const PredictOptions& o) {
  struct stat st {};
  stat(o.input.c_str(), &st);
  return fmt::format(
      "model={} input={} size={} mtime={} in={} out={} columns={} outputs={} "
      "classification={} block={} shard={}/{}",
      o.model, std::filesystem::absolute(o.input).string(), st.st_size, st.st_mtim.tv_sec,
      static_cast<int>(o.reader.format), static_cast<int>(o.output_format),
      fmt::join(o.reader.columns, ","), fmt::join(o.outputs, ","), o.classification, o.block_rows,
      o.shard_index, o.shard_count);
}

class Runner {
 public:
  Runner(PredictEngine& engine, const PredictOptions& options, ModelSpec model,
         const PredictJob::ProgressFn& progress)
      : engine_(engine), options_(options), model_(std::move(model)), progress_fn_(progress) {}

  Result<PredictSummary> Run() {
    const std::string checkpoint_path = CheckpointPath(options_);
    ASSIGN_OR_RETURN(std::optional<Checkpoint> checkpoint, LoadCheckpoint(checkpoint_path));
    state_.fingerprint = Fingerprint(options_);
    if (checkpoint && checkpoint->fingerprint != state_.fingerprint) {
      return FailedPrecondition(fmt::format(
          "checkpoint '{}' belongs to another command or input (it says: {}); delete it to "
          "start over",
          checkpoint_path, checkpoint->fingerprint));
    }
    ASSIGN_OR_RETURN(reader_, OpenRowReader(options_.input, model_, options_.reader));
    std::optional<uint64_t> output_bytes, error_bytes;
    if (checkpoint) {
      state_ = *checkpoint;
      summary_.resumed = true;
      output_bytes = checkpoint->output_bytes;
      error_bytes = checkpoint->error_bytes;
      RETURN_IF_ERROR(reader_->Seek(checkpoint->input_position, checkpoint->input_line));
    }
    ASSIGN_OR_RETURN(writer_, OpenRowWriter(options_.output, options_.output_format, output_bytes));
    ASSIGN_OR_RETURN(errors_, OutputFile::Open(ErrorsPath(options_), error_bytes));
    next_block_ = state_.next_block;
    start_ = Clock::now();
    last_checkpoint_ = start_;

    std::deque<Block> pending;
    bool end = false;
    while (true) {
      while (!end && !stop_ && static_cast<int>(pending.size()) < options_.in_flight_blocks) {
        ASSIGN_OR_RETURN(std::optional<Block> block, ReadBlock());
        if (!block) {
          end = true;
          break;
        }
        Submit(*block);
        pending.push_back(std::move(block).value());
      }
      if (pending.empty()) break;
      Block block = std::move(pending.front());
      pending.pop_front();
      RETURN_IF_ERROR(Write(block));
      if (stop_) break;
    }
    // Blocks still in flight after a --fail-fast stop finish before the engine goes away.
    for (Block& block : pending) {
      for (Chunk& chunk : block.chunks) chunk.answer.wait();
    }
    RETURN_IF_ERROR(writer_->Finish());
    ASSIGN_OR_RETURN(uint64_t error_size, errors_->Flush());
    errors_.reset();
    if (error_size == 0) std::filesystem::remove(ErrorsPath(options_));
    std::filesystem::remove(checkpoint_path);
    writer_->RemoveScratchFiles();
    summary_.progress = Progress();
    summary_.stopped_at_bad_row = stop_;
    return summary_;
  }

 private:
  // The next block of this shard, or nullopt at the end of the input. Rows of other shards'
  // blocks are stepped over without parsing.
  Result<std::optional<Block>> ReadBlock() {
    while (true) {
      const int64_t index = next_block_;
      const bool ours = index % options_.shard_count == options_.shard_index;
      Block block;
      block.index = index;
      for (int64_t i = 0; i < options_.block_rows; ++i) {
        ASSIGN_OR_RETURN(std::optional<Row> row, reader_->Next(ours));
        if (!row) break;
        const bool bad = !row->error.empty();
        if (ours) block.rows.push_back(std::move(row).value());
        if (ours && bad && options_.fail_fast) break;  // nothing after it is read
        if (!ours) block.rows.emplace_back();
      }
      if (block.rows.empty()) return std::optional<Block>();
      block.end_position = reader_->position();
      block.end_line = reader_->line();
      ++next_block_;
      if (ours) return std::optional<Block>(std::move(block));
    }
  }

  std::future<Result<InferenceResponse>> Send(InferenceRequest request) {
    auto promise = std::make_shared<std::promise<Result<InferenceResponse>>>();
    auto future = promise->get_future();
    engine_.Infer(std::move(request),
                  [promise](Result<InferenceResponse> r) { promise->set_value(std::move(r)); });
    return future;
  }

  void RequestOutputs(InferenceRequest& request) const {
    if (!request.outputs.empty()) return;  // a v2 line that names its outputs
    const std::vector<std::string>& names =
        options_.outputs.empty() ? model_.outputs : options_.outputs;
    if (options_.outputs.empty() && options_.classification == 0) return;
    for (const std::string& name : names) {
      RequestedOutput output{name, {}};
      if (options_.classification > 0) {
        output.parameters["classification"] = options_.classification;
      }
      request.outputs.push_back(std::move(output));
    }
  }

  // The rows as one batched request (their tensors concatenated along a new batch dim).
  InferenceRequest Batch(const Block& block, const std::vector<size_t>& rows) const {
    InferenceRequest request;
    request.model_name = options_.model;
    const bool batched = model_.max_batch_size > 0;
    for (size_t i = 0; i < model_.inputs.size(); ++i) {
      const InputSpec& input = model_.inputs[i];
      Shape shape = input.row_shape;
      if (batched) shape.insert(shape.begin(), static_cast<int64_t>(rows.size()));
      Tensor tensor(input.name, input.dtype, std::move(shape));
      size_t bytes = 0;
      for (size_t r : rows) bytes += block.rows[r].inputs[i].byte_size();
      std::span<std::byte> data = tensor.AllocateData(bytes);
      size_t at = 0;
      for (size_t r : rows) {
        const Tensor& part = block.rows[r].inputs[i];
        if (part.byte_size() > 0)
          std::memcpy(data.data() + at, part.data().data(), part.byte_size());
        at += part.byte_size();
      }
      request.inputs.push_back(std::move(tensor));
    }
    RequestOutputs(request);
    return request;
  }

  void Submit(Block& block) {
    const auto limit = static_cast<size_t>(
        model_.max_batch_size <= 0 ? 1
        : options_.batch_rows > 0  ? std::min(options_.batch_rows, model_.max_batch_size)
                                   : model_.max_batch_size);
    std::vector<size_t> rows;
    auto flush = [&] {
      if (rows.empty()) return;
      Chunk chunk;
      chunk.rows = std::move(rows);
      rows.clear();
      chunk.answer = Send(Batch(block, chunk.rows));
      block.chunks.push_back(std::move(chunk));
    };
    for (size_t r = 0; r < block.rows.size(); ++r) {
      Row& row = block.rows[r];
      if (!row.error.empty()) continue;
      if (row.request) {
        flush();
        Chunk chunk;
        chunk.rows = {r};
        row.request->model_name = options_.model;
        RequestOutputs(*row.request);
        chunk.request = *row.request;
        chunk.answer = Send(std::move(row.request).value());
        block.chunks.push_back(std::move(chunk));
        continue;
      }
      rows.push_back(r);
      if (rows.size() == limit) flush();
    }
    flush();
  }

  Status WriteError(const Row& row, std::string_view message) {
    std::string line = fmt::format("{{\"line\":{},\"error\":", row.line);
    protocol::AppendJsonString(line, message);
    line += "}\n";
    ++state_.rows_failed;
    if (options_.fail_fast) stop_ = true;
    return errors_->Append(line);
  }

  // The answer's outputs in the order they are written.
  Result<std::vector<Tensor>> Ordered(InferenceResponse& response) const {
    if (options_.outputs.empty()) return std::move(response.outputs);
    std::vector<Tensor> ordered;
    for (const std::string& name : options_.outputs) {
      auto it = std::find_if(response.outputs.begin(), response.outputs.end(),
                             [&name](const Tensor& t) { return t.name() == name; });
      if (it == response.outputs.end()) {
        return Internal(fmt::format("the answer has no output '{}'", name));
      }
      ordered.push_back(std::move(*it));
    }
    return ordered;
  }

  Status WriteAnswer(const Chunk& chunk, const Block& block, InferenceResponse response) {
    const Row& first = block.rows[chunk.rows[0]];
    if (first.request) {
      protocol::EncodedInferResponse encoded =
          protocol::EncodeInferResponse(response, chunk.request);
      if (encoded.header_length) {
        return WriteError(first, "binary outputs cannot be written to JSON Lines");
      }
      ++state_.rows_ok;
      return writer_->WriteResponse(encoded.body);
    }
    ASSIGN_OR_RETURN(std::vector<Tensor> outputs, Ordered(response));
    const auto rows = static_cast<int64_t>(chunk.rows.size());
    RETURN_IF_ERROR(writer_->WriteRows(outputs, rows));
    state_.rows_ok += rows;
    return Status::Ok();
  }

  // Engine errors that a row's data causes go to the error file; others stop the run.
  static bool IsRowError(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }

  Status WriteChunk(Block& block, Chunk& chunk) {
    Result<InferenceResponse> answer = chunk.answer.get();
    if (answer.ok()) return WriteAnswer(chunk, block, std::move(answer).value());
    if (!IsRowError(answer.status())) return answer.status();
    if (chunk.rows.size() == 1)
      return WriteError(block.rows[chunk.rows[0]], answer.status().message());
    // Some row of the batch is bad: score them one by one to tell which.
    for (size_t r : chunk.rows) {
      Chunk single;
      single.rows = {r};
      single.answer = Send(Batch(block, single.rows));
      RETURN_IF_ERROR(WriteChunk(block, single));
      if (stop_) return Status::Ok();
    }
    return Status::Ok();
  }

  Status Write(Block& block) {
    // Rows bad on reading and answers, in row order (each file is in input order).
    size_t chunk = 0;
    for (size_t r = 0; r < block.rows.size() && !stop_; ++r) {
      if (!block.rows[r].error.empty()) {
        RETURN_IF_ERROR(WriteError(block.rows[r], block.rows[r].error));
        continue;
      }
      if (chunk < block.chunks.size() && block.chunks[chunk].rows[0] == r) {
        RETURN_IF_ERROR(WriteChunk(block, block.chunks[chunk]));
        ++chunk;
      }
    }
    rows_this_run_ += static_cast<int64_t>(block.rows.size());
    state_.input_position = block.end_position;
    state_.input_line = block.end_line;
    state_.next_block = block.index + 1;
    const auto now = Clock::now();
    if (!stop_ &&
        now - last_checkpoint_ >= std::chrono::duration<double>(options_.checkpoint_seconds)) {
      ASSIGN_OR_RETURN(state_.output_bytes, writer_->Flush());
      ASSIGN_OR_RETURN(state_.error_bytes, errors_->Flush());
      RETURN_IF_ERROR(SaveCheckpoint(CheckpointPath(options_), state_));
      last_checkpoint_ = now;
    }
    if (progress_fn_) progress_fn_(Progress());
    return Status::Ok();
  }

  PredictProgress Progress() const {
    PredictProgress p;
    p.rows_ok = state_.rows_ok;
    p.rows_failed = state_.rows_failed;
    p.rows_this_run = rows_this_run_;
    p.position = state_.input_position;
    p.end_position = reader_->end_position();
    p.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    return p;
  }

  PredictEngine& engine_;
  const PredictOptions& options_;
  ModelSpec model_;
  const PredictJob::ProgressFn& progress_fn_;
  std::unique_ptr<RowReader> reader_;
  std::unique_ptr<RowWriter> writer_;
  std::unique_ptr<OutputFile> errors_;
  Checkpoint state_;
  int64_t next_block_ = 0;
  int64_t rows_this_run_ = 0;
  bool stop_ = false;
  Clock::time_point start_, last_checkpoint_;
  PredictSummary summary_;
};

}  // namespace

std::string CheckpointPath(const PredictOptions& options) { return options.output + ".checkpoint"; }

Result<PredictSummary> PredictJob::Run(PredictEngine& engine, const PredictOptions& options,
                                       const ProgressFn& progress) {
  if (options.shard_count < 1 || options.shard_index < 0 ||
      options.shard_index >= options.shard_count) {
    return InvalidArgument(fmt::format("--shard {}/{}: want I/N with 0 <= I < N",
                                       options.shard_index, options.shard_count));
  }
  if (options.block_rows < 1) return InvalidArgument("--block-rows must be at least 1");
  ASSIGN_OR_RETURN(ModelSpec model, engine.Describe(options.model));
  for (const std::string& name : options.outputs) {
    if (std::find(model.outputs.begin(), model.outputs.end(), name) == model.outputs.end()) {
      return InvalidArgument(fmt::format("model '{}' has no output '{}' (it has: {})",
                                         options.model, name, fmt::join(model.outputs, ", ")));
    }
  }
  Runner runner(engine, options, std::move(model), progress);
  return runner.Run();
}

}  // namespace inferd::batch
