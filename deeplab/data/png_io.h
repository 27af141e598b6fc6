#pragma once
// PNG reading and writing with libpng, for label maps and id images.
//
// Label PNGs must be read as stored: a palette ("P" mode) PNG such as a VOC
// `SegmentationClass` file holds class *indices*, and expanding it to colours
// (what OpenCV does) loses them.  So nothing here expands palettes, scales
// low bit depths or drops the 16th bit:
//
//   palette PNG     -> channels 1, bit_depth 8, values = palette indices, `palette` filled
//   gray 1/2/4/8    -> channels 1, bit_depth 8, values as stored (a 1-bit 1 stays 1)
//   gray 16         -> channels 1, bit_depth 16 (Cityscapes `*_instanceIds.png`)
//   gray+alpha      -> channels 2;  RGB -> 3;  RGBA -> 4 (8 or 16 bits)
//
// Samples are row-major and channel-interleaved; 8-bit images fill `data8`,
// 16-bit images fill `data16` (host byte order).  No torch needed.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace deeplab::data {

/// A decoded PNG: size, layout, and the samples in `data8` or `data16`.
struct PngImage {
  int width = 0;
  int height = 0;
  int channels = 1;                             // 1 gray or palette index, 2 gray+alpha, 3 RGB, 4 RGBA
  int bit_depth = 8;                            // 8 or 16
  std::vector<std::array<uint8_t, 3>> palette;  // non-empty: a palette PNG, samples are indices
  std::vector<uint8_t> data8;                   // bit_depth 8: width*height*channels samples
  std::vector<uint16_t> data16;                 // bit_depth 16: width*height*channels samples

  size_t num_pixels() const { return static_cast<size_t>(width) * static_cast<size_t>(height); }
  bool is_palette() const { return !palette.empty(); }
  /// One sample as an integer, whatever the depth.
  uint32_t sample(size_t pixel, int channel = 0) const {
    const size_t i = pixel * static_cast<size_t>(channels) + static_cast<size_t>(channel);
    return bit_depth == 16 ? data16[i] : data8[i];
  }

  /// An all-zero single-channel image of 8 or 16 bits.
  static PngImage gray(int width, int height, int bit_depth = 8);
  /// An all-zero 8-bit RGB image.
  static PngImage rgb(int width, int height);
  /// An all-zero palette image (indices in `data8`) with the given colours (at most 256).
  static PngImage indexed(int width, int height, std::vector<std::array<uint8_t, 3>> palette);
};

/// Reads a PNG without palette expansion; throws IoError naming the file.
PngImage read_png(const std::string& path);

/// Writes `image` (palette, gray, gray+alpha, RGB or RGBA; 8 or 16 bits) atomically;
/// throws IoError naming the file.
void write_png(const std::string& path, const PngImage& image, int compression_level = 6);

/// Per-pixel integer ids: the value of a one-channel image (palette index or gray
/// level), or `R + 256 G + 256^2 B` for RGB/RGBA (COCO panoptic segment ids).
/// Throws DataError naming `path` for other layouts.
std::vector<uint32_t> png_to_ids(const PngImage& image, const std::string& path = "");

/// The RGB image that stores `ids` (each < 2^24) as `R + 256 G + 256^2 B`.
PngImage ids_to_rgb(const std::vector<uint32_t>& ids, int width, int height);

/// A one-channel image as 8-bit values; throws DataError naming `path` when it
/// has several channels or a 16-bit value above 255.
std::vector<uint8_t> png_to_labels8(const PngImage& image, const std::string& path = "");

}  // namespace deeplab::data
