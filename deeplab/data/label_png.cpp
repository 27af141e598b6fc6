// Label PNG <-> cv::Mat, on top of png_io (palette indices, 16-bit intact).

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/png_io.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {

cv::Mat read_label_png(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw IoError("label not found: " + path);
  const PngImage png = read_png(path);
  if (png.channels != 1) {
    throw DataError("label " + path + " has " + std::to_string(png.channels) +
                    " channels; expected a single-channel or palette PNG of class indices");
  }
  if (png.bit_depth == 16) {
    cv::Mat out(png.height, png.width, CV_16UC1);
    std::copy(png.data16.begin(), png.data16.end(), out.ptr<uint16_t>());
    return out;
  }
  cv::Mat out(png.height, png.width, CV_8UC1);
  std::copy(png.data8.begin(), png.data8.end(), out.ptr<uint8_t>());
  return out;
}

void write_palette_label(const cv::Mat& indices, const std::vector<Rgb>& palette, const std::string& path) {
  CV_Assert(indices.type() == CV_8UC1);
  PngImage png = PngImage::indexed(indices.cols, indices.rows, palette);
  for (int y = 0; y < indices.rows; ++y) {
    std::copy_n(indices.ptr<uint8_t>(y), indices.cols, png.data8.begin() + static_cast<long>(y) * indices.cols);
  }
  write_png(path, png);
}

void write_gray8_label(const cv::Mat& values, const std::string& path) {
  CV_Assert(values.type() == CV_8UC1);
  PngImage png = PngImage::gray(values.cols, values.rows, 8);
  for (int y = 0; y < values.rows; ++y) {
    std::copy_n(values.ptr<uint8_t>(y), values.cols, png.data8.begin() + static_cast<long>(y) * values.cols);
  }
  write_png(path, png);
}

void write_gray16_label(const cv::Mat& values, const std::string& path) {
  cv::Mat v16;
  if (values.type() == CV_16UC1) {
    v16 = values;
  } else {
    CV_Assert(values.type() == CV_32SC1);
    double lo = 0, hi = 0;
    cv::minMaxLoc(values, &lo, &hi);
    if (lo < 0 || hi > 65535) throw DataError("instance ids outside [0, 65535] cannot go to 16-bit PNG " + path);
    values.convertTo(v16, CV_16U);
  }
  PngImage png = PngImage::gray(v16.cols, v16.rows, 16);
  for (int y = 0; y < v16.rows; ++y) {
    std::copy_n(v16.ptr<uint16_t>(y), v16.cols, png.data16.begin() + static_cast<long>(y) * v16.cols);
  }
  write_png(path, png);
}

cv::Mat colorize_label(const cv::Mat& label, const DatasetDescriptor& descriptor) {
  CV_Assert(label.type() == CV_8UC1);
  cv::Mat out(label.size(), CV_8UC3);
  for (int y = 0; y < label.rows; ++y) {
    const uint8_t* in = label.ptr<uint8_t>(y);
    cv::Vec3b* row = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < label.cols; ++x) {
      const Rgb c = descriptor.color(in[x]);
      row[x] = cv::Vec3b(c[0], c[1], c[2]);
    }
  }
  return out;
}

}  // namespace deeplab::data
