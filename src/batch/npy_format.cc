#include "batch/npy_format.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace inferd::batch {
namespace {

struct Descr {
  const char* text;
  DataType dtype;
};
constexpr Descr kDescrs[] = {
    {"<f4", DataType::kFp32},   {"<f8", DataType::kFp64},   {"<f2", DataType::kFp16},
    {"<i8", DataType::kInt64},  {"<i4", DataType::kInt32},  {"<i2", DataType::kInt16},
    {"|i1", DataType::kInt8},   {"|u1", DataType::kUint8},  {"<u2", DataType::kUint16},
    {"<u4", DataType::kUint32}, {"<u8", DataType::kUint64}, {"|b1", DataType::kBool}};

// The value text after 'key': in the header dict, up to the next top-level ',' or '}'.
std::string_view DictValue(std::string_view dict, std::string_view key) {
  const std::string quoted = fmt::format("'{}':", key);
  size_t at = dict.find(quoted);
  if (at == std::string_view::npos) return {};
  at += quoted.size();
  while (at < dict.size() && dict[at] == ' ') ++at;
  size_t end = at;
  int depth = 0;
  while (end < dict.size()) {
    const char c = dict[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    ++end;
  }
  if (end < dict.size() && dict[end] == ')') ++end;
  return dict.substr(at, end - at);
}

}  // namespace

Result<NpyHeader> ParseNpyHeader(std::string_view bytes) {
  if (bytes.size() < 10 || bytes.substr(0, 6) != "\x93NUMPY") {
    return InvalidArgument("not a .npy array (no \\x93NUMPY magic)");
  }
  const auto major = static_cast<uint8_t>(bytes[6]);
  uint64_t header_length = 0;
  uint64_t prefix = 0;
  if (major == 1) {
    header_length = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return InvalidArgument(".npy header is cut short");
    for (int i = 3; i >= 0; --i)
      header_length = header_length << 8 | static_cast<uint8_t>(bytes[8 + i]);
    prefix = 12;
  } else {
    return InvalidArgument(fmt::format(".npy version {} is not supported", major));
  }
  if (bytes.size() < prefix + header_length) return InvalidArgument(".npy header is cut short");
  const std::string_view dict = bytes.substr(prefix, header_length);
  NpyHeader header;
  header.data_offset = prefix + header_length;
  std::string_view descr = DictValue(dict, "descr");
  if (descr.size() >= 2) descr = descr.substr(1, descr.size() - 2);
  for (const Descr& d : kDescrs) {
    if (descr == d.text || (descr.size() == 3 && descr[0] == '|' && d.text[0] == '<' &&
                            descr.substr(1) == std::string_view(d.text + 1))) {
      header.dtype = d.dtype;
    }
  }
  if (header.dtype == DataType::kInvalid) {
    return InvalidArgument(
        fmt::format(".npy dtype '{}' is not supported (little-endian numbers "
                    "and booleans only)",
                    descr));
  }
  if (DictValue(dict, "fortran_order").starts_with("True")) {
    return InvalidArgument(".npy arrays in Fortran order are not supported (use C order)");
  }
  std::string_view shape = DictValue(dict, "shape");
  if (shape.empty() || shape.front() != '(') return InvalidArgument(".npy header has no shape");
  shape.remove_prefix(1);
  while (!shape.empty() && shape.front() != ')') {
    int64_t dim = 0;
    size_t i = 0;
    while (i < shape.size() && shape[i] == ' ') ++i;
    if (i < shape.size() && shape[i] == ')') break;
    size_t digits = i;
    while (digits < shape.size() && shape[digits] >= '0' && shape[digits] <= '9') {
      dim = dim * 10 + (shape[digits] - '0');
      ++digits;
    }
    if (digits == i) return InvalidArgument(".npy shape is not a tuple of integers");
    header.shape.push_back(dim);
    shape.remove_prefix(digits);
    if (!shape.empty() && shape.front() == ',') shape.remove_prefix(1);
  }
  return header;
}

Result<std::string> NpyHeaderText(DataType dtype, int64_t rows, const Shape& row_shape) {
  const char* descr = nullptr;
  for (const Descr& d : kDescrs) {
    if (d.dtype == dtype) descr = d.text;
  }
  if (descr == nullptr) {
    return InvalidArgument(fmt::format("{} cannot be written to .npy", DataTypeName(dtype)));
  }
  std::string shape = fmt::format("({},", rows);
  for (size_t i = 0; i < row_shape.size(); ++i) {
    shape += fmt::format("{}{}", i == 0 ? " " : ", ", row_shape[i]);
  }
  shape += ")";
  std::string dict =
      fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", descr, shape);
  static constexpr size_t kHeaderBytes = 128;
  if (dict.size() + 11 > kHeaderBytes) return InvalidArgument(".npy header too long");
  dict.append(kHeaderBytes - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string header = "\x93NUMPY";
  header += '\x01';
  header += '\x00';
  header += static_cast<char>(dict.size() & 0xff);
  header += static_cast<char>(dict.size() >> 8);
  return header + dict;
}

Result<std::vector<ZipMember>> ListStoredZipMembers(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return NotFound(fmt::format("cannot open '{}'", path));
  std::vector<ZipMember> members;
  uint64_t offset = 0;
  while (true) {
    unsigned char local[30];
    if (fseeko(file.get(), static_cast<off_t>(offset), SEEK_SET) != 0 ||
        std::fread(local, 1, sizeof(local), file.get()) != sizeof(local)) {
      break;
    }
    auto u16 = [&](int at) { return static_cast<uint32_t>(local[at] | local[at + 1] << 8); };
    auto u32 = [&](int at) { return u16(at) | u16(at + 2) << 16; };
    if (u32(0) != 0x04034b50) break;  // past the last local header: the central directory
    const uint32_t method = u16(8);
    uint64_t size = u32(18);
    const uint32_t name_length = u16(26);
    const uint32_t extra_length = u16(28);
    std::string name(name_length, '\0');
    std::vector<unsigned char> extra(extra_length);
    if (std::fread(name.data(), 1, name_length, file.get()) != name_length ||
        std::fread(extra.data(), 1, extra_length, file.get()) != extra_length) {
      return InvalidArgument(fmt::format("'{}': a zip header is cut short", path));
    }
    if (method != 0) {
      return InvalidArgument(fmt::format(
          "'{}': member '{}' is compressed; predict reads numpy.savez (stored) archives, "
          "not savez_compressed",
          path, name));
    }
    // Zip64: the real size is in the extra field (id 1) when the 32-bit field is saturated.
    for (size_t at = 0; at + 4 <= extra.size();) {
      const uint32_t id = extra[at] | extra[at + 1] << 8;
      const uint32_t length = extra[at + 2] | extra[at + 3] << 8;
      if (id == 1 && size == 0xffffffffu && length >= 16) {
        size = 0;
        for (int i = 7; i >= 0; --i) size = size << 8 | extra[at + 4 + 8 + i];
      }
      at += 4 + length;
    }
    ZipMember member;
    member.name = std::move(name);
    member.data_offset = offset + 30 + name_length + extra_length;
    member.size = size;
    offset = member.data_offset + size;
    members.push_back(std::move(member));
  }
  if (members.empty())
    return InvalidArgument(fmt::format("'{}' is not a zip (.npz) archive", path));
  return members;
}

}  // namespace inferd::batch
