// Pictures are encoded by extension and written atomically: what is read back
// is what was written (PNG exactly, JPEG closely), an unknown extension is an
// IoError naming the file, and a failed write leaves the previous file as it was.

#include "deeplab/data/image_writer.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

cv::Mat gradient_rgb() {
  cv::Mat rgb(16, 24, CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    for (int x = 0; x < rgb.cols; ++x) rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(10 * x, 15 * y, 128);
  }
  return rgb;
}

TEST(ImageWriter, RgbPngReadsBackExactlyAndJpegClosely) {
  testing::TempDir dir;
  const cv::Mat rgb = gradient_rgb();
  write_rgb_image(rgb, dir.file("a.png"));
  cv::Mat back = cv::imread(dir.file("a.png"), cv::IMREAD_COLOR);
  cv::cvtColor(back, back, cv::COLOR_BGR2RGB);
  EXPECT_EQ(cv::norm(back, rgb, cv::NORM_INF), 0);

  write_rgb_image(rgb, dir.file("a.jpg"), {cv::IMWRITE_JPEG_QUALITY, 98});
  cv::Mat jpeg = cv::imread(dir.file("a.jpg"), cv::IMREAD_COLOR);
  cv::cvtColor(jpeg, jpeg, cv::COLOR_BGR2RGB);
  EXPECT_LT(cv::norm(jpeg, rgb, cv::NORM_L1) / rgb.total() / 3, 3.0);
  EXPECT_TRUE(std::filesystem::exists(dir.file("a.jpg")));
}

TEST(ImageWriter, UnknownExtensionIsAnErrorNamingTheFile) {
  testing::TempDir dir;
  const std::string path = dir.file("picture.xyz");
  try {
    write_bgr_image(gradient_rgb(), path);
    FAIL() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write '" + path + "'"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(ImageWriter, AFailedWriteLeavesThePreviousFile) {
  testing::TempDir dir;
  const std::string path = dir.file("vis.png");
  write_rgb_image(gradient_rgb(), path);
  const std::string before = core::read_file(path);
  core::fail_next_atomic_write_after(10);
  EXPECT_THROW(write_rgb_image(cv::Mat(8, 8, CV_8UC3, cv::Scalar(1, 2, 3)), path), IoError);
  EXPECT_TRUE(core::read_file(path) == before);
}

}  // namespace
}  // namespace deeplab::data
