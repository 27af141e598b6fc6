// Cityscapes layout: labelIds -> trainIds against the official table for
// every id (and license plate), 16-bit instanceIds intact (read only where
// they are used), and the descriptor YAML agreeing with the compiled-in table.

#include "deeplab/data/cityscapes_dataset.h"

#include <gtest/gtest.h>

#include <set>

#include "deeplab/core/error.h"
#include "deeplab/data/cityscapes_labels.h"
#include "deeplab/data/dataset_factory.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

DatasetDescriptor cityscapes_descriptor() {
  return load_descriptor(testing::source_dir() + "/datasets/cityscapes.yaml");
}

TEST(CityscapesDescriptor, AgreesWithTheOfficialTable) {
  const DatasetDescriptor d = cityscapes_descriptor();
  EXPECT_EQ(d.classes, cityscapes_train_class_names());
  EXPECT_EQ(d.palette, cityscapes_train_palette());
  const auto lut = cityscapes_id_to_train_id();
  for (int v = 0; v < 256; ++v)
    EXPECT_EQ(d.label_map[static_cast<size_t>(v)], lut[static_cast<size_t>(v)]) << "id " << v;
  std::vector<int> things;
  for (const auto& l : cityscapes_labels()) {
    if (l.has_instances && l.train_id >= 0 && l.train_id < 19) things.push_back(l.train_id);
  }
  EXPECT_EQ(d.things, things);
}

struct CityscapesFixture : ::testing::Test {
  TempDir dir;
  const std::string stem = "/leftImg8bit/train/aachen/aachen_000000_000019";
  const std::string gt = "/gtFine/train/aachen/aachen_000000_000019";
  cv::Mat ids = cv::Mat(2, 35, CV_8UC1);
  cv::Mat instances = cv::Mat(2, 35, CV_16UC1, cv::Scalar(7));

  void SetUp() override {
    for (int x = 0; x < 34; ++x) ids.col(x).setTo(x);
    ids.col(34).setTo(255);  // license plate (id -1) as an 8-bit PNG stores it
    instances.at<uint16_t>(0, 0) = 26001;
    instances.at<uint16_t>(0, 1) = 33000;
    instances.at<uint16_t>(1, 2) = 65535;
    fixtures::write_rgb(dir.path() + stem + "_leftImg8bit.png", cv::Mat(2, 35, CV_8UC3, cv::Scalar(9, 99, 199)));
    std::filesystem::create_directories(dir.path() + "/gtFine/train/aachen");
    write_gray8_label(ids, dir.path() + gt + "_gtFine_labelIds.png");
    write_gray16_label(instances, dir.path() + gt + "_gtFine_instanceIds.png");
  }
};

TEST_F(CityscapesFixture, MapsEveryLabelIdToTheOfficialTrainId) {
  CityscapesDataset ds(dir.path(), "train", cityscapes_descriptor(), true);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds.id(0), "aachen_000000_000019");
  const Sample s = ds.get(0);
  for (int x = 0; x < 34; ++x) {
    const CityscapesLabel* l = cityscapes_label_by_id(x);
    ASSERT_NE(l, nullptr);
    const int expected = l->train_id < 0 ? 255 : l->train_id;
    EXPECT_EQ(s.label.at<uint8_t>(0, x), expected) << l->name;
  }
  EXPECT_EQ(cityscapes_label_by_id(-1)->train_id, -1);
  EXPECT_EQ(s.label.at<uint8_t>(0, 34), 255) << "license plate must be ignored";
}

TEST_F(CityscapesFixture, KeepsSixteenBitInstanceIdsIntact) {
  CityscapesDataset ds(dir.path(), "train", cityscapes_descriptor(), true);
  const Sample s = ds.get(0);
  ASSERT_EQ(s.instances.type(), CV_32SC1);
  EXPECT_EQ(s.instances.at<int32_t>(0, 0), 26001);
  EXPECT_EQ(s.instances.at<int32_t>(0, 1), 33000);
  EXPECT_EQ(s.instances.at<int32_t>(1, 2), 65535);
  EXPECT_EQ(s.instances.at<int32_t>(1, 3), 7);
}

// Training would decode, augment and collate the 16-bit instance map for
// nothing; only iIoU scoring (and panoptic targets) use it.
TEST_F(CityscapesFixture, PlainCityscapesReadsInstanceIdsForEvaluationOnly) {
  DataConfig config;
  config.dataset = "cityscapes";
  config.root = dir.path();
  EXPECT_TRUE(make_dataset(config, "train", DatasetUse::kTraining)->get(0).instances.empty());
  EXPECT_EQ(make_dataset(config, "train", DatasetUse::kEvaluation)->get(0).instances.at<int32_t>(0, 0), 26001);
  config.dataset = "cityscapes_panoptic";
  EXPECT_EQ(make_dataset(config, "train", DatasetUse::kTraining)->get(0).instances.at<int32_t>(0, 0), 26001);

  std::filesystem::remove(dir.path() + gt + "_gtFine_instanceIds.png");
  EXPECT_THROW(make_dataset(config, "train", DatasetUse::kTraining)->get(0), IoError) << "panoptic targets need them";
  config.dataset = "cityscapes";
  EXPECT_TRUE(make_dataset(config, "train", DatasetUse::kEvaluation)->get(0).instances.empty()) << "iIoU is optional";
}

TEST_F(CityscapesFixture, MissingSplitAndLabelNameThePath) {
  try {
    CityscapesDataset(dir.path(), "val", cityscapes_descriptor(), false);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("leftImg8bit/val"), std::string::npos) << e.what();
  }
  std::filesystem::remove(dir.path() + gt + "_gtFine_labelIds.png");
  try {
    CityscapesDataset(dir.path(), "train", cityscapes_descriptor(), false).get(0);
    FAIL();
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("_gtFine_labelIds.png"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::data
