// What `deeplab predict` is given, sorted out: folders searched recursively
// and in order, names that keep the sub-folders, videos apart, and every
// bad input an IoError naming it.

#include "deeplab/data/image_files.h"

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "deeplab/core/error.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

std::string error_of(const std::vector<std::string>& inputs) {
  try {
    collect_input_files(inputs);
  } catch (const IoError& e) {
    return e.what();
  }
  return "";
}

TEST(ImageFiles, FoldersAreSearchedRecursivelyInOrder) {
  testing::TempDir dir;
  dir.write("in/z.jpg", "");
  dir.write("in/a/b.PNG", "");
  dir.write("in/a/c.txt", "");
  dir.write("in/m.mp4", "");
  const std::string single = dir.write("one.jpeg", "");
  const InputFiles files = collect_input_files({dir.path() + "/in", single});
  ASSERT_EQ(files.images.size(), 3u);
  EXPECT_EQ(files.images[0].name, "a/b");
  EXPECT_EQ(files.images[1].name, "z");
  EXPECT_EQ(files.images[2].name, "one");
  EXPECT_EQ(files.images[2].path, single);
  ASSERT_EQ(files.videos.size(), 1u);
  EXPECT_EQ(files.videos[0].name, "m");
}

TEST(ImageFiles, BadInputsNameThePath) {
  testing::TempDir dir;
  EXPECT_NE(error_of({dir.path() + "/nope"}).find("/nope: no such file or folder"), std::string::npos);
  dir.write("empty/readme.txt", "");
  EXPECT_NE(error_of({dir.path() + "/empty"}).find("/empty: no image or video files"), std::string::npos);
  EXPECT_NE(error_of({dir.write("x.txt", "")}).find("x.txt: not an image"), std::string::npos);
  const std::string a = dir.write("a/photo.jpg", ""), b = dir.write("b/photo.png", "");
  EXPECT_NE(error_of({a, b}).find("would both write outputs named 'photo'"), std::string::npos);
}

TEST(ImageFiles, DatasetReadsImagesWithIgnoreLabels) {
  testing::TempDir dir;
  const std::string good = dir.file("good.png"), broken = dir.write("broken.jpg", "not an image");
  ASSERT_TRUE(cv::imwrite(good, cv::Mat(3, 4, CV_8UC3, cv::Scalar(10, 20, 30))));  // B, G, R
  const ImageFilesDataset dataset({{good, "sub/good"}, {broken, "broken"}}, 21, 255);
  const Sample s = dataset.get(0);
  EXPECT_EQ(s.id, "sub/good");
  EXPECT_EQ(s.image.at<cv::Vec3b>(2, 3), cv::Vec3b(30, 20, 10)) << "RGB, as every dataset gives it";
  EXPECT_EQ(cv::countNonZero(s.label != 255), 0);
  EXPECT_EQ(s.label.size(), s.image.size());
  EXPECT_THROW(dataset.get(1), IoError);
}

}  // namespace
}  // namespace deeplab::data
