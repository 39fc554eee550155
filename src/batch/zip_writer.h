// ZipWriter: writes a zip archive of stored (uncompressed) members copied from files, as
// `inferd predict` assembles its .npz output from one .npy part file per output at the end of a
// run. Members are streamed through a fixed buffer (memory does not grow with their size), and
// zip64 records are written where a size or offset does not fit 32 bits (> 4 GiB). The archive
// is a pure function of the members' names and bytes (a fixed 1980-01-01 timestamp), so two runs
// over the same parts write the same bytes. Pure functions; no state between calls.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace inferd::batch {

// CRC-32 (ISO-HDLC, the zip one) of `bytes`, continuing from `crc` (0 to start).
uint32_t Crc32(std::span<const std::byte> bytes, uint32_t crc = 0);

struct ZipSource {
  std::string name = {};  // the member's name in the archive ("logits.npy")
  std::string path = {};  // the file whose bytes it stores
};

struct ZipOptions {
  // Writes zip64 records for every member and the directory even when all fits 32 bits (tests
  // use it to exercise the > 4 GiB layout without writing 4 GiB).
  bool force_zip64 = false;
};

// Writes `path` (created or replaced in place) with `members`, in that order.
Status WriteStoredZip(const std::string& path, const std::vector<ZipSource>& members,
                      const ZipOptions& options = {});

}  // namespace inferd::batch
