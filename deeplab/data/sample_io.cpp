#include "deeplab/data/sample_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <fstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {

bool starts_with(const std::string& bytes, const char* magic, size_t n) {
  return bytes.size() >= n && bytes.compare(0, n, magic, n) == 0;
}

// True when `bytes` start as one of the formats photos come in (what
// image_files lists).  OpenCV would try every codec it has on anything else,
// DICOM and GDAL's among them, and GDCM aborts the process on some inputs.
bool known_image_format(const std::string& bytes) {
  if (starts_with(bytes, "\xFF\xD8\xFF", 3) || starts_with(bytes, "\x89PNG\r\n\x1A\n", 8)) return true;
  if (starts_with(bytes, "BM", 2) || starts_with(bytes, "II*\0", 4) || starts_with(bytes, "MM\0*", 4)) return true;
  if (bytes.size() >= 12 && starts_with(bytes, "RIFF", 4) && bytes.compare(8, 4, "WEBP") == 0) return true;
  return bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6';  // PBM, PGM, PPM
}

}  // namespace

std::string image_cut_short(const std::string& bytes) {
  const auto last = [&bytes](const char* marker) { return bytes.rfind(marker); };
  if (starts_with(bytes, "\xFF\xD8", 2)) {
    // The end-of-image marker must follow the last start-of-scan (FF never
    // comes unescaped inside scan data, and an EXIF thumbnail's own markers
    // come before the main image's scans); a trailer after it is fine.
    const size_t end = last("\xFF\xD9"), scan = last("\xFF\xDA");
    if (end != std::string::npos && (scan == std::string::npos || end > scan)) return "";
    return "the JPEG ends before its end-of-image marker (cut short?)";
  }
  if (starts_with(bytes, "\x89PNG\r\n\x1A\n", 8)) {
    const size_t end = last("IEND"), data = last("IDAT");
    if (end != std::string::npos && (data == std::string::npos || end > data)) return "";
    return "the PNG ends before its IEND chunk (cut short?)";
  }
  return "";
}

cv::Mat read_rgb_image(const std::string& path) {
  if (!fs::is_regular_file(path)) throw IoError("image not found: " + path);
  const std::string bytes = core::read_file(path);
  const std::string cut = image_cut_short(bytes);
  if (!cut.empty()) throw IoError("cannot decode image: " + path + ": " + cut);
  if (bytes.empty()) throw IoError("cannot decode image: " + path + ": the file is empty");
  if (!known_image_format(bytes)) {
    throw IoError("cannot decode image: " + path +
                  ": not a JPEG, PNG, BMP, TIFF, WebP or PPM/PGM file (its first "
                  "bytes match none of them)");
  }
  cv::Mat bgr;
  try {
    bgr = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
                       cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw IoError("cannot decode image (corrupt or unsupported): " + path + ": " + e.msg);
  }
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
        throw DataError("label value " + std::to_string(v) + " at (x=" + std::to_string(x) +
                        ", y=" + std::to_string(y) + ") in " + path + " is outside [0, " + std::to_string(num_classes) +
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
