#include "backends/onnxruntime/onnxruntime_instance.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <string_view>

#include "core/duration.h"

namespace inferd::backends::ort {
namespace {

using ElementType = ONNXTensorElementDataType;

DataType FromOrtType(ElementType t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return DataType::kBool;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8: return DataType::kUint8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16: return DataType::kUint16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32: return DataType::kUint32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64: return DataType::kUint64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8: return DataType::kInt8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16: return DataType::kInt16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return DataType::kInt32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return DataType::kInt64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: return DataType::kFp16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return DataType::kFp32;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return DataType::kFp64;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16: return DataType::kBf16;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return DataType::kBytes;
    default: return DataType::kInvalid;
  }
}

ElementType ToOrtType(DataType t) {
  switch (t) {
    case DataType::kBool: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL;
    case DataType::kUint8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
    case DataType::kUint16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16;
    case DataType::kUint32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32;
    case DataType::kUint64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64;
    case DataType::kInt8: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8;
    case DataType::kInt16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16;
    case DataType::kInt32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
    case DataType::kInt64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
    case DataType::kFp16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
    case DataType::kFp32: return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    case DataType::kFp64: return ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    case DataType::kBf16: return ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16;
    case DataType::kBytes: return ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING;
    case DataType::kInvalid: break;
  }
  return ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
}

}  // namespace

Result<config::TensorSignature> ReadTensorSignature(const std::string& name,
                                                    const Ort::TypeInfo& info) {
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) {
    return InvalidArgument(fmt::format(
        "'{}' is not a tensor (sequences, maps and optionals are not supported)", name));
  }
  auto tensor_info = info.GetTensorTypeAndShapeInfo();
  config::TensorSignature sig;
  sig.name = name;
  sig.dtype = FromOrtType(tensor_info.GetElementType());
  if (sig.dtype == DataType::kInvalid) {
    return InvalidArgument(fmt::format("'{}' has ONNX element type {} which inferd does not serve",
                                       name, static_cast<int>(tensor_info.GetElementType())));
  }
  sig.dims = tensor_info.GetShape();
  for (auto& d : sig.dims) {
    if (d < 0) d = -1;  // symbolic or unknown
  }
  return sig;
}

namespace {

// ORT's INVALID_ARGUMENT (e.g. "Invalid rank for input", "Got invalid dimensions for input"),
// or a node that failed on the shapes it was given ("Attempting to broadcast an axis by a
// dimension other than 1", "The input tensor cannot be reshaped"): with the model unchanged,
// only the request's shapes differ from a run that works.
bool CausedByInputShapes(OrtErrorCode code, std::string_view message) {
  if (code == ORT_INVALID_ARGUMENT) return true;
  if (message.find("while running") == std::string_view::npos) return false;
  for (std::string_view word : {"broadcast", "shape", "dimension", "Invalid rank"}) {
    if (message.find(word) != std::string_view::npos) return true;
  }
  return false;
}

// Whether `shape` fits `declared`: the same rank, and equal in every dim `declared` fixes.
bool Matches(const Shape& shape, const std::vector<int64_t>& declared) {
  if (shape.size() != declared.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (declared[i] >= 0 && declared[i] != shape[i]) return false;
  }
  return true;
}

// Inputs up to this size are copied into a reused OrtValue rather than wrapped in a new one.
constexpr size_t kReusedInputMaxBytes = 4096;

// Answer buffers kept per reused output: answers in flight at once beyond this get new bytes.
constexpr size_t kAnswerBuffers = 4;

// Input shape combinations an instance keeps reused values for (see SelectSlot).
constexpr size_t kSlots = 4;

class OnnxRuntimeInstance final : public ModelInstance {
 public:
  OnnxRuntimeInstance(Ort::Session session, config::ModelSignature signature,
                      const std::string& arena_shrinkage)
      : session_(std::move(session)), signature_(std::move(signature)) {
    if (!arena_shrinkage.empty()) {
      run_options_ = Ort::RunOptions();
      run_options_.AddConfigEntry("memory.enable_memory_arena_shrinkage", arena_shrinkage.c_str());
      binding_run_options_.AddConfigEntry("memory.enable_memory_arena_shrinkage",
                                          arena_shrinkage.c_str());
    }
  }

  const config::ModelSignature& signature() const override { return signature_; }

  Result<std::vector<Tensor>> Execute(std::span<const Tensor> inputs,
                                      std::span<const std::string> output_names,
                                      ExecutionTimings* timings) override {
    try {
      return Run(inputs, output_names, timings);
    } catch (const Ort::Exception& e) {
      slot_->binding = Ort::IoBinding(nullptr);
      const bool had_shaped_outputs = RanOnShapedOutputs();
      slot_->outputs.clear();  // sized by a run that worked; the next run sizes them again
      if (had_shaped_outputs) {
        // An output whose declared shape has symbolic dims was sized by an earlier run on
        // inputs of these shapes; if its shape depends on the inputs' values (NonZero, say),
        // ORT refuses the preallocated value. Run again with ORT sizing every output; if
        // that works, such outputs are never preallocated on this instance again.
        reuse_shaped_outputs_ = false;
        auto retried = Execute(inputs, output_names, timings);
        if (retried.ok()) {
          spdlog::warn("onnxruntime: an output's shape varies with its inputs' values; this "
                       "instance no longer preallocates outputs with symbolic dims ({})",
                       e.what());
        } else {
          reuse_shaped_outputs_ = true;  // the run fails either way: the preallocation was not why
        }
        return retried;
      }
      // The engine refusing the request's inputs (a rank or dim it cannot take, shapes a node
      // cannot combine) is the client's error; anything else is the engine's.
      if (CausedByInputShapes(e.GetOrtErrorCode(), e.what())) {
        return InvalidArgument(fmt::format("onnxruntime: {}", e.what()));
      }
      return Internal(fmt::format("onnxruntime: {}", e.what()));
    } catch (const std::exception& e) {
      return Internal(fmt::format("onnxruntime backend: {}", e.what()));
    }
  }

 private:
  // A small fixed-size input's value, made over the instance's own buffer (see InputValue).
  struct ReusedInput {
    DataType dtype = DataType::kInvalid;
    Shape shape;
    std::vector<uint64_t> buffer;  // the value's bytes (8-byte aligned)
    Ort::Value value{nullptr};     // over `buffer`
    // Whether the value was made for `in`'s dtype and shape (only its bytes need copying).
    bool Holds(const Tensor& in) const {
      return value != nullptr && dtype == in.dtype() && shape == in.shape();
    }
  };
  // A small fixed-size output that ORT writes into the instance's buffer (see ReuseOutput).
  struct ReusedOutput {
    std::string name;  // the output it was sized for
    DataType dtype = DataType::kInvalid;
    Shape shape;
    size_t byte_size = 0;
    std::vector<uint64_t> buffer;  // the value's bytes (8-byte aligned)
    Ort::Value value{nullptr};     // over `buffer`; null: this output is not reused
    bool shaped = false;           // the declared shape has a symbolic dim (see ReuseOutput)
    // Copies handed to answers; one no answer holds any more is refilled (see CopyOut).
    std::vector<std::shared_ptr<std::vector<uint64_t>>> answers;
  };

  // The values reused for one combination of input types and shapes: the inputs' copies, the
  // outputs ORT writes into, and the binding over both.
  struct Slot {
    std::vector<ReusedInput> inputs;    // by input position (see InputValue)
    std::vector<ReusedOutput> outputs;  // by output position (see ReuseOutput)
    // Over inputs' and outputs' values while runs are steady; null otherwise.
    Ort::IoBinding binding{nullptr};
    std::vector<std::string> bound_inputs;  // the input names binding has, in order
    uint64_t last_used = 0;
  };

  // Makes slot_ the slot whose reused inputs have these inputs' types and shapes, or else the
  // one used least recently (whose values are then made again for these shapes). A dynamic
  // batcher's batches come in a few sizes; one slot per size keeps every size's runs steady
  // instead of remaking the values at each change of size.
  void SelectSlot(std::span<const Tensor> inputs) {
    ++runs_;
    Slot* oldest = &slots_[0];
    for (Slot& slot : slots_) {
      if (Fits(slot, inputs)) {
        oldest = &slot;
        break;
      }
      if (slot.last_used < oldest->last_used) oldest = &slot;
    }
    slot_ = oldest;
    slot_->last_used = runs_;
  }
  static bool Fits(const Slot& slot, std::span<const Tensor> inputs) {
    if (inputs.empty() || slot.inputs.size() != inputs.size()) return false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!slot.inputs[i].Holds(inputs[i])) return false;
    }
    return true;
  }

  Result<std::vector<Tensor>> Run(std::span<const Tensor> inputs,
                                  std::span<const std::string> output_names,
                                  ExecutionTimings* timings) {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    SelectSlot(inputs);
    scratch_.clear();
    // The per-call arrays live in the instance (one Execute at a time) and keep their capacity,
    // so a run allocates none of its own.
    made_values_.clear();
    input_values_.clear();
    input_names_.clear();
    inputs_reused_ = inputs_unchanged_ = true;
    for (size_t i = 0; i < inputs.size(); ++i) {
      input_names_.push_back(inputs[i].name().c_str());
      ASSIGN_OR_RETURN(const OrtValue* v, InputValue(inputs[i], i));
      input_values_.push_back(v);
    }
    output_names_.clear();
    for (const auto& n : output_names) output_names_.push_back(n.c_str());
    // A null output is allocated by ORT; a reused output's value asks ORT to write into it.
    const bool steady = inputs_unchanged_ && ReusedOutputsFit(output_names);
    if (!steady) slot_->outputs.clear();
    output_values_.clear();
    for (size_t i = 0; i < output_names.size(); ++i) {
      output_values_.push_back(steady ? static_cast<OrtValue*>(slot_->outputs[i].value)
                                      : nullptr);
    }

    const bool bound = steady && Bindable();
    if (!bound) slot_->binding = Ort::IoBinding(nullptr);
    const auto t1 = Clock::now();
    if (bound) {
      if (slot_->binding == nullptr) Bind();
      Ort::ThrowOnError(
          Ort::GetApi().RunWithBinding(session_, binding_run_options_, slot_->binding));
    } else {
      Ort::ThrowOnError(Ort::GetApi().Run(session_, run_options_, input_names_.data(),
                                          input_values_.data(), input_values_.size(),
                                          output_names_.data(), output_values_.size(),
                                          output_values_.data()));
    }
    const auto t2 = Clock::now();
    made_values_.clear();  // they may borrow the request's bytes: drop them with the call
    // Owns what ORT allocated (null where it wrote into a reused output).
    results_.clear();
    for (size_t i = 0; i < output_values_.size(); ++i) {
      const bool reused = steady && slot_->outputs[i].value != nullptr;
      results_.emplace_back(reused ? nullptr : output_values_[i]);
    }
    std::vector<Tensor> outputs;
    outputs.reserve(results_.size());
    for (size_t i = 0; i < results_.size(); ++i) {
      if (results_[i] == nullptr) {
        outputs.push_back(CopyOut(slot_->outputs[i]));
        continue;
      }
      if (!steady && inputs_reused_) ReuseOutput(i, output_names[i], results_[i]);
      ASSIGN_OR_RETURN(Tensor t, FromOrtValue(output_names[i], std::move(results_[i]), inputs));
      outputs.push_back(std::move(t));
    }
    if (timings) {
      timings->input_ns = ToNanos(t1 - t0);
      timings->infer_ns = ToNanos(t2 - t1);
      timings->output_ns = ToNanos(Clock::now() - t2);
    }
    return outputs;
  }

  // The value ORT reads input `index` from. A small fixed-size input is copied into the
  // instance's reused value for that position (made again only when the dtype or shape
  // changes), so a steady stream of same-shaped requests makes no OrtValue: making one costs
  // three allocations inside ORT, more than copying a few KiB. Larger inputs are borrowed.
  Result<const OrtValue*> InputValue(const Tensor& in, size_t index) {
    if (in.dtype() != DataType::kBytes && in.byte_size() > 0 &&
        in.byte_size() <= kReusedInputMaxBytes) {
      if (slot_->inputs.size() <= index) slot_->inputs.resize(index + 1);
      ReusedInput& reused = slot_->inputs[index];
      if (!reused.Holds(in)) {
        inputs_unchanged_ = false;
        reused.value = Ort::Value(nullptr);
        reused.dtype = in.dtype();
        reused.shape = in.shape();
        reused.buffer.assign((in.byte_size() + 7) / 8, 0);
        reused.value = Ort::Value::CreateTensor(memory_info_, reused.buffer.data(),
                                                in.byte_size(), reused.shape.data(),
                                                reused.shape.size(), ToOrtType(in.dtype()));
      }
      std::memcpy(reused.buffer.data(), in.data().data(), in.byte_size());
      return static_cast<const OrtValue*>(reused.value);
    }
    inputs_reused_ = inputs_unchanged_ = false;
    ASSIGN_OR_RETURN(Ort::Value v, ToOrtValue(in));
    made_values_.push_back(std::move(v));
    return static_cast<const OrtValue*>(made_values_.back());
  }

  // A steady run (see Run) whose outputs all have reused values and whose inputs come in the
  // order the binding has: it runs through the slot's binding, which ORT keeps its feeds and
  // fetches in (RunWithBinding: one allocation fewer per run than Run builds).
  bool Bindable() const {
    for (const OrtValue* out : output_values_) {
      if (out == nullptr) return false;
    }
    if (slot_->binding == nullptr) return true;
    if (slot_->bound_inputs.size() != input_names_.size()) return false;
    for (size_t i = 0; i < input_names_.size(); ++i) {
      if (slot_->bound_inputs[i] != input_names_[i]) return false;
    }
    return true;
  }
  void Bind() {
    slot_->binding = Ort::IoBinding(session_);
    slot_->bound_inputs.assign(input_names_.begin(), input_names_.end());
    for (size_t i = 0; i < input_names_.size(); ++i) {
      slot_->binding.BindInput(input_names_[i], slot_->inputs[i].value);
    }
    for (size_t i = 0; i < output_names_.size(); ++i) {
      slot_->binding.BindOutput(output_names_[i], slot_->outputs[i].value);
    }
  }

  // Whether slot_->outputs were sized for exactly these outputs (by a run on inputs of the
  // shapes this run has: the caller checks that no reused input changed).
  bool ReusedOutputsFit(std::span<const std::string> output_names) const {
    if (slot_->outputs.size() != output_names.size()) return false;
    for (size_t i = 0; i < output_names.size(); ++i) {
      if (slot_->outputs[i].name != output_names[i]) return false;
    }
    return true;
  }

  // Whether this run (steady: see Run) had ORT write into a preallocated output whose
  // declared shape has a symbolic dim.
  bool RanOnShapedOutputs() const {
    if (output_values_.size() != slot_->outputs.size()) return false;
    for (size_t i = 0; i < slot_->outputs.size(); ++i) {
      if (slot_->outputs[i].shaped && output_values_[i] == slot_->outputs[i].value) {
        return true;
      }
    }
    return false;
  }

  // After a run whose inputs all went to reused values: keeps a preallocated value for output
  // `index` shaped as `produced`, so the next run on inputs of the same shapes has ORT write
  // there instead of making an output (5 allocations inside ORT). Only small outputs that are
  // not graph inputs passed through. An output with symbolic dims (a batch dim, above all)
  // is preallocated too: its shape follows the inputs' shapes in all but a few models, and a
  // run where it does not fails against the preallocated value and is run again (Execute).
  void ReuseOutput(size_t index, const std::string& name, const Ort::Value& produced) {
    if (slot_->outputs.size() <= index) slot_->outputs.resize(index + 1);
    ReusedOutput& reused = slot_->outputs[index];
    reused.name = name;
    reused.value = Ort::Value(nullptr);
    const auto declared = std::find_if(signature_.outputs.begin(), signature_.outputs.end(),
                                       [&](const auto& o) { return o.name == name; });
    if (declared == signature_.outputs.end()) return;
    const bool shaped = std::any_of(declared->dims.begin(), declared->dims.end(),
                                    [](int64_t d) { return d < 0; });
    if (shaped && !reuse_shaped_outputs_) return;
    // A graph input that is also a graph output: ORT hands the input's value back in place of
    // a preallocated one instead of writing into it.
    if (std::any_of(signature_.inputs.begin(), signature_.inputs.end(),
                    [&](const auto& in) { return in.name == name; })) {
      return;
    }
    auto info = produced.GetTensorTypeAndShapeInfo();
    const DataType dtype = FromOrtType(info.GetElementType());
    Shape shape = info.GetShape();
    const int64_t count = ElementCount(shape);
    if (dtype == DataType::kBytes || dtype == DataType::kInvalid || count <= 0 ||
        !Matches(shape, declared->dims)) {
      return;
    }
    const size_t byte_size = static_cast<size_t>(count) * DataTypeByteSize(dtype);
    if (byte_size > kReusedInputMaxBytes) return;
    reused.shaped = shaped;
    reused.dtype = dtype;
    reused.shape = std::move(shape);
    reused.byte_size = byte_size;
    reused.buffer.assign((byte_size + 7) / 8, 0);
    reused.value = Ort::Value::CreateTensor(memory_info_, reused.buffer.data(), byte_size,
                                            reused.shape.data(), reused.shape.size(),
                                            ToOrtType(dtype));
  }

  // The answer's tensor for a reused output: a copy, since the next run overwrites it. The
  // copy goes into one of the output's answer buffers that no earlier answer still holds (the
  // acquire fence pairs with the release by which another thread dropped it), so a steady
  // stream of requests allocates none; with all kAnswerBuffers held, into new bytes.
  static Tensor CopyOut(ReusedOutput& reused) {
    Tensor out(reused.name, reused.dtype, reused.shape);
    std::shared_ptr<std::vector<uint64_t>> answer;
    for (const auto& a : reused.answers) {
      if (a.use_count() == 1) {
        std::atomic_thread_fence(std::memory_order_acquire);
        answer = a;
        break;
      }
    }
    if (answer == nullptr && reused.answers.size() < kAnswerBuffers) {
      answer = reused.answers.emplace_back(
          std::make_shared<std::vector<uint64_t>>(reused.buffer.size()));
    }
    if (answer == nullptr) {
      std::memcpy(out.AllocateData(reused.byte_size).data(), reused.buffer.data(),
                  reused.byte_size);
      return out;
    }
    std::memcpy(answer->data(), reused.buffer.data(), reused.byte_size);
    const auto* bytes = reinterpret_cast<const std::byte*>(answer->data());
    out.SetData({bytes, reused.byte_size}, std::move(answer));
    return out;
  }

  // Whether `data` lies in an input's memory: ORT hands a graph input that is also a graph
  // output back as the output itself, over the input's bytes — a reused input's buffer (the
  // next call overwrites it), an aligned scratch copy (freed with the call) or the request's
  // own bytes (which the output would not keep alive).
  bool InInputMemory(const std::byte* data, std::span<const Tensor> inputs) const {
    const auto within = [data](const void* begin, size_t size) {
      const auto* first = static_cast<const std::byte*>(begin);
      return data >= first && data < first + size;
    };
    for (const ReusedInput& r : slot_->inputs) {
      if (within(r.buffer.data(), r.buffer.size() * sizeof(uint64_t))) return true;
    }
    for (const auto& scratch : scratch_) {
      if (within(scratch.data(), scratch.size() * sizeof(uint64_t))) return true;
    }
    for (const Tensor& in : inputs) {
      if (within(in.data().data(), in.byte_size())) return true;
    }
    return false;
  }

  Result<Ort::Value> ToOrtValue(const Tensor& in) {
    const Shape& shape = in.shape();
    if (in.dtype() == DataType::kBytes) {
      ASSIGN_OR_RETURN(auto elements, SplitBytesElements(in.data()));
      auto value = Ort::Value::CreateTensor(allocator_, shape.data(), shape.size(),
                                            ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING);
      for (size_t i = 0; i < elements.size(); ++i) {
        // Sized buffers keep embedded NULs, which FillStringTensor (C strings) would cut.
        char* dst = value.GetResizedStringTensorElementBuffer(i, elements[i].size());
        if (!elements[i].empty()) std::memcpy(dst, elements[i].data(), elements[i].size());
      }
      return value;
    }
    // ORT only reads inputs, so it gets the borrowed bytes without a copy — unless they are
    // misaligned for their element type (binary request data starts wherever the JSON header
    // ends); those are copied into an aligned scratch buffer first.
    auto* data = const_cast<std::byte*>(in.data().data());
    const size_t align = std::max<size_t>(1, DataTypeByteSize(in.dtype()));
    if (reinterpret_cast<uintptr_t>(data) % align != 0) {
      auto& scratch = scratch_.emplace_back((in.byte_size() + 7) / 8);
      std::memcpy(scratch.data(), data, in.byte_size());
      data = reinterpret_cast<std::byte*>(scratch.data());
    }
    return Ort::Value::CreateTensor(memory_info_, data, in.byte_size(), shape.data(),
                                    shape.size(), ToOrtType(in.dtype()));
  }

  Result<Tensor> FromOrtValue(const std::string& name, Ort::Value value,
                              std::span<const Tensor> inputs) {
#if ORT_API_VERSION >= 24
    // A view of the value's own type and shape (ORT 1.24+): GetTensorTypeAndShapeInfo would
    // allocate an info object and a shape array per output.
    ONNXTensorElementDataType element_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
    Ort::Value::Shape dims{};
    value.GetTensorElementTypeAndShapeDataReference(element_type, dims);
    Shape shape(dims.shape, dims.shape + dims.shape_len);
    const size_t count = static_cast<size_t>(ElementCount(shape));
#else
    auto info = value.GetTensorTypeAndShapeInfo();
    const ONNXTensorElementDataType element_type = info.GetElementType();
    Shape shape = info.GetShape();
    const size_t count = info.GetElementCount();
#endif
    Tensor out(name, FromOrtType(element_type), std::move(shape));
    if (out.dtype() == DataType::kInvalid) {
      return Internal(fmt::format("output '{}' has an ONNX element type inferd does not serve",
                                  name));
    }
    if (out.dtype() == DataType::kBytes) {
      std::vector<std::byte> bytes;
      bytes.reserve(value.GetStringTensorDataLength() + 4 * count);
      std::string element;
      for (size_t i = 0; i < count; ++i) {
        element.resize(value.GetStringTensorElementLength(i));
        if (!element.empty()) value.GetStringTensorElement(element.size(), i, element.data());
        AppendBytesElement(bytes, element);
      }
      out.SetData(std::move(bytes));
      return out;
    }
    const auto* data = static_cast<const std::byte*>(value.GetTensorRawData());
    const size_t byte_size = count * DataTypeByteSize(out.dtype());
    if (byte_size > 0 && InInputMemory(data, inputs)) {  // an input passed through: copy it
      std::memcpy(out.AllocateData(byte_size).data(), data, byte_size);
      return out;
    }
    // Zero copy: the tensor borrows ORT's output buffer and keeps the OrtValue alive.
    out.SetData({data, byte_size}, std::make_shared<Ort::Value>(std::move(value)));
    return out;
  }

  Ort::Session session_;
  config::ModelSignature signature_;
  // Aligned copies of misaligned inputs, alive for one Execute call.
  std::vector<std::vector<uint64_t>> scratch_;
  // One Execute call's arguments to Session::Run, reused (capacity kept) across calls.
  std::vector<const char*> input_names_;
  std::vector<const OrtValue*> input_values_;  // slot_->inputs' or made_values_' values
  std::vector<Ort::Value> made_values_;         // values made for this call only
  std::vector<const char*> output_names_;
  std::vector<OrtValue*> output_values_;  // null: ORT allocates; else a reused output's value
  std::vector<Ort::Value> results_;       // this run's outputs that ORT allocated
  bool inputs_reused_ = false;     // this run's inputs all went to reused values
  bool inputs_unchanged_ = false;  // ... none of which was made again (same shapes as before)
  // Outputs with symbolic dims are preallocated too (see ReuseOutput); off once one of this
  // model's output shapes turned out to depend on input values.
  bool reuse_shaped_outputs_ = true;
  Ort::RunOptions run_options_{nullptr};
  // Reused values for the last few input shapes (see SelectSlot); slot_ is this run's.
  std::array<Slot, kSlots> slots_;
  Slot* slot_ = &slots_[0];
  uint64_t runs_ = 0;  // Execute calls so far: the slots' recency
  Ort::RunOptions binding_run_options_;    // RunWithBinding needs one (run_options_ may be null)
  Ort::AllocatorWithDefaultOptions allocator_;
  Ort::MemoryInfo memory_info_ =
      Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
};

}  // namespace

std::unique_ptr<ModelInstance> MakeInstance(Ort::Session session,
                                            config::ModelSignature signature,
                                            const std::string& arena_shrinkage) {
  return std::make_unique<OnnxRuntimeInstance>(std::move(session), std::move(signature),
                                               arena_shrinkage);
}

}  // namespace inferd::backends::ort
