#include "batch/checkpoint.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace inferd::batch {

constexpr std::string_view kMagic = "inferd-predict-checkpoint 1";

Result<std::optional<Checkpoint>> LoadCheckpoint(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::optional<Checkpoint>();
  std::string magic;
  std::getline(in, magic);
  Checkpoint c;
  std::getline(in, c.fingerprint);
  in >> c.input_position >> c.input_line >> c.next_block >> c.output_bytes >> c.error_bytes >>
      c.rows_ok >> c.rows_failed;
  if (magic != kMagic || !in) {
    return InvalidArgument(
        fmt::format("checkpoint '{}' is not readable; delete it to start over", path));
  }
  return std::optional<Checkpoint>(std::move(c));
}

Status SaveCheckpoint(const std::string& path, const Checkpoint& c) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << kMagic << '\n'
        << c.fingerprint << '\n'
        << c.input_position << ' ' << c.input_line << ' ' << c.next_block << ' ' << c.output_bytes
        << ' ' << c.error_bytes << ' ' << c.rows_ok << ' ' << c.rows_failed << '\n';
    out.flush();
    if (!out) return Unavailable(fmt::format("cannot write checkpoint '{}'", temporary));
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    return Unavailable(fmt::format("cannot write checkpoint '{}': {}", path, error.message()));
  }
  return Status::Ok();
}

}  // namespace inferd::batch
