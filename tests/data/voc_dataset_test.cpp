// VOC layout: palette indices (not colours) from the real sample and from a
// fixture with a foreign palette, and every bad-input error naming its culprit.

#include "deeplab/data/voc_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "deeplab/core/error.h"
#include "deeplab/data/dataset_factory.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

VocOptions opts(const std::string& root, const std::string& split) {
  VocOptions o;
  o.root = root;
  o.split = split;
  return o;
}

DatasetDescriptor voc_descriptor() { return load_descriptor(testing::source_dir() + "/datasets/voc.yaml"); }

std::map<int, int> histogram(const cv::Mat& label) {
  std::map<int, int> h;
  for (int y = 0; y < label.rows; ++y)
    for (int x = 0; x < label.cols; ++x) ++h[label.at<uint8_t>(y, x)];
  return h;
}

TEST(VocDataset, RealSampleGivesExactPaletteIndicesAndCounts) {
  const std::string samples = testing::samples_dir();
  if (samples.empty()) GTEST_SKIP() << "../shared/samples not found (set DEEPLAB_SAMPLES)";
  VocDataset ds(opts(samples + "/voc2012", "val"), voc_descriptor());
  ASSERT_EQ(ds.size(), 1u);
  const Sample s = ds.get(0);
  EXPECT_EQ(s.id, "2007_000063");
  EXPECT_EQ(s.image.cols, 500);
  EXPECT_EQ(s.image.rows, 375);
  EXPECT_EQ(histogram(s.label), (std::map<int, int>{{0, 72224}, {9, 78930}, {12, 27632}, {255, 8714}}));
}

TEST(VocDataset, ReadsIndicesNotColoursWithAForeignPalette) {
  TempDir dir;
  cv::Mat label(6, 8, CV_8UC1, cv::Scalar(0));
  label(cv::Rect(0, 0, 4, 3)).setTo(7);
  label(cv::Rect(4, 3, 4, 3)).setTo(20);
  label.at<uint8_t>(5, 0) = 255;
  std::vector<Rgb> palette(256);
  for (int i = 0; i < 256; ++i) palette[static_cast<size_t>(i)] = {uint8_t(255 - i), uint8_t(i * 3), uint8_t(i ^ 0x5a)};
  fixtures::write_voc(dir.path(), {{"a", label}}, palette);
  VocDataset ds(opts(dir.path(), "train"), voc_descriptor());
  const Sample s = ds.get(0);
  EXPECT_EQ(cv::countNonZero(s.label != label), 0);
}

struct BadVoc : ::testing::Test {
  TempDir dir;
  cv::Mat label = cv::Mat(4, 5, CV_8UC1, cv::Scalar(1));
  void SetUp() override { fixtures::write_voc(dir.path(), {{"a", label}}, voc_colormap()); }
  std::string error_of(const std::string& split = "train") {
    try {
      VocDataset(opts(dir.path(), split), voc_descriptor()).get(0);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(BadVoc, MissingRootAndListNameThePath) {
  try {
    VocDataset(opts(dir.path() + "/nope", "train"), voc_descriptor());
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir.path() + "/nope"), std::string::npos) << e.what();
  }
  EXPECT_NE(error_of("val").find("ImageSets/Segmentation/val.txt"), std::string::npos) << error_of("val");
}

TEST_F(BadVoc, MissingImageAndLabelNameTheFile) {
  std::filesystem::remove(dir.path() + "/SegmentationClass/a.png");
  EXPECT_NE(error_of().find("SegmentationClass/a.png"), std::string::npos) << error_of();
  std::filesystem::remove(dir.path() + "/JPEGImages/a.jpg");
  EXPECT_NE(error_of().find("JPEGImages/a.jpg"), std::string::npos) << error_of();
}

TEST_F(BadVoc, CorruptImageNamesTheFile) {
  fixtures::write_text(dir.path() + "/JPEGImages/a.jpg", "not a jpeg at all");
  const std::string e = error_of();
  EXPECT_NE(e.find("JPEGImages/a.jpg"), std::string::npos) << e;
  EXPECT_NE(e.find("decode"), std::string::npos) << e;
}

TEST_F(BadVoc, OutOfRangeLabelNamesFileAndValue) {
  label.at<uint8_t>(2, 3) = 42;
  write_palette_label(label, voc_colormap(), dir.path() + "/SegmentationClass/a.png");
  const std::string e = error_of();
  EXPECT_NE(e.find("SegmentationClass/a.png"), std::string::npos) << e;
  EXPECT_NE(e.find("42"), std::string::npos) << e;
}

TEST_F(BadVoc, SizeMismatchNamesBothSizes) {
  write_palette_label(cv::Mat(7, 9, CV_8UC1, cv::Scalar(0)), voc_colormap(), dir.path() + "/SegmentationClass/a.png");
  const std::string e = error_of();
  EXPECT_NE(e.find("5x4"), std::string::npos) << e;
  EXPECT_NE(e.find("9x7"), std::string::npos) << e;
}

TEST(DatasetFactory, BuildsFromConfigAndChecksIgnoreLabel) {
  TempDir dir;
  fixtures::write_voc(dir.path(), {{"a", cv::Mat(4, 4, CV_8UC1, cv::Scalar(3))}}, voc_colormap());
  DataConfig config;
  config.root = dir.path();
  EXPECT_EQ(make_dataset(config, "train", DatasetUse::kTraining)->num_classes(), 21);
  config.ignore_label = 0;
  EXPECT_THROW(make_dataset(config, "train", DatasetUse::kTraining), ConfigError);
}

}  // namespace
}  // namespace deeplab::data
