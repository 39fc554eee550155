#include "handler/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace inferd::handler {
namespace {

// POSIX names: a leading '/', no other '/', at most NAME_MAX bytes.
Status CheckKey(std::string_view key) {
  if (key.size() < 2 || key.front() != '/' || key.find('/', 1) != std::string_view::npos ||
      key.size() > 255 || key.find('\0') != std::string_view::npos) {
    return InvalidArgument(fmt::format(
        "shared memory 'key' '{}' must be a POSIX shared memory name: '/' then up to 254 "
        "characters without '/'",
        key));
  }
  return Status::Ok();
}

}  // namespace

SharedMemoryRegistry::~SharedMemoryRegistry() = default;

Status SharedMemoryRegistry::Register(std::string_view name, std::string_view key,
                                      uint64_t offset, uint64_t byte_size) {
  if (name.empty()) return InvalidArgument("shared memory region name is empty");
  RETURN_IF_ERROR(CheckKey(key));
  if (byte_size == 0) return InvalidArgument("shared memory 'byte_size' must be > 0");
  {
    MutexLock lock(mu_);
    if (regions_.count(name)) {
      return InvalidArgument(fmt::format(
          "shared memory region '{}' is already registered; unregister it first", name));
    }
  }
  const std::string key_str(key);
  const int fd = shm_open(key_str.c_str(), O_RDWR, 0);
  if (fd < 0) {
    const int err = errno;
    return err == ENOENT ? NotFound(fmt::format("no shared memory object with key '{}'", key))
                         : InvalidArgument(fmt::format("cannot open shared memory key '{}': {}",
                                                       key, std::strerror(err)));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return InvalidArgument(fmt::format("cannot stat shared memory key '{}': {}", key,
                                       std::strerror(err)));
  }
  const uint64_t object_size = static_cast<uint64_t>(st.st_size);
  if (offset > object_size || byte_size > object_size - offset) {
    close(fd);
    return InvalidArgument(fmt::format(
        "shared memory 'offset' {} + 'byte_size' {} is beyond the end of '{}' ({} bytes)", offset,
        byte_size, key, object_size));
  }
  // mmap wants a page-aligned offset: map from the page the window starts in.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t map_offset = offset / page * page;
  const size_t map_size = static_cast<size_t>(byte_size + (offset - map_offset));
  void* mapped = mmap(nullptr, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                      static_cast<off_t>(map_offset));
  const int err = errno;
  close(fd);  // the mapping keeps the object alive
  if (mapped == MAP_FAILED) {
    return InvalidArgument(fmt::format("cannot map shared memory key '{}': {}", key,
                                       std::strerror(err)));
  }
  auto* first = static_cast<std::byte*>(mapped) + (offset - map_offset);
  Region region;
  region.status = {std::string(name), key_str, offset, byte_size};
  region.base = std::shared_ptr<std::byte>(
      first, [mapped, map_size](std::byte*) { munmap(mapped, map_size); });
  MutexLock lock(mu_);
  auto [it, inserted] = regions_.emplace(std::string(name), std::move(region));
  if (!inserted) {  // registered meanwhile by another call; ours unmaps as `region` goes
    return InvalidArgument(fmt::format(
        "shared memory region '{}' is already registered; unregister it first", name));
  }
  return Status::Ok();
}

Status SharedMemoryRegistry::Unregister(std::string_view name) {
  std::map<std::string, Region, std::less<>> dropped;  // unmapped outside the lock
  MutexLock lock(mu_);
  if (name.empty()) {
    dropped.swap(regions_);
    return Status::Ok();
  }
  auto it = regions_.find(name);
  if (it == regions_.end()) {
    return NotFound(fmt::format("unknown shared memory region '{}'", name));
  }
  dropped.insert(regions_.extract(it));
  return Status::Ok();
}

Result<std::vector<SharedMemoryRegionStatus>> SharedMemoryRegistry::Regions(
    std::string_view name) const {
  MutexLock lock(mu_);
  std::vector<SharedMemoryRegionStatus> out;
  if (!name.empty()) {
    auto it = regions_.find(name);
    if (it == regions_.end()) {
      return NotFound(fmt::format("unknown shared memory region '{}'", name));
    }
    out.push_back(it->second.status);
    return out;
  }
  for (const auto& [n, r] : regions_) out.push_back(r.status);
  return out;
}

Result<SharedMemoryView> SharedMemoryRegistry::View(std::string_view name, uint64_t offset,
                                                    uint64_t byte_size,
                                                    std::string_view what) const {
  MutexLock lock(mu_);
  auto it = regions_.find(name);
  if (it == regions_.end()) {
    return InvalidArgument(fmt::format(
        "{}: shared_memory_region '{}' is not registered", what, name));
  }
  const uint64_t size = it->second.status.byte_size;
  if (offset > size || byte_size > size - offset) {
    return InvalidArgument(fmt::format(
        "{}: shared_memory_offset {} + shared_memory_byte_size {} is beyond the end of region "
        "'{}' ({} bytes)",
        what, offset, byte_size, name, size));
  }
  return SharedMemoryView{
      std::span<std::byte>(it->second.base.get() + offset, static_cast<size_t>(byte_size)),
      it->second.base};
}

Result<std::optional<SharedMemoryRef>> SharedMemoryRefOf(const Parameters& params,
                                                         std::string_view what) {
  auto region = params.find("shared_memory_region");
  if (region == params.end()) return std::optional<SharedMemoryRef>();
  SharedMemoryRef ref;
  if (const auto* s = std::get_if<std::string>(&region->second); s && !s->empty()) {
    ref.region = *s;
  } else {
    return InvalidArgument(
        fmt::format("{}: parameter 'shared_memory_region' must be a non-empty string", what));
  }
  auto unsigned_param = [&](std::string_view key, bool required,
                            uint64_t* out) -> Status {
    auto it = params.find(key);
    if (it == params.end()) {
      if (!required) return Status::Ok();
      return InvalidArgument(fmt::format(
          "{}: parameter '{}' is required with shared_memory_region", what, key));
    }
    const auto* v = std::get_if<int64_t>(&it->second);
    if (v == nullptr || *v < 0) {
      return InvalidArgument(
          fmt::format("{}: parameter '{}' must be a non-negative integer", what, key));
    }
    *out = static_cast<uint64_t>(*v);
    return Status::Ok();
  };
  RETURN_IF_ERROR(unsigned_param("shared_memory_byte_size", true, &ref.byte_size));
  RETURN_IF_ERROR(unsigned_param("shared_memory_offset", false, &ref.offset));
  return std::optional<SharedMemoryRef>(std::move(ref));
}

bool UsesSharedMemoryOutputs(const InferenceRequest& request) {
  for (const RequestedOutput& out : request.outputs) {
    if (out.parameters.contains("shared_memory_region")) return true;
  }
  return false;
}

Status ReadSharedMemoryInputs(const SharedMemoryRegistry& registry, InferenceRequest& request) {
  for (Tensor& input : request.inputs) {
    auto params = request.input_parameters.find(input.name());
    if (params == request.input_parameters.end()) continue;
    const std::string what = fmt::format("input '{}'", input.name());
    ASSIGN_OR_RETURN(std::optional<SharedMemoryRef> ref, SharedMemoryRefOf(params->second, what));
    if (!ref) continue;
    ASSIGN_OR_RETURN(SharedMemoryView view,
                     registry.View(ref->region, ref->offset, ref->byte_size, what));
    input.SetData(std::span<const std::byte>(view.bytes), std::move(view.owner));
  }
  return Status::Ok();
}

Result<std::vector<SharedMemoryOutputTarget>> SharedMemoryOutputTargets(
    const SharedMemoryRegistry& registry, const InferenceRequest& request) {
  std::vector<SharedMemoryOutputTarget> targets;
  for (const RequestedOutput& out : request.outputs) {
    const std::string what = fmt::format("output '{}'", out.name);
    ASSIGN_OR_RETURN(std::optional<SharedMemoryRef> ref, SharedMemoryRefOf(out.parameters, what));
    if (!ref) continue;
    if (out.parameters.contains("classification")) {
      return InvalidArgument(fmt::format(
          "{}: classification cannot be written to shared memory", what));
    }
    ASSIGN_OR_RETURN(SharedMemoryView view,
                     registry.View(ref->region, ref->offset, ref->byte_size, what));
    targets.push_back({out.name, ref->region, std::move(view)});
  }
  return targets;
}

Status WriteSharedMemoryOutputs(const std::vector<SharedMemoryOutputTarget>& targets,
                                InferenceResponse& response) {
  for (const SharedMemoryOutputTarget& target : targets) {
    for (Tensor& out : response.outputs) {
      if (out.name() != target.output) continue;
      const size_t size = out.byte_size();
      if (size > target.view.bytes.size()) {
        return InvalidArgument(fmt::format(
            "output '{}' is {} bytes but its shared_memory_byte_size is {}", out.name(), size,
            target.view.bytes.size()));
      }
      if (size > 0) std::memcpy(target.view.bytes.data(), out.data().data(), size);
      response.output_parameters[out.name()] = Parameters{
          {"shared_memory_region", target.region},
          {"shared_memory_byte_size", static_cast<int64_t>(size)}};
      out.SetData(std::vector<std::byte>());  // the bytes are in the region now
    }
  }
  return Status::Ok();
}

}  // namespace inferd::handler
