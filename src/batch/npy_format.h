// The NumPy .npy format (version 1.0/2.0 headers) as predict reads and writes it: little-endian
// C-order arrays of the fixed-size types, and the stored (uncompressed) members of an .npz zip.
// Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace inferd::batch {

struct NpyHeader {
  DataType dtype = DataType::kInvalid;
  Shape shape;
  uint64_t data_offset = 0;  // bytes from the start of the .npy to the first element
};

// Parses the header at the start of `bytes` (at least the whole header). INVALID_ARGUMENT for a
// Fortran-order array, an unsupported descr ('<f4', '<f8', '<i8', ...) or a broken header.
Result<NpyHeader> ParseNpyHeader(std::string_view bytes);

// A version 1.0 header for `dtype` with `rows` rows of `row_shape`, padded to a fixed 128 bytes
// so that it can be rewritten in place once the row count is known.
Result<std::string> NpyHeaderText(DataType dtype, int64_t rows, const Shape& row_shape);

// A stored member of a zip archive (what numpy.savez writes).
struct ZipMember {
  std::string name;
  uint64_t data_offset = 0;  // where the member's bytes start in the archive
  uint64_t size = 0;
};
// Reads the local headers from the start of the archive at `path`. INVALID_ARGUMENT for a
// compressed member (numpy.savez_compressed): predict streams, it does not inflate.
Result<std::vector<ZipMember>> ListStoredZipMembers(const std::string& path);

}  // namespace inferd::batch
