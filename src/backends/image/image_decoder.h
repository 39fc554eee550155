// Decoding PNG (libpng's simplified API) and JPEG (libjpeg-turbo) images from untrusted bytes
// into 8-bit pixels, height x width x channels, rows top to bottom. The image processor
// (image_backend.h) calls it once per request element; the fuzzer fuzz/image_decoder_fuzz.cc
// feeds it arbitrary bytes. Never crashes on bad input: anything that is not a decodable PNG
// or JPEG, or that is larger than the limits, is an INVALID_ARGUMENT saying why.
// Thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace inferd::backends::image {

// 8-bit pixels, interleaved (HWC).
struct Image {
  int height = 0;
  int width = 0;
  int channels = 0;  // 1 (gray) or 3 (RGB)
  std::vector<uint8_t> pixels;
};

struct DecodeOptions {
  int channels = 3;  // 1: convert to gray, 3: convert to RGB (alpha is dropped)
  // Refused before any pixel is decoded when width x height exceeds this (default 4096 x 4096),
  // so a small file that claims huge dimensions cannot exhaust memory.
  uint64_t max_pixels = 16ull << 20;
};

enum class ImageFormat { kUnknown, kPng, kJpeg };

// By the file's signature.
ImageFormat DetectFormat(std::span<const std::byte> data);

Result<Image> DecodeImage(std::span<const std::byte> data, const DecodeOptions& options);

}  // namespace inferd::backends::image
