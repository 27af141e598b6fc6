// MATLAB label files: what we write reads back pixel for pixel (rows and
// columns not swapped: MATLAB stores column-major), and a missing file,
// variable or field is named.

#include "deeplab/data/mat_file.h"

#include <gtest/gtest.h>

#include "deeplab/core/error.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

std::string error_of(const std::string& path, const std::string& variable, const std::string& field = "") {
  try {
    read_mat_matrix(path, variable, field);
  } catch (const IoError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IoError for " << path;
  return "";
}

TEST(MatFile, WrittenMatrixReadsBackInImageOrder) {
  TempDir dir;
  cv::Mat m(3, 5, CV_16UC1);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) m.at<uint16_t>(y, x) = static_cast<uint16_t>(100 * y + x + 400);
  const std::string path = dir.file("m.mat");
  write_mat_matrix(path, "LabelMap", m);
  const cv::Mat back = read_mat_matrix(path, "LabelMap");
  ASSERT_EQ(back.type(), CV_32SC1);
  ASSERT_EQ(back.size(), m.size());
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) EXPECT_EQ(back.at<int32_t>(y, x), 100 * y + x + 400) << x << "," << y;
}

TEST(MatFile, MissingFileVariableOrFieldIsNamed) {
  TempDir dir;
  const std::string path = dir.file("m.mat");
  write_mat_matrix(path, "Labels", cv::Mat(2, 2, CV_16UC1, cv::Scalar(1)));
  const std::string none = error_of(path, "LabelMap");
  EXPECT_NE(none.find(path), std::string::npos) << none;
  EXPECT_NE(none.find("no variable 'LabelMap'"), std::string::npos) << none;
  const std::string not_struct = error_of(path, "Labels", "Segmentation");
  EXPECT_NE(not_struct.find("'Labels' is not a struct"), std::string::npos) << not_struct;
  EXPECT_NE(error_of(dir.file("none.mat"), "LabelMap").find("not found"), std::string::npos);
  const std::string junk = dir.write("junk.mat", "not a MAT file");
  EXPECT_NE(error_of(junk, "LabelMap").find(junk), std::string::npos);
}

}  // namespace
}  // namespace deeplab::data
