// ADE20K and COCO-Stuff: the synthetic layouts read through the real
// descriptors give exactly the classes the generator drew (so the label maps
// are right end to end), the factory builds them by name, and a missing
// annotation or an id out of range names the file.

#include "deeplab/data/scene_parsing_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/data/data_config.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/synth/synth_writer.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

DatasetDescriptor descriptor(const std::string& name) {
  return load_descriptor(testing::source_dir() + "/datasets/" + name + ".yaml");
}

void synthesize(const std::string& layout, const std::string& out, int num = 5) {
  synth::SynthOptions o;
  o.layout = layout;
  o.out = out;
  o.num = num;
  o.height = 64;
  o.width = 80;
  o.val_fraction = 0.4;
  synth::write_synthetic_dataset(o);
}

// The class names of every train id in the dataset's labels (255 as "ignore").
std::set<std::string> names_present(const Dataset& ds, const DatasetDescriptor& d) {
  std::set<std::string> names;
  for (size_t i = 0; i < ds.size(); ++i) {
    const cv::Mat label = ds.get(i).label;
    for (int y = 0; y < label.rows; ++y)
      for (int x = 0; x < label.cols; ++x) {
        const int v = label.at<uint8_t>(y, x);
        names.insert(v == 255 ? "ignore" : d.classes.at(static_cast<size_t>(v)));
      }
  }
  return names;
}

TEST(SceneParsing, Ade20kLayoutReadsAsTheClassesDrawn) {
  TempDir dir;
  synthesize("ade20k", dir.path());
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/images/training/ADE_train_00000001.jpg"));
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/annotations/validation/ADE_val_00000002.png"));
  const DatasetDescriptor d = descriptor("ade20k");
  ASSERT_EQ(d.num_classes(), 150);
  SceneParsingDataset train(ade20k_layout(dir.path(), "training"), d);
  SceneParsingDataset val(ade20k_layout(dir.path(), "validation"), d);
  EXPECT_EQ(train.size(), 3u);
  EXPECT_EQ(val.size(), 2u);
  EXPECT_EQ(train.id(0), "ADE_train_00000001");
  const std::set<std::string> drawn = {"floor", "person", "car", "bed", "chair", "table", "plant", "ignore"};
  const auto present = names_present(train, d);
  for (const auto& name : present) EXPECT_TRUE(drawn.count(name)) << name;
  EXPECT_TRUE(present.count("ignore")) << "the 'other' band (0) must read as the ignore label";
  EXPECT_GE(present.size(), 5u);
}

TEST(SceneParsing, CocoStuffLayoutReadsAsTheClassesDrawn) {
  TempDir dir;
  synthesize("coco_stuff", dir.path());
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/images/val2017/000000000005.jpg"));
  EXPECT_TRUE(fs::is_regular_file(dir.path() + "/stuffthingmaps_trainval2017/train2017/000000000001.png"));
  const DatasetDescriptor d = descriptor("coco_stuff");
  ASSERT_EQ(d.num_classes(), 171);
  SceneParsingDataset train(coco_stuff_layout(dir.path(), "train2017"), d);
  const std::set<std::string> drawn = {"grass", "person", "airplane", "bus", "dog", "bottle", "chair", "ignore"};
  const auto present = names_present(train, d);
  for (const auto& name : present) EXPECT_TRUE(drawn.count(name)) << name;
  EXPECT_TRUE(present.count("grass") && present.count("ignore"));
}

TEST(SceneParsing, FactoryBuildsEachKindByName) {
  TempDir ade, coco;
  synthesize("ade20k", ade.path());
  synthesize("coco_stuff", coco.path());
  DataConfig config;
  config.dataset = "ade20k";
  config.root = ade.path();
  EXPECT_EQ(make_dataset(config, "validation", DatasetUse::kEvaluation)->size(), 2u);
  config.dataset = "coco_stuff";
  config.root = coco.path();
  EXPECT_EQ(make_dataset(config, "train2017", DatasetUse::kTraining)->num_classes(), 171);
}

TEST(SceneParsing, MissingAnnotationNamesTheFileExpected) {
  TempDir dir;
  synthesize("ade20k", dir.path());
  const std::string gone = dir.path() + "/annotations/training/ADE_train_00000002.png";
  fs::remove(gone);
  const std::string message =
      fixtures::error_of([&] { SceneParsingDataset(ade20k_layout(dir.path(), "training"), descriptor("ade20k")); });
  EXPECT_NE(message.find("expected " + gone), std::string::npos) << message;
  EXPECT_NE(message.find("ADE_train_00000002.jpg"), std::string::npos) << message;
}

TEST(SceneParsing, IdOutOfRangeNamesTheFileAndValue) {
  TempDir ade, coco;
  synthesize("ade20k", ade.path());
  synthesize("coco_stuff", coco.path());
  const std::string ade_png = ade.path() + "/annotations/training/ADE_train_00000001.png";
  cv::Mat label(64, 80, CV_8UC1, cv::Scalar(12));
  label.at<uint8_t>(5, 7) = 151;
  write_gray8_label(label, ade_png);
  SceneParsingDataset ds(ade20k_layout(ade.path(), "training"), descriptor("ade20k"));
  std::string message = fixtures::error_of([&] { ds.get(0); });
  for (const char* part : {"annotation id 151", "(x=7, y=5)", "expected 0..150"})
    EXPECT_NE(message.find(part), std::string::npos) << part << " not in " << message;
  EXPECT_NE(message.find(ade_png), std::string::npos) << message;

  // COCO-Stuff: 255 is unlabeled, 182..254 are not ids.
  const std::string coco_png = coco.path() + "/stuffthingmaps_trainval2017/train2017/000000000001.png";
  label.setTo(255);
  write_gray8_label(label, coco_png);
  SceneParsingDataset cs(coco_stuff_layout(coco.path(), "train2017"), descriptor("coco_stuff"));
  EXPECT_NO_THROW(cs.get(0));
  label.at<uint8_t>(1, 2) = 200;
  write_gray8_label(label, coco_png);
  message = fixtures::error_of([&] { cs.get(0); });
  EXPECT_NE(message.find("annotation id 200"), std::string::npos) << message;
  EXPECT_NE(message.find("expected 0..181 or 255"), std::string::npos) << message;
}

}  // namespace
}  // namespace deeplab::data
