#pragma once
// Small on-disk fixtures shared by the data tests (header-only: the test
// binary globs only *_test.cpp).

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "deeplab/data/label_writer.h"
#include "tests/support/test_support.h"

namespace deeplab::data::fixtures {

/// Writes an RGB image (JPEG or PNG by extension), creating directories.
inline void write_rgb(const std::string& path, const cv::Mat& rgb) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  cv::imwrite(path, bgr, {cv::IMWRITE_JPEG_QUALITY, 95});
}

inline void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

/// A VOC-layout dataset: ids with their label maps, a gray-gradient image each,
/// labels as palette PNGs with `palette`, all ids listed in `split`.txt.
inline void write_voc(const std::string& root, const std::map<std::string, cv::Mat>& labels,
                      const std::vector<Rgb>& palette, const std::string& split = "train") {
  std::string list;
  for (const auto& [id, label] : labels) {
    cv::Mat image(label.size(), CV_8UC3);
    for (int y = 0; y < image.rows; ++y)
      for (int x = 0; x < image.cols; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 7 % 256, y * 5 % 256, 128);
    write_rgb(root + "/JPEGImages/" + id + ".jpg", image);
    std::filesystem::create_directories(root + "/SegmentationClass");
    write_palette_label(label, palette, root + "/SegmentationClass/" + id + ".png");
    list += id + "\n";
  }
  write_text(root + "/ImageSets/Segmentation/" + split + ".txt", list);
}

/// The message of what `f` throws; fails the test when it throws nothing.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

/// True when /usr/bin/python3 exists and imports every module named.
inline bool python_has(const std::string& modules) {
  const std::string cmd = deeplab::testing::oracle_python() + " -c 'import " + modules + "' >/dev/null 2>&1";
  return std::filesystem::exists(deeplab::testing::oracle_python()) && std::system(cmd.c_str()) == 0;
}

/// Runs /usr/bin/python3 on a script with arguments; returns the exit code and output.
inline std::pair<int, std::string> run_python(const std::string& script, const std::string& args) {
  const std::string cmd = deeplab::testing::oracle_python() + " " + script + " " + args + " 2>&1";
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) return {-1, out};
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace deeplab::data::fixtures
