#include "deeplab/data/png_io.h"

#include <png.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::data {
namespace {

// libpng reports errors by longjmp.  The functions that call setjmp below keep
// only trivially destructible locals, so jumping out of libpng never skips a
// C++ destructor; everything owning memory lives in their callers.
struct ErrorState {
  char message[256] = {0};
};

void on_error(png_structp png, png_const_charp message) {
  auto* state = static_cast<ErrorState*>(png_get_error_ptr(png));
  std::snprintf(state->message, sizeof state->message, "%s", message);
  png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}

constexpr bool kLittleEndian = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__;

struct Layout {
  png_uint_32 width = 0;
  png_uint_32 height = 0;
  int bit_depth = 0;
  int color_type = 0;
  int channels = 0;
  int num_palette = 0;
  png_colorp palette = nullptr;
};

// Reads the header and asks libpng for samples as stored: low depths unpacked
// (not scaled), palettes kept as indices, 16-bit in host order.
bool read_layout(png_structp png, png_infop info, std::FILE* file, Layout* layout) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_init_io(png, file);
  png_read_info(png, info);
  int interlace = 0;
  png_get_IHDR(png, info, &layout->width, &layout->height, &layout->bit_depth, &layout->color_type, &interlace, nullptr,
               nullptr);
  if (layout->bit_depth < 8) png_set_packing(png);
  if (layout->bit_depth == 16 && kLittleEndian) png_set_swap(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  layout->channels = png_get_channels(png, info);
  if (layout->color_type == PNG_COLOR_TYPE_PALETTE) png_get_PLTE(png, info, &layout->palette, &layout->num_palette);
  return true;
}

bool read_rows(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_read_image(png, rows);
  png_read_end(png, info);
  return true;
}

struct ReadHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~ReadHandles() { png_destroy_read_struct(&png, info ? &info : nullptr, nullptr); }
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// libpng's row type is non-const for reading and writing alike; when writing it
// only reads through these pointers.
std::vector<png_bytep> row_pointers(const PngImage& image) {
  const size_t bytes_per_sample = image.bit_depth == 16 ? 2 : 1;
  const size_t stride = static_cast<size_t>(image.width) * image.channels * bytes_per_sample;
  auto* base = image.bit_depth == 16 ? reinterpret_cast<png_bytep>(const_cast<uint16_t*>(image.data16.data()))
                                     : const_cast<uint8_t*>(image.data8.data());
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (size_t y = 0; y < rows.size(); ++y) rows[y] = base + y * stride;
  return rows;
}

}  // namespace

PngImage PngImage::gray(int width, int height, int bit_depth) {
  PngImage image;
  image.width = width;
  image.height = height;
  image.bit_depth = bit_depth;
  if (bit_depth == 16) {
    image.data16.assign(image.num_pixels(), 0);
  } else {
    image.data8.assign(image.num_pixels(), 0);
  }
  return image;
}

PngImage PngImage::rgb(int width, int height) {
  PngImage image;
  image.width = width;
  image.height = height;
  image.channels = 3;
  image.data8.assign(image.num_pixels() * 3, 0);
  return image;
}

PngImage PngImage::indexed(int width, int height, std::vector<std::array<uint8_t, 3>> palette) {
  PngImage image = gray(width, height, 8);
  image.palette = std::move(palette);
  return image;
}

PngImage read_png(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) throw IoError("cannot open PNG '" + path + "': " + std::strerror(errno));
  png_byte signature[8] = {0};
  if (std::fread(signature, 1, 8, file.get()) != 8 || png_sig_cmp(signature, 0, 8) != 0) {
    throw IoError("'" + path + "' is not a PNG file");
  }
  ErrorState error;
  ReadHandles h;
  h.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &error, on_error, on_warning);
  if (h.png) h.info = png_create_info_struct(h.png);
  if (!h.png || !h.info) throw IoError("cannot decode PNG '" + path + "': out of memory");
  png_set_sig_bytes(h.png, 8);

  Layout layout;
  if (!read_layout(h.png, h.info, file.get(), &layout)) {
    throw IoError("cannot decode PNG '" + path + "': " + error.message);
  }
  PngImage image;
  image.width = static_cast<int>(layout.width);
  image.height = static_cast<int>(layout.height);
  image.channels = layout.channels;
  image.bit_depth = layout.bit_depth == 16 ? 16 : 8;
  for (int i = 0; i < layout.num_palette; ++i) {
    image.palette.push_back({layout.palette[i].red, layout.palette[i].green, layout.palette[i].blue});
  }
  const size_t samples = image.num_pixels() * static_cast<size_t>(image.channels);
  if (image.bit_depth == 16) {
    image.data16.resize(samples);
  } else {
    image.data8.resize(samples);
  }
  std::vector<png_bytep> rows = row_pointers(image);
  if (!read_rows(h.png, h.info, rows.data())) {
    throw IoError("cannot decode PNG '" + path + "': " + error.message);
  }
  return image;
}

namespace {

void append_bytes(png_structp png, png_bytep data, png_size_t length) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  out->append(reinterpret_cast<const char*>(data), length);
}

void flush_nothing(png_structp) {}

struct WriteHandles {
  png_structp png = nullptr;
  png_infop info = nullptr;
  ~WriteHandles() { png_destroy_write_struct(&png, info ? &info : nullptr); }
};

int color_type_of(const PngImage& image) {
  if (image.is_palette()) return PNG_COLOR_TYPE_PALETTE;
  switch (image.channels) {
    case 1: return PNG_COLOR_TYPE_GRAY;
    case 2: return PNG_COLOR_TYPE_GRAY_ALPHA;
    case 3: return PNG_COLOR_TYPE_RGB;
    default: return PNG_COLOR_TYPE_RGB_ALPHA;
  }
}

bool encode(png_structp png, png_infop info, const PngImage* image, const png_color* palette, int num_palette,
            int level, std::string* out, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, append_bytes, flush_nothing);
  png_set_compression_level(png, level);
  png_set_IHDR(png, info, static_cast<png_uint_32>(image->width), static_cast<png_uint_32>(image->height),
               image->bit_depth, color_type_of(*image), PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (num_palette > 0) png_set_PLTE(png, info, palette, num_palette);
  png_write_info(png, info);
  if (image->bit_depth == 16 && kLittleEndian) png_set_swap(png);
  png_write_image(png, rows);
  png_write_end(png, nullptr);
  return true;
}

void check_writable(const std::string& path, const PngImage& image) {
  const auto fail = [&](const std::string& why) { throw IoError("cannot write PNG '" + path + "': " + why); };
  if (image.width <= 0 || image.height <= 0) fail("empty image");
  if (image.channels < 1 || image.channels > 4) fail("channels must be 1 to 4");
  if (image.bit_depth != 8 && image.bit_depth != 16) fail("bit depth must be 8 or 16");
  if (image.is_palette() && (image.channels != 1 || image.bit_depth != 8 || image.palette.size() > 256)) {
    fail("a palette image needs one 8-bit channel and at most 256 colours");
  }
  const size_t samples = image.num_pixels() * static_cast<size_t>(image.channels);
  const size_t have = image.bit_depth == 16 ? image.data16.size() : image.data8.size();
  if (have != samples) fail("holds " + std::to_string(have) + " samples, expected " + std::to_string(samples));
}

}  // namespace

void write_png(const std::string& path, const PngImage& image, int compression_level) {
  check_writable(path, image);
  ErrorState error;
  WriteHandles h;
  h.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error, on_error, on_warning);
  if (h.png) h.info = png_create_info_struct(h.png);
  if (!h.png || !h.info) throw IoError("cannot write PNG '" + path + "': out of memory");
  std::vector<png_color> palette;
  for (const auto& c : image.palette) palette.push_back({c[0], c[1], c[2]});
  std::vector<png_bytep> rows = row_pointers(image);
  std::string bytes;
  if (!encode(h.png, h.info, &image, palette.data(), static_cast<int>(palette.size()), compression_level, &bytes,
              rows.data())) {
    throw IoError("cannot write PNG '" + path + "': " + error.message);
  }
  core::write_file_atomic(path, bytes);
}

std::vector<uint32_t> png_to_ids(const PngImage& image, const std::string& path) {
  const size_t n = image.num_pixels();
  std::vector<uint32_t> ids(n);
  if (image.channels == 1) {
    if (image.bit_depth == 16) {
      for (size_t i = 0; i < n; ++i) ids[i] = image.data16[i];
    } else {
      for (size_t i = 0; i < n; ++i) ids[i] = image.data8[i];
    }
    return ids;
  }
  if ((image.channels == 3 || image.channels == 4) && image.bit_depth == 8) {
    const uint8_t* p = image.data8.data();
    const size_t step = static_cast<size_t>(image.channels);
    for (size_t i = 0; i < n; ++i, p += step) ids[i] = p[0] + 256u * p[1] + 65536u * p[2];
    return ids;
  }
  throw DataError("'" + path + "': expected a one-channel or 8-bit RGB PNG for ids, got " +
                  std::to_string(image.channels) + " channels of " + std::to_string(image.bit_depth) + " bits");
}

PngImage ids_to_rgb(const std::vector<uint32_t>& ids, int width, int height) {
  PngImage image = PngImage::rgb(width, height);
  if (ids.size() != image.num_pixels()) {
    throw DataError("ids_to_rgb: " + std::to_string(ids.size()) + " ids for a " + std::to_string(width) + "x" +
                    std::to_string(height) + " image");
  }
  uint8_t* p = image.data8.data();
  for (uint32_t id : ids) {
    if (id >= (1u << 24)) throw DataError("ids_to_rgb: id " + std::to_string(id) + " does not fit in 24 bits");
    *p++ = static_cast<uint8_t>(id & 255u);
    *p++ = static_cast<uint8_t>((id >> 8) & 255u);
    *p++ = static_cast<uint8_t>(id >> 16);
  }
  return image;
}

std::vector<uint8_t> png_to_labels8(const PngImage& image, const std::string& path) {
  if (image.channels != 1) {
    throw DataError("'" + path + "': expected a one-channel (index, palette or gray) label PNG, got " +
                    std::to_string(image.channels) + " channels");
  }
  if (image.bit_depth == 8) return image.data8;
  std::vector<uint8_t> labels(image.data16.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    if (image.data16[i] > 255) {
      throw DataError("'" + path + "': label value " + std::to_string(image.data16[i]) + " at pixel (" +
                      std::to_string(i % image.width) + ", " + std::to_string(i / image.width) +
                      ") does not fit in 8 bits");
    }
    labels[i] = static_cast<uint8_t>(image.data16[i]);
  }
  return labels;
}

}  // namespace deeplab::data
