// PASCAL-Context: 459-class LabelMap files become the 60 labels through the
// descriptor's context_459_ids (every unlisted id is background), files
// scipy writes read as scipy sees them and the other way round, and a
// missing label, a .mat without LabelMap or an id past 459 names the file.

#include "deeplab/data/pascal_context_dataset.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/data/data_config.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/mat_file.h"
#include "deeplab/data/synth/synth_writer.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

DatasetDescriptor context_descriptor() {
  return load_descriptor(testing::source_dir() + "/datasets/pascal_context.yaml");
}

void synthesize(const std::string& out, int num = 4) {
  synth::SynthOptions o;
  o.layout = "pascal_context";
  o.out = out;
  o.num = num;
  o.height = 48;
  o.width = 64;
  o.val_fraction = 0.5;
  synth::write_synthetic_dataset(o);
}

TEST(PascalContext, DescriptorHasSixtyLabelsFromThe459) {
  const DatasetDescriptor d = context_descriptor();
  ASSERT_EQ(d.num_classes(), 60);
  ASSERT_EQ(d.context_459_ids.size(), 60u);
  EXPECT_EQ(d.classes[0], "background");
  EXPECT_EQ(d.context_459_ids[0], 0);
  // labels.txt: 2 aeroplane, 9 bag, 459 wool is not one of the 59, 458 wood is.
  EXPECT_EQ(d.classes[1], "aeroplane");
  EXPECT_EQ(d.context_459_ids[1], 2);
  EXPECT_EQ(d.classes[2], "bag");
  EXPECT_EQ(d.context_459_ids[2], 9);
  EXPECT_EQ(d.classes[59], "wood");
  EXPECT_EQ(d.context_459_ids[59], 458);
  const auto table = context_label_table(d);
  EXPECT_EQ(table[459], 0) << "wool is background";
  EXPECT_EQ(table[0], 0);
}

TEST(PascalContext, SyntheticLayoutReadsAsTheClassesDrawn) {
  TempDir dir;
  synthesize(dir.path());
  const DatasetDescriptor d = context_descriptor();
  PascalContextDataset train(dir.path(), "train", d);
  ASSERT_EQ(train.size(), 2u);
  EXPECT_EQ(train.id(0), "2008_000000");
  std::set<std::string> present;
  for (size_t i = 0; i < train.size(); ++i) {
    const cv::Mat label = train.get(i).label;
    for (int y = 0; y < label.rows; ++y)
      for (int x = 0; x < label.cols; ++x) present.insert(d.classes.at(label.at<uint8_t>(y, x)));
  }
  const std::set<std::string> drawn = {"background", "aeroplane", "bag", "bed", "bird", "boat", "book"};
  for (const auto& name : present) EXPECT_TRUE(drawn.count(name)) << name;
  EXPECT_TRUE(present.count("background")) << "atrium (7) is not among the 59";

  DataConfig config;
  config.dataset = "pascal_context";
  config.root = dir.path();
  EXPECT_EQ(make_dataset(config, "val", DatasetUse::kEvaluation)->size(), 2u);
}

TEST(PascalContext, ScipyAndWeReadTheSameLabelMap) {
  if (!fixtures::python_has("scipy.io, numpy")) GTEST_SKIP() << "the oracle Python with scipy not available";
  TempDir dir;
  const std::string script = testing::source_dir() + "/scripts/fixtures/context_mat.py";
  const std::string theirs = dir.file("scipy.mat");
  ASSERT_EQ(fixtures::run_python(script, "write " + theirs + " 7 11").first, 0);
  const cv::Mat read = read_mat_matrix(theirs, "LabelMap");
  ASSERT_EQ(read.size(), cv::Size(11, 7));
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 11; ++x) EXPECT_EQ(read.at<int32_t>(y, x), 1 + (x + 3 * y) % 459) << x << "," << y;

  cv::Mat ours(2, 3, CV_16UC1);
  for (int i = 0; i < 6; ++i) ours.at<uint16_t>(i / 3, i % 3) = static_cast<uint16_t>(454 + i);
  write_mat_matrix(dir.file("ours.mat"), "LabelMap", ours);
  const auto [code, out] = fixtures::run_python(script, "read " + dir.file("ours.mat"));
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("dtype=uint16 shape=2x3 values=454,455,456,457,458,459"), std::string::npos) << out;
}

TEST(PascalContext, BadLabelFilesNameTheFile) {
  TempDir dir;
  synthesize(dir.path());
  PascalContextDataset ds(dir.path(), "train", context_descriptor());
  const std::string mat = ds.label_path("2008_000000");

  write_mat_matrix(mat, "Labels", cv::Mat(48, 64, CV_16UC1, cv::Scalar(2)));
  std::string message = fixtures::error_of([&] { ds.get(0); });
  EXPECT_NE(message.find(mat + ": no variable 'LabelMap'"), std::string::npos) << message;

  cv::Mat wide(48, 64, CV_16UC1, cv::Scalar(2));
  wide.at<uint16_t>(3, 4) = 460;
  write_mat_matrix(mat, "LabelMap", wide);
  message = fixtures::error_of([&] { ds.get(0); });
  EXPECT_NE(message.find("label id 460 at (x=4, y=3) in " + mat), std::string::npos) << message;

  fs::remove(mat);
  message = fixtures::error_of([&] { ds.get(0); });
  EXPECT_NE(message.find("PASCAL-Context label missing: " + mat), std::string::npos) << message;
}

TEST(PascalContext, DescriptorWithoutTheIdsIsRefusedByName) {
  TempDir dir;
  synthesize(dir.path());
  const DatasetDescriptor voc = load_descriptor(testing::source_dir() + "/datasets/voc.yaml");
  const std::string message = fixtures::error_of([&] { PascalContextDataset(dir.path(), "train", voc); });
  EXPECT_NE(message.find("voc.yaml: PASCAL-Context needs context_459_ids"), std::string::npos) << message;
}

}  // namespace
}  // namespace deeplab::data
