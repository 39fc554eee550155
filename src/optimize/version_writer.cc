#include "optimize/version_writer.h"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

namespace inferd::optimize {
namespace fs = std::filesystem;
namespace {

Status WriteFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Internal(fmt::format("cannot write '{}'", path.string()));
  return Status::Ok();
}

}  // namespace

Result<int64_t> NextVersion(const fs::path& model_dir) {
  int64_t highest = 0;
  std::error_code ec;
  if (!fs::exists(model_dir, ec)) return 1;
  for (const auto& entry : fs::directory_iterator(model_dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name.empty() || name.size() > 18 ||
        name.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    highest = std::max<int64_t>(highest, std::stoll(name));
  }
  if (ec) return Internal(fmt::format("cannot list '{}': {}", model_dir.string(), ec.message()));
  return highest + 1;
}

std::string DefaultConfig(const std::string& model_name) {
  return fmt::format(
      "name: \"{}\"\n"
      "backend: \"onnxruntime\"\n"
      "# Two versions stay loaded so that a canary of the newest can be rolled back.\n"
      "version_policy: {{ latest: {{ num_versions: 2 }} }}\n",
      model_name);
}

Result<int64_t> WriteModelVersion(const fs::path& model_dir, const std::string& model_bytes) {
  std::error_code ec;
  fs::create_directories(model_dir, ec);
  if (ec) {
    return Internal(fmt::format("cannot create '{}': {}", model_dir.string(), ec.message()));
  }
  ASSIGN_OR_RETURN(int64_t version, NextVersion(model_dir));
  const fs::path staging = model_dir / fmt::format(".optimize-{}-{}", version, ::getpid());
  fs::remove_all(staging, ec);
  fs::create_directory(staging, ec);
  if (ec) return Internal(fmt::format("cannot create '{}': {}", staging.string(), ec.message()));
  if (Status s = WriteFile(staging / "model.onnx", model_bytes); !s.ok()) {
    fs::remove_all(staging, ec);
    return s;
  }
  const fs::path config = model_dir / "config.pbtxt";
  if (!fs::exists(config, ec)) {
    const fs::path staged_config = staging / "config.pbtxt";
    RETURN_IF_ERROR(WriteFile(staged_config, DefaultConfig(model_dir.filename().string())));
    // The config goes first: a poller that sees the version also sees its config.
    fs::rename(staged_config, config, ec);
    if (ec) {
      fs::remove_all(staging, ec);
      return Internal(fmt::format("cannot write '{}'", config.string()));
    }
  }
  fs::rename(staging, model_dir / std::to_string(version), ec);
  if (ec) {
    const std::string message = ec.message();
    fs::remove_all(staging, ec);
    return Internal(
        fmt::format("cannot move version {} into '{}': {}", version, model_dir.string(), message));
  }
  return version;
}

}  // namespace inferd::optimize
