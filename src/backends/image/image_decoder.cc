#include "backends/image/image_decoder.h"

#include <fmt/format.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>

namespace inferd::backends::image {
namespace {

constexpr unsigned char kPngSignature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

Status TooLarge(uint64_t width, uint64_t height, uint64_t max_pixels) {
  return InvalidArgument(fmt::format("the image is {}x{} pixels, over the limit of {} pixels",
                                     width, height, max_pixels));
}

Result<Image> DecodePng(std::span<const std::byte> data, const DecodeOptions& options) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, data.data(), data.size())) {
    return InvalidArgument(fmt::format("not a readable PNG image: {}", png.message));
  }
  if (static_cast<uint64_t>(png.width) * png.height > options.max_pixels) {
    png_image_free(&png);
    return TooLarge(png.width, png.height, options.max_pixels);
  }
  png.format = options.channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image image;
  image.width = static_cast<int>(png.width);
  image.height = static_cast<int>(png.height);
  image.channels = options.channels;
  image.pixels.resize(PNG_IMAGE_SIZE(png));
  // Composited over black when the image has alpha (background null).
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    return InvalidArgument(fmt::format("not a readable PNG image: {}", png.message));
  }
  return image;
}

// libjpeg reports errors by calling error_exit, which must not return: it longjmps back to the
// setjmp in the functions below. Those functions hold only plain C objects in their frames
// (nothing with a destructor is skipped by the jump), and every allocation libjpeg made is
// released by jpeg_destroy_decompress in the caller.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

struct JpegState {
  jpeg_decompress_struct cinfo;
  JpegError error;
};

extern "C" void JpegErrorExit(j_common_ptr cinfo) {
  auto* error = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, error->message);
  std::longjmp(error->jump, 1);
}

extern "C" void JpegSilence(j_common_ptr) {}  // warnings: corrupt data is filled in, not fatal

bool ReadJpegHeader(JpegState* s, const unsigned char* data, unsigned long size, int channels) {
  if (setjmp(s->error.jump)) return false;
  jpeg_mem_src(&s->cinfo, data, size);
  jpeg_read_header(&s->cinfo, TRUE);
  s->cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_calc_output_dimensions(&s->cinfo);
  return true;
}

bool ReadJpegPixels(JpegState* s, unsigned char* out, size_t row_bytes) {
  if (setjmp(s->error.jump)) return false;
  jpeg_start_decompress(&s->cinfo);
  while (s->cinfo.output_scanline < s->cinfo.output_height) {
    JSAMPROW row = out + static_cast<size_t>(s->cinfo.output_scanline) * row_bytes;
    jpeg_read_scanlines(&s->cinfo, &row, 1);
  }
  jpeg_finish_decompress(&s->cinfo);
  return true;
}

Result<Image> DecodeJpeg(std::span<const std::byte> data, const DecodeOptions& options) {
  auto state = std::make_unique<JpegState>();
  std::memset(state.get(), 0, sizeof(JpegState));
  state->cinfo.err = jpeg_std_error(&state->error.mgr);
  state->error.mgr.error_exit = JpegErrorExit;
  state->error.mgr.output_message = JpegSilence;
  jpeg_create_decompress(&state->cinfo);
  struct Destroy {
    JpegState* s;
    ~Destroy() { jpeg_destroy_decompress(&s->cinfo); }
  } destroy{state.get()};
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (!ReadJpegHeader(state.get(), bytes, static_cast<unsigned long>(data.size()),
                      options.channels)) {
    return InvalidArgument(fmt::format("not a readable JPEG image: {}", state->error.message));
  }
  const uint64_t width = state->cinfo.output_width, height = state->cinfo.output_height;
  if (width * height > options.max_pixels) return TooLarge(width, height, options.max_pixels);
  if (width == 0 || height == 0 || state->cinfo.output_components != options.channels) {
    return InvalidArgument("not a readable JPEG image: unsupported color layout");
  }
  Image image;
  image.width = static_cast<int>(width);
  image.height = static_cast<int>(height);
  image.channels = options.channels;
  image.pixels.resize(width * height * static_cast<uint64_t>(options.channels));
  if (!ReadJpegPixels(state.get(), image.pixels.data(),
                      width * static_cast<size_t>(options.channels))) {
    return InvalidArgument(fmt::format("not a readable JPEG image: {}", state->error.message));
  }
  return image;
}

}  // namespace

ImageFormat DetectFormat(std::span<const std::byte> data) {
  if (data.size() >= sizeof(kPngSignature) &&
      std::memcmp(data.data(), kPngSignature, sizeof(kPngSignature)) == 0) {
    return ImageFormat::kPng;
  }
  if (data.size() >= 3 && data[0] == std::byte{0xff} && data[1] == std::byte{0xd8} &&
      data[2] == std::byte{0xff}) {
    return ImageFormat::kJpeg;
  }
  return ImageFormat::kUnknown;
}

Result<Image> DecodeImage(std::span<const std::byte> data, const DecodeOptions& options) {
  if (options.channels != 1 && options.channels != 3) {
    return InvalidArgument(fmt::format("cannot decode to {} channels (1 or 3)", options.channels));
  }
  switch (DetectFormat(data)) {
    case ImageFormat::kPng:
      return DecodePng(data, options);
    case ImageFormat::kJpeg:
      return DecodeJpeg(data, options);
    case ImageFormat::kUnknown:
      break;
  }
  return InvalidArgument(
      fmt::format("not a PNG or JPEG image ({} bytes, no PNG or JPEG "
                  "signature)",
                  data.size()));
}

}  // namespace inferd::backends::image
