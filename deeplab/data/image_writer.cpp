#include "deeplab/data/image_writer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::data {

void write_bgr_image(const cv::Mat& bgr, const std::string& path, const std::vector<int>& params) {
  const std::string extension = std::filesystem::path(path).extension().string();
  std::vector<uchar> encoded;
  bool ok = false;
  try {
    ok = !extension.empty() && cv::imencode(extension, bgr, encoded, params);
  } catch (const cv::Exception& e) {
    throw IoError("cannot write '" + path + "': OpenCV cannot encode a " + std::to_string(bgr.cols) + "x" +
                  std::to_string(bgr.rows) + " image as '" + extension + "': " + e.msg);
  }
  if (!ok) throw IoError("cannot write '" + path + "': OpenCV cannot encode an image as '" + extension + "'");
  core::write_file_atomic(path, std::string(encoded.begin(), encoded.end()));
}

void write_rgb_image(const cv::Mat& rgb, const std::string& path, const std::vector<int>& params) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  write_bgr_image(bgr, path, params);
}

}  // namespace deeplab::data
