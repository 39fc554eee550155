#include "repository/version_loader.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>
#include <thread>

#include "backends/reshaping_instance.h"
#include "config/model_config.h"
#include "scheduling/scheduler_factory.h"

namespace inferd::repository {
namespace {

namespace fs = std::filesystem;

// Where each instance of the model runs, by Triton's rules: no group -> one CPU instance; a
// group's count (0 -> 1) is per GPU for KIND_GPU (no gpus listed -> GPU 0), else on the CPU.
std::vector<backends::InstanceOptions> InstancePlacements(const config::ModelConfig& cfg) {
  std::vector<backends::InstanceOptions> out;
  for (const auto& g : cfg.instance_group()) {
    const int count = std::max(1, g.count());
    if (g.kind() == config::ModelInstanceGroup::KIND_GPU) {
      std::vector<int> gpus(g.gpus().begin(), g.gpus().end());
      if (gpus.empty()) gpus.push_back(0);
      for (int gpu : gpus) {
        for (int i = 0; i < count; ++i) out.push_back({.on_gpu = true, .gpu_id = gpu});
      }
    } else {
      for (int i = 0; i < count; ++i) out.push_back({});
    }
  }
  if (out.empty()) out.push_back({});
  return out;
}

// One warm-up input tensor: zeros, random bytes, or a file from <model>/warmup/.
Result<Tensor> WarmupTensor(const std::string& name, const config::ModelWarmup::Input& spec,
                            uint32_t batch_size, bool batching, const fs::path& model_dir,
                            std::mt19937& rng) {
  Shape shape;
  if (batching) shape.push_back(std::max<uint32_t>(1, batch_size));
  for (int64_t d : spec.dims()) shape.push_back(d);
  Tensor t(name, config::FromProtoDataType(spec.data_type()), shape);
  const int64_t count = t.element_count();
  if (count < 0) return InvalidArgument(fmt::format("warm-up input '{}' has a bad shape", name));
  if (spec.has_input_data_file()) {
    const fs::path file = model_dir / "warmup" / spec.input_data_file();
    std::ifstream in(file, std::ios::binary);
    if (!in) return NotFound(fmt::format("warm-up data file '{}' not found", file.string()));
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> data(bytes.size());
    std::memcpy(data.data(), bytes.data(), bytes.size());
    t.SetData(std::move(data));
    RETURN_IF_ERROR(t.ValidateByteSize());
    return t;
  }
  if (t.dtype() == DataType::kBytes) {
    std::vector<std::byte> data;
    for (int64_t i = 0; i < count; ++i) {
      AppendBytesElement(data, spec.random_data() ? std::to_string(rng()) : std::string());
    }
    t.SetData(std::move(data));
    return t;
  }
  auto bytes = t.AllocateData(static_cast<size_t>(count) * DataTypeByteSize(t.dtype()));
  if (spec.random_data()) {
    // Random values in [0, 1) for floats, small non-negative integers otherwise: random bit
    // patterns would include NaNs and out-of-range indices that real inputs never carry.
    for (int64_t i = 0; i < count; ++i) {
      const double v = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
      std::byte* dst = bytes.data() + i * DataTypeByteSize(t.dtype());
      switch (t.dtype()) {
        case DataType::kFp32: {
          const float f = static_cast<float>(v);
          std::memcpy(dst, &f, 4);
          break;
        }
        case DataType::kFp64:
          std::memcpy(dst, &v, 8);
          break;
        case DataType::kFp16:
        case DataType::kBf16:
          break;  // zero: a valid value for both
        default:
          *dst = static_cast<std::byte>(rng() % 2);
          break;
      }
    }
  }
  return t;
}

}  // namespace

std::vector<int64_t> ListVersions(const fs::path& model_dir) {
  std::vector<int64_t> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(model_dir, ec)) {
    if (!entry.is_directory(ec)) continue;
    const std::string n = entry.path().filename().string();
    int64_t v = 0;
    auto [ptr, err] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (err == std::errc() && ptr == n.data() + n.size() && v > 0) versions.push_back(v);
  }
  std::sort(versions.begin(), versions.end());
  return versions;
}

std::string ModelFingerprint(const fs::path& model_dir) {
  std::vector<std::string> parts;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(model_dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const auto size = it->file_size(ec);
    const auto mtime = it->last_write_time(ec).time_since_epoch().count();
    parts.push_back(
        fmt::format("{}:{}:{}", fs::relative(it->path(), model_dir, ec).string(), size, mtime));
  }
  std::sort(parts.begin(), parts.end());
  return fmt::format("{}", fmt::join(parts, "|"));
}

uint64_t ModelFileBytes(const fs::path& model_dir, const std::vector<int64_t>& versions) {
  uint64_t total = 0;
  std::error_code ec;
  for (int64_t v : versions) {
    for (auto it = fs::recursive_directory_iterator(model_dir / std::to_string(v), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file(ec)) total += it->file_size(ec);
    }
  }
  return total;
}

uint64_t ProcessRssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

Status RunWarmup(const config::ModelConfig& config, const fs::path& model_dir,
                 std::span<const std::unique_ptr<backends::ModelInstance>> instances) {
  std::mt19937 rng(42);
  std::vector<std::string> outputs;
  for (const auto& o : config.output()) outputs.push_back(o.name());
  for (const auto& sample : config.model_warmup()) {
    std::vector<Tensor> inputs;
    for (const auto& [name, spec] : sample.inputs()) {
      ASSIGN_OR_RETURN(Tensor t, WarmupTensor(name, spec, sample.batch_size(),
                                              config.max_batch_size() > 0, model_dir, rng));
      inputs.push_back(std::move(t));
    }
    const uint32_t runs = std::max<uint32_t>(1, sample.count());
    for (const auto& instance : instances) {
      for (uint32_t i = 0; i < runs; ++i) {
        auto r = instance->Execute(inputs, outputs, nullptr);
        if (!r.ok()) {
          return r.status().WithContext(fmt::format("warm-up sample '{}'", sample.name()));
        }
      }
    }
  }
  return Status::Ok();
}

Result<OutputLabels> ReadOutputLabels(const config::ModelConfig& config,
                                      const fs::path& model_dir) {
  OutputLabels labels;
  for (const auto& out : config.output()) {
    if (out.label_filename().empty()) continue;
    const fs::path label(out.label_filename());
    if (label.is_absolute() || std::any_of(label.begin(), label.end(),
                                           [](const fs::path& p) { return p == ".."; })) {
      return InvalidArgument(fmt::format(
          "label_filename '{}' must name a file inside the model folder", out.label_filename()));
    }
    std::ifstream in(model_dir / out.label_filename());
    if (!in) {
      return NotFound(fmt::format("label file '{}' of output '{}' not found",
                                  (model_dir / out.label_filename()).string(), out.name()));
    }
    auto& lines = labels[out.name()];
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  return labels;
}

Result<std::unique_ptr<ServableModel>> LoadModelVersion(const fs::path& model_dir,
                                                        const std::string& name, int64_t version,
                                                        const config::ModelConfig& base,
                                                        const VersionLoadOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const uint64_t rss_before = ProcessRssBytes();
  config::ModelConfig cfg = base;
  const std::string filename = cfg.default_model_filename().empty()
                                   ? std::string(options.backend->default_model_filename())
                                   : cfg.default_model_filename();
  const fs::path relative(filename);
  if ((filename.empty() && !options.backend->default_model_filename().empty()) ||
      relative.is_absolute() || relative.has_root_path() ||
      std::any_of(relative.begin(), relative.end(), [](const fs::path& p) { return p == ".."; })) {
    return InvalidArgument(fmt::format(
        "default_model_filename '{}' must name a file inside the version folder", filename));
  }
  // A backend without a default file (a processor, docs/pipelines.md) needs none: it gets the
  // version folder, which may not even exist.
  const bool file_less = filename.empty() && options.backend->default_model_filename().empty();
  const fs::path model_file = model_dir / std::to_string(version) / filename;
  std::error_code ec;
  if (!file_less && !fs::is_regular_file(model_file, ec)) {
    return NotFound(fmt::format("model file '{}' not found", model_file.string()));
  }

  // Engine threads: the instances of one model share the machine's cores between them, so
  // N instances never start N full-size thread pools (Triton's classic oversubscription).
  const unsigned cores =
      options.cpu_cores ? options.cpu_cores : std::max(1u, std::thread::hardware_concurrency());
  std::vector<backends::InstanceOptions> placements = InstancePlacements(cfg);
  const int count = static_cast<int>(placements.size());
  for (auto& p : placements) {
    p.intra_op_threads = std::max(1, static_cast<int>(cores) / count);
    p.inter_op_threads = 1;
  }

  backends::Backend& backend = *options.backend;
  std::vector<std::unique_ptr<backends::ModelInstance>> pool;
  ASSIGN_OR_RETURN(auto first, backend.CreateInstance(model_file, cfg, placements[0]));
  RETURN_IF_ERROR(backend.CompleteConfig(cfg, first->signature(), name));
  pool.push_back(std::move(first));
  for (int i = 1; i < count; ++i) {
    ASSIGN_OR_RETURN(auto inst, backend.CreateInstance(model_file, cfg, placements[i]));
    pool.push_back(std::move(inst));
  }
  // From here on every caller sees the config's dims; the engine gets its reshape.
  for (auto& inst : pool) inst = backends::WithReshape(cfg, std::move(inst));
  const backends::InstanceOptions& instance_options = placements[0];
  ASSIGN_OR_RETURN(OutputLabels labels, ReadOutputLabels(cfg, model_dir));
  RETURN_IF_ERROR(RunWarmup(cfg, model_dir, pool));
  spdlog::info("model '{}' version {}: {} {} instance(s), {} intra-op thread(s) each{}{}", name,
               version, count, backend.name(), instance_options.intra_op_threads,
               cfg.has_dynamic_batching() ? ", dynamic batching" : "",
               cfg.model_warmup_size()
                   ? fmt::format(", {} warm-up sample(s) run", cfg.model_warmup_size())
                   : "");

  ASSIGN_OR_RETURN(auto scheduler, scheduling::CreateScheduler(
                                       cfg, std::move(pool), fmt::format("{}:{}", name, version)));
  LoadCost cost;
  cost.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const uint64_t rss_after = ProcessRssBytes();
  // Budgeting uses the model files' size: weights dominate a loaded model's memory, and unlike
  // the RSS growth (which also holds one-time engine start-up and allocator slack) it is the
  // same every time, so eviction decisions are predictable.
  cost.memory_bytes = ModelFileBytes(model_dir, {version});
  cost.rss_growth_bytes = rss_after > rss_before ? rss_after - rss_before : 0;
  return std::make_unique<ServableModel>(name, version, std::move(cfg), std::move(scheduler),
                                         cost, std::move(labels));
}

}  // namespace inferd::repository
