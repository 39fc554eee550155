#include "scheduling/batch_executor.h"

#include <absl/container/inlined_vector.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/duration.h"

namespace inferd::scheduling {
namespace {

const Tensor* FindInput(const InferencePayload& p, const std::string& name) {
  for (const auto& t : p.request.inputs) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

void Fail(InferencePayload& p, const Status& s) {
  if (p.stats) {
    p.stats->RecordFailure(NanosSince(p.enqueue_time), metrics::FailureReason::kBackend);
  }
  p.done(s);
}

}  // namespace

Result<Tensor> ConcatenateInput(std::span<const std::unique_ptr<InferencePayload>> batch,
                                const Tensor& first) {
  size_t bytes = 0;
  int64_t rows = 0;
  std::vector<const Tensor*> parts;
  parts.reserve(batch.size());
  for (const auto& p : batch) {
    const Tensor* t = FindInput(*p, first.name());
    if (t == nullptr || t->dtype() != first.dtype() || t->shape().empty() ||
        t->shape().size() != first.shape().size()) {
      return Internal(fmt::format("input '{}' differs across a batch", first.name()));
    }
    parts.push_back(t);
    bytes += t->byte_size();
    rows += t->shape()[0];
  }
  Shape shape = first.shape();
  shape[0] = rows;
  Tensor joined(first.name(), first.dtype(), std::move(shape));
  // Row-major data of equal non-batch dims (and length-prefixed BYTES elements) concatenate
  // by appending bytes.
  std::byte* dst = joined.AllocateData(bytes).data();
  for (const Tensor* t : parts) {
    if (t->byte_size() > 0) std::memcpy(dst, t->data().data(), t->byte_size());
    dst += t->byte_size();
  }
  return joined;
}

Result<std::vector<Tensor>> ConcatenateInputs(
    std::span<const std::unique_ptr<InferencePayload>> batch) {
  const InferencePayload& head = *batch.front();
  std::vector<Tensor> out;
  out.reserve(head.request.inputs.size());
  for (const Tensor& first : head.request.inputs) {
    ASSIGN_OR_RETURN(Tensor joined, ConcatenateInput(batch, first));
    out.push_back(std::move(joined));
  }
  return out;
}

Result<std::vector<Tensor>> SplitOutput(const Tensor& output, std::span<const int64_t> rows) {
  int64_t total_rows = 0;
  for (int64_t r : rows) total_rows += r;
  if (output.shape().empty() || output.shape()[0] != total_rows) {
    return Internal(fmt::format("output '{}' has shape {}; a batch of {} rows needs dim 0 = {}",
                                output.name(), ShapeToString(output.shape()), total_rows,
                                total_rows));
  }
  const int64_t elements = output.element_count();
  const int64_t per_row = total_rows > 0 ? elements / total_rows : 0;
  std::vector<Tensor> parts;
  parts.reserve(rows.size());
  // Slices borrow the batched buffer; a shared owner keeps it alive for every slice.
  auto owner = std::make_shared<Tensor>(output);
  std::vector<std::string_view> elements_view;
  if (output.dtype() == DataType::kBytes) {
    ASSIGN_OR_RETURN(elements_view, SplitBytesElements(output.data()));
  }
  size_t byte_offset = 0;
  int64_t element_offset = 0;
  const size_t element_size = DataTypeByteSize(output.dtype());
  for (int64_t r : rows) {
    Shape shape = output.shape();
    shape[0] = r;
    Tensor part(output.name(), output.dtype(), std::move(shape));
    const int64_t count = r * per_row;
    size_t length = 0;
    if (output.dtype() == DataType::kBytes) {
      for (int64_t i = 0; i < count; ++i) length += 4 + elements_view[element_offset + i].size();
    } else {
      length = static_cast<size_t>(count) * element_size;
    }
    part.SetData(output.data().subspan(byte_offset, length), owner);
    byte_offset += length;
    element_offset += count;
    parts.push_back(std::move(part));
  }
  return parts;
}

namespace {

// Each request's outputs, in the order of the batch; inline for a lone request.
using PerRequestOutputs = absl::InlinedVector<std::vector<Tensor>, 1>;

// Cuts every output of a batch's execution into the requests' slices (`rows` per request),
// trimmed back to each request's length when the batch was padded.
Status SplitPerRequest(const std::vector<Tensor>& outputs, std::span<const int64_t> rows,
                       std::span<std::unique_ptr<InferencePayload>> batch,
                       const PaddingSpec* padding, int64_t padded_length,
                       PerRequestOutputs& per_request) {
  for (const Tensor& out : outputs) {
    ASSIGN_OR_RETURN(auto parts, SplitOutput(out, rows));
    const PaddingSpec::Output* padded =
        padding != nullptr ? padding->FindOutput(out.name()) : nullptr;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (padded == nullptr) {
        per_request[i].push_back(std::move(parts[i]));
        continue;
      }
      ASSIGN_OR_RETURN(Tensor trimmed,
                       TrimToLength(parts[i], padded->axis, padded_length, batch[i]->length));
      per_request[i].push_back(std::move(trimmed));
    }
  }
  return Status::Ok();
}

// Answers `p` with its outputs.
void Deliver(InferencePayload& p, std::vector<Tensor> outputs) {
  InferenceResponse response;
  response.model_name = p.request.model_name;
  response.model_version = p.model_version;
  response.id = p.request.id;
  response.outputs = std::move(outputs);
  p.done(std::move(response));
}

}  // namespace

BatchOutcome ExecuteBatch(backends::ModelInstance& instance,
                          std::span<std::unique_ptr<InferencePayload>> batch,
                          absl::FunctionRef<void(const BatchOutcome&)> executed,
                          const PaddingSpec* padding) {
  BatchOutcome outcome;
  const auto start = SteadyClock::now();
  // Inline capacity for a lone request and small batches, so that the unbatched path (one
  // request per execution) allocates neither this nor `per_request` below.
  absl::InlinedVector<int64_t, 8> rows;
  rows.reserve(batch.size());
  for (const auto& p : batch) {
    rows.push_back(p->batch_size);
    outcome.rows += p->batch_size;
  }

  std::vector<Tensor> joined;
  std::span<const Tensor> inputs = batch.front()->request.inputs;
  // Padded batching: every request of the batch is padded to its bucket (BatchCompatible).
  const int64_t padded_length =
      padding != nullptr ? PaddedLength(*padding, batch.front()->length) : 0;
  if (batch.size() > 1 || padding != nullptr) {
    auto concatenated = padding != nullptr
                            ? PadAndConcatenateInputs(*padding, batch, padded_length)
                            : ConcatenateInputs(batch);
    if (!concatenated.ok()) {
      executed(outcome);
      for (auto& p : batch) Fail(*p, concatenated.status());
      return outcome;
    }
    joined = std::move(concatenated).value();
    inputs = joined;
  }
  const auto concat_done = SteadyClock::now();

  backends::ExecutionContext context;
  context.traceparent = batch.front()->request.traceparent;
  for (const auto& p : batch) context.deadline = std::min(context.deadline, p->request.deadline);
  backends::ExecutionTimings timings;
  const auto& output_names = batch.front()->output_names;
  auto outputs = instance.ExecuteWithContext(inputs, output_names, context, &timings);
  const auto executed_at = SteadyClock::now();
  outcome.engine_time = executed_at - concat_done;
  executed(outcome);
  // One execution, however many requests (all of one model version, sharing its stats):
  // counts it and fills batch_stats.
  if (metrics::InferenceStats* stats = batch.front()->stats) {
    stats->RecordBatch(static_cast<uint64_t>(outcome.rows),
                       ToNanos(concat_done - start) + timings.input_ns, timings.infer_ns,
                       timings.output_ns);
  }
  if (!outputs.ok()) {
    for (auto& p : batch) Fail(*p, outputs.status());
    return outcome;
  }

  PerRequestOutputs per_request(batch.size());
  if (batch.size() == 1 && padding == nullptr) {
    per_request[0] = std::move(outputs).value();
  } else if (Status split = SplitPerRequest(*outputs, rows, batch, padding, padded_length,
                                            per_request);
             !split.ok()) {
    for (auto& p : batch) Fail(*p, split);
    return outcome;
  }
  const auto split_done = SteadyClock::now();

  for (size_t i = 0; i < batch.size(); ++i) {
    InferencePayload& p = *batch[i];
    if (p.stats) {
      metrics::RequestTimings t;
      t.queue_ns = ToNanos(start - p.enqueue_time);
      t.compute_input_ns = ToNanos(concat_done - start) + timings.input_ns;
      t.compute_infer_ns = timings.infer_ns;
      t.compute_output_ns = timings.output_ns + ToNanos(split_done - executed_at);
      t.total_ns = NanosSince(p.enqueue_time);
      p.stats->RecordSuccess(t, static_cast<uint64_t>(p.batch_size));
    }
    Deliver(p, std::move(per_request[i]));
  }
  return outcome;
}

}  // namespace inferd::scheduling
