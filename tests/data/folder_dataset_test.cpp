// Folder dataset: images/ + masks/ (gray or palette), split lists, label map.

#include "deeplab/data/folder_dataset.h"

#include <gtest/gtest.h>

#include "deeplab/core/error.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

struct Folder : ::testing::Test {
  TempDir dir;
  DatasetDescriptor descriptor;
  void SetUp() override {
    descriptor = load_descriptor(dir.write("d.yaml", "classes: [bg, cat, dog]\nlabel_map: {0: 0, 128: 1, 255: 2}\n"));
    const cv::Mat image(3, 4, CV_8UC3, cv::Scalar(10, 20, 30));
    cv::Mat gray(3, 4, CV_8UC1, cv::Scalar(128));
    gray.at<uint8_t>(0, 0) = 255;
    gray.at<uint8_t>(2, 3) = 77;  // unlisted -> ignore
    fixtures::write_rgb(dir.path() + "/images/b.png", image);
    fixtures::write_rgb(dir.path() + "/images/a.jpg", image);
    std::filesystem::create_directories(dir.path() + "/masks");
    write_gray8_label(gray, dir.path() + "/masks/b.png");
    write_palette_label(cv::Mat(3, 4, CV_8UC1, cv::Scalar(0)), voc_colormap(), dir.path() + "/masks/a.png");
  }
};

TEST_F(Folder, ReadsGrayAndPaletteMasksThroughTheLabelMap) {
  FolderDataset ds(dir.path(), "train", descriptor);
  ASSERT_EQ(ds.size(), 2u);  // no list files: every image, sorted
  EXPECT_EQ(ds.id(0), "a");
  EXPECT_EQ(cv::countNonZero(ds.get(0).label), 0);
  const Sample b = ds.get(1);
  EXPECT_EQ(b.label.at<uint8_t>(0, 0), 2);
  EXPECT_EQ(b.label.at<uint8_t>(1, 1), 1);
  EXPECT_EQ(b.label.at<uint8_t>(2, 3), 255);
}

TEST_F(Folder, SplitListsSelectAndAMissingOneIsNamed) {
  fixtures::write_text(dir.path() + "/train.txt", "b\n");
  FolderDataset ds(dir.path(), "train", descriptor);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.id(0), "b");
  try {
    FolderDataset(dir.path(), "val", descriptor);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + "/val.txt"), std::string::npos) << e.what();
  }
}

TEST_F(Folder, MissingMasksDirectoryIsNamed) {
  std::filesystem::remove_all(dir.path() + "/masks");
  try {
    FolderDataset(dir.path(), "train", descriptor);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + "/masks"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::data
