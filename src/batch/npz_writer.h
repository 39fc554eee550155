// The .npz output of `inferd predict`: one array per written output (numpy.savez's layout, stored
// members named "<output>.npy"). Rows stream into one .npy part file per output next to the
// output (<output>.<i>.npy.part, the names listed in <output>.parts); Finish() patches each part's
// header with the row count and copies the parts into the archive (zip_writer.h). The
// checkpointed size is the parts' total, and a resumed run truncates each part to its share of
// it, so a killed run finishes byte-identical too. Memory does not grow with the row count.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "batch/row_writer.h"

namespace inferd::batch {

// resume_bytes as for OpenRowWriter: the parts' total size that a checkpoint recorded.
Result<std::unique_ptr<RowWriter>> OpenNpzWriter(const std::string& path,
                                                 std::optional<uint64_t> resume_bytes);

}  // namespace inferd::batch
