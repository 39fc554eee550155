#include "optimize/optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "optimize/distill.h"
#include "optimize/eval_set.h"
#include "optimize/float16.h"
#include "optimize/onnx_model.h"
#include "optimize/ort_evaluator.h"
#include "optimize/pruning.h"
#include "optimize/quantize_int8.h"

namespace inferd::optimize {
namespace {

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find(sep, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

// One step applied to `model`; `evaluator` and `set` serve the steps that run the model.
Result<TransformResult> ApplyStep(const TransformStep& step, onnx::ModelProto model,
                                  OrtEvaluator& evaluator, const EvalSet& set,
                                  const EvalSet* train) {
  if (step.kind == "graph" || step.kind == "graph-extended") {
    const GraphLevel level = step.kind == "graph" ? GraphLevel::kBasic : GraphLevel::kExtended;
    const int before = model.graph().node_size();
    ASSIGN_OR_RETURN(std::string bytes, evaluator.OptimizeGraph(model.SerializeAsString(), level));
    ASSIGN_OR_RETURN(onnx::ModelProto optimized, ParseOnnxModel(bytes, "ORT's optimized graph"));
    const int after = optimized.graph().node_size();
    return TransformResult{
        std::move(optimized),
        fmt::format("ORT {} level: {} -> {} nodes",
                    level == GraphLevel::kBasic ? "basic" : "extended", before, after)};
  }
  if (step.kind == "int8") return QuantizeDynamicInt8(std::move(model));
  if (step.kind == "fp16") return ConvertToFloat16(std::move(model));
  if (step.kind == "prune") {
    return MagnitudePrune(std::move(model), step.parameter > 0 ? step.parameter : 0.5);
  }
  if (step.kind == "structured") {
    return StructuredPrune(std::move(model), step.parameter > 0 ? step.parameter : 0.25);
  }
  if (step.kind == "distill") {
    DistillOptions options;
    options.train_inputs = train;
    if (step.parameter > 0) options.hidden_units = static_cast<int64_t>(step.parameter);
    return Distill(model, evaluator, set, options);
  }
  return InvalidArgument(fmt::format("unknown transform '{}'", step.kind));
}

int64_t Argmax(const float* row, int64_t width) { return std::max_element(row, row + width) - row; }

// Fills the accuracy columns of `c` from its outputs and the original's.
void Score(CandidateReport& c, const OrtEvaluator::Outputs& out,
           const OrtEvaluator::Outputs& reference, const EvalSet& set,
           const CandidateReport& original) {
  int64_t agree = 0, correct = 0;
  double sum = 0, max = 0;
  for (int64_t s = 0; s < set.count; ++s) {
    const float* a = out.values.data() + s * out.width;
    const float* b = reference.values.data() + s * reference.width;
    const int64_t top = Argmax(a, out.width);
    agree += top == Argmax(b, reference.width);
    if (!set.labels.empty()) correct += top == set.labels[s];
    for (int64_t i = 0; i < out.width; ++i) {
      const double d = std::fabs(double(a[i]) - double(b[i]));
      sum += d;
      max = std::max(max, d);
    }
  }
  c.agreement = double(agree) / double(set.count);
  c.max_abs_diff = max;
  c.mean_abs_diff = sum / double(set.count * out.width);
  if (!set.labels.empty()) {
    c.accuracy = double(correct) / double(set.count);
    c.accuracy_drop = original.accuracy.value_or(0) - *c.accuracy;
  } else {
    c.accuracy_drop = 1 - c.agreement;
  }
}

}  // namespace

Result<std::vector<Candidate>> ParseCandidates(const std::string& text) {
  static const char* const kKinds[] = {"graph", "graph-extended", "int8",   "fp16",
                                       "prune", "structured",     "distill"};
  std::vector<Candidate> candidates;
  for (const std::string& name : Split(text, ',')) {
    if (name.empty()) return InvalidArgument(fmt::format("empty transform in '{}'", text));
    Candidate c{name, {}};
    for (const std::string& step_text : Split(name, '+')) {
      TransformStep step;
      const size_t colon = step_text.find(':');
      step.kind = step_text.substr(0, colon);
      if (std::none_of(std::begin(kKinds), std::end(kKinds),
                       [&](const char* k) { return step.kind == k; })) {
        return InvalidArgument(fmt::format(
            "unknown transform '{}' (graph, graph-extended, int8, fp16, prune[:sparsity], "
            "structured[:fraction], distill[:hidden])",
            step.kind));
      }
      if (colon != std::string::npos) {
        try {
          size_t used = 0;
          step.parameter = std::stod(step_text.substr(colon + 1), &used);
          if (used != step_text.size() - colon - 1 || !(step.parameter > 0)) throw 0;
        } catch (...) {
          return InvalidArgument(fmt::format("transform '{}': '{}' is not a positive number",
                                             step.kind, step_text.substr(colon + 1)));
        }
      }
      c.steps.push_back(step);
    }
    candidates.push_back(std::move(c));
  }
  return candidates;
}

namespace {

// Applies `c`'s steps to the original model, then loads the result and scores it against the
// original's outputs (`reference`, `baseline`) into `row` (bytes, accuracy, note). Returns the
// session to time, or why the candidate failed.
Result<std::shared_ptr<OrtEvaluator::Session>> TryCandidate(
    const Candidate& c, const onnx::ModelProto& original, OrtEvaluator& evaluator,
    const EvalSet& set, const EvalSet* train, int64_t batch,
    const OrtEvaluator::Outputs& reference, const CandidateReport& baseline,
    CandidateReport& row) {
  onnx::ModelProto model = original;
  std::vector<std::string> notes;
  for (const TransformStep& step : c.steps) {
    ASSIGN_OR_RETURN(TransformResult result,
                     ApplyStep(step, std::move(model), evaluator, set, train));
    model = std::move(result.model);
    notes.push_back(result.note);
  }
  RETURN_IF_ERROR(CheckOnnxModel(model));
  row.model_bytes = model.SerializeAsString();
  ASSIGN_OR_RETURN(std::shared_ptr<OrtEvaluator::Session> session,
                   evaluator.Load(row.model_bytes));
  ASSIGN_OR_RETURN(OrtEvaluator::Outputs out, evaluator.Predict(*session, set, batch));
  if (out.width != reference.width) {
    return InvalidArgument(fmt::format(
        "its first output has {} values per sample, the original's {}", out.width,
        reference.width));
  }
  Score(row, out, reference, set, baseline);
  row.note = fmt::format("{}", fmt::join(notes, "; "));
  return session;
}

}  // namespace

Result<OptimizeReport> RunOptimize(const OptimizeOptions& options) {
  ASSIGN_OR_RETURN(std::vector<Candidate> candidates, ParseCandidates(options.transforms));
  ASSIGN_OR_RETURN(onnx::ModelProto original, LoadOnnxModel(options.model_path));
  if (Status s = CheckOnnxModel(original); !s.ok()) {
    return InvalidArgument(fmt::format("'{}': {}", options.model_path, s.message()));
  }
  ASSIGN_OR_RETURN(std::vector<ModelInput> inputs, ModelInputs(original));
  int64_t batch = options.batch;
  for (const auto& in : inputs) {
    if (in.fixed_batch > 0) batch = in.fixed_batch;
  }
  EvalSet set;
  if (options.eval_path.empty()) {
    set = SampleEvalSet(inputs, options.sample_count, /*seed=*/16);
  } else {
    ASSIGN_OR_RETURN(set, LoadEvalSet(options.eval_path, inputs));
  }
  if (batch > 1 && set.count % batch != 0 && inputs[0].fixed_batch > 0) {
    return InvalidArgument(
        fmt::format("the model's batch is fixed at {}; the eval set's {} "
                    "samples are not a multiple of it",
                    batch, set.count));
  }
  std::optional<EvalSet> train;
  if (!options.train_path.empty()) {
    ASSIGN_OR_RETURN(train, LoadEvalSet(options.train_path, inputs));
  }
  ASSIGN_OR_RETURN(auto evaluator,
                   OrtEvaluator::Create({.intra_op_threads = options.intra_op_threads}));

  OptimizeReport report;
  report.labelled = !set.labels.empty();
  report.samples = set.count;
  report.original.name = "original";
  report.original.model_bytes = original.SerializeAsString();
  report.original.size_bytes = static_cast<int64_t>(report.original.model_bytes.size());
  ASSIGN_OR_RETURN(auto original_session, evaluator->Load(report.original.model_bytes));
  ASSIGN_OR_RETURN(auto reference, evaluator->Predict(*original_session, set, batch));
  Score(report.original, reference, reference, set, report.original);
  report.original.accuracy_drop = 0;

  std::vector<std::shared_ptr<OrtEvaluator::Session>> sessions{original_session};
  std::vector<CandidateReport*> measured{&report.original};
  report.candidates.reserve(candidates.size());
  for (const Candidate& c : candidates) {
    CandidateReport& row = report.candidates.emplace_back();
    row.name = c.name;
    auto session = TryCandidate(c, original, *evaluator, set, train ? &*train : nullptr, batch,
                                reference, report.original, row);
    if (!session.ok()) {
      row.failed = true;
      row.note = std::string(session.status().message());
      row.model_bytes.clear();
      continue;
    }
    row.size_bytes = static_cast<int64_t>(row.model_bytes.size());
    row.rejected = options.max_accuracy_drop >= 0 && row.accuracy_drop > options.max_accuracy_drop;
    sessions.push_back(*session);
    measured.push_back(&row);
  }

  // Throughput: rounds interleave the models so that load from elsewhere on the machine falls
  // on all of them alike; each model's best round counts.
  for (int round = 0; round < std::max(1, options.bench_rounds); ++round) {
    for (size_t i = 0; i < sessions.size(); ++i) {
      ASSIGN_OR_RETURN(double rate, evaluator->SamplesPerSecond(*sessions[i], set, batch,
                                                                options.bench_microseconds));
      measured[i]->throughput = std::max(measured[i]->throughput, rate);
    }
  }
  for (CandidateReport* row : measured) {
    row->throughput_ratio = row->throughput / report.original.throughput;
  }
  return report;
}

std::string FormatReport(const OptimizeReport& report) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"transform", "size", "size ÷ orig", "throughput ÷ orig",
                  report.labelled ? "accuracy" : "top-1 agree", "max |diff|", "mean |diff|",
                  "result"});
  auto add = [&](const CandidateReport& c) {
    if (c.failed) {
      rows.push_back({c.name, "-", "-", "-", "-", "-", "-", "failed: " + c.note});
      return;
    }
    const double base = double(report.original.size_bytes);
    rows.push_back(
        {c.name, fmt::format("{:.1f} KiB", c.size_bytes / 1024.0),
         fmt::format("{:.2f}", c.size_bytes / base), fmt::format("{:.2f}", c.throughput_ratio),
         report.labelled ? fmt::format("{:.4f}", c.accuracy.value_or(0))
                         : fmt::format("{:.4f}", c.agreement),
         fmt::format("{:.3g}", c.max_abs_diff), fmt::format("{:.3g}", c.mean_abs_diff),
         (c.rejected ? fmt::format("rejected (drop {:.4f}): ", c.accuracy_drop) : "") + c.note});
  };
  add(report.original);
  rows.back().back() =
      fmt::format("{:.0f} samples/s, {} eval samples{}", report.original.throughput, report.samples,
                  report.labelled ? " with labels" : " (sampled or unlabelled)");
  for (const auto& c : report.candidates) add(c);
  // Column widths in characters (the header's '÷' counts as one).
  auto width = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char ch : s) n += (ch & 0xC0) != 0x80;
    return n;
  };
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], width(r[i]));
  }
  std::string text;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      text += r[i];
      if (i + 1 < r.size()) text += std::string(widths[i] - width(r[i]) + 2, ' ');
    }
    text += '\n';
  }
  return text;
}

}  // namespace inferd::optimize
