#include "deeplab/data/sample_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>

#include "deeplab/core/error.h"

namespace deeplab::data {
namespace fs = std::filesystem;

cv::Mat read_rgb_image(const std::string& path) {
  if (!fs::is_regular_file(path)) throw IoError("image not found: " + path);
  cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
  if (bgr.empty()) throw IoError("cannot decode image (corrupt or unsupported): " + path);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

void map_labels(cv::Mat& label, const std::vector<uint8_t>& lut) {
  CV_Assert(label.type() == CV_8UC1 && lut.size() == 256);
  for (int y = 0; y < label.rows; ++y) {
    uint8_t* row = label.ptr<uint8_t>(y);
    for (int x = 0; x < label.cols; ++x) row[x] = lut[row[x]];
  }
}

void check_label_values(const cv::Mat& label, int num_classes, int ignore, const std::string& path) {
  CV_Assert(label.type() == CV_8UC1);
  for (int y = 0; y < label.rows; ++y) {
    const uint8_t* row = label.ptr<uint8_t>(y);
    for (int x = 0; x < label.cols; ++x) {
      const int v = row[x];
      if (v >= num_classes && v != ignore) {
        throw DataError("label value " + std::to_string(v) + " at (x=" + std::to_string(x) + ", y=" +
                        std::to_string(y) + ") in " + path + " is outside [0, " + std::to_string(num_classes) +
                        ") and not the ignore label " + std::to_string(ignore));
      }
    }
  }
}

void check_same_size(const cv::Mat& image, const std::string& image_path, const cv::Mat& label,
                     const std::string& label_path) {
  if (image.size() == label.size()) return;
  auto wxh = [](const cv::Mat& m) { return std::to_string(m.cols) + "x" + std::to_string(m.rows); };
  throw DataError("size mismatch: image " + image_path + " is " + wxh(image) + " (WxH) but label " + label_path +
                  " is " + wxh(label));
}

std::vector<std::string> read_id_list(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("split list not found: " + path);
  std::vector<std::string> ids;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_first_of(" \t\r", first);  // SBD lists may carry a second column
    ids.push_back(line.substr(first, last == std::string::npos ? std::string::npos : last - first));
  }
  return ids;
}

void require_directory(const std::string& path, const std::string& what) {
  if (!fs::is_directory(path)) throw IoError(what + " not found: " + path);
}

}  // namespace deeplab::data
