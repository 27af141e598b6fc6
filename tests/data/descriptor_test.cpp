// Dataset descriptors: the YAML files in datasets/ and their error messages.

#include "deeplab/data/descriptor.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/cityscapes_labels.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;

TEST(Descriptor, VocYamlHasTheDevkitColourMapAndClasses) {
  const DatasetDescriptor d = load_descriptor(testing::source_dir() + "/datasets/voc.yaml");
  ASSERT_EQ(d.num_classes(), 21);
  EXPECT_EQ(d.classes[15], "person");
  const auto cmap = voc_colormap();
  for (size_t i = 0; i < 21; ++i) EXPECT_EQ(d.palette[i], cmap[i]) << i;
  EXPECT_EQ(cmap[255], (Rgb{224, 224, 192}));  // the devkit's void colour
  EXPECT_EQ(d.ignore_label, 255);
  EXPECT_EQ(d.things.size(), 20u);
  EXPECT_EQ(d.label_map[17], 17);  // no label_map: identity
  EXPECT_EQ(d.color(255), (Rgb{255, 255, 255}));
}

TEST(Descriptor, FolderExampleLoadsAndLabelMapSendsUnlistedToIgnore) {
  EXPECT_EQ(load_descriptor(testing::source_dir() + "/datasets/folder_example.yaml").num_classes(), 2);
  TempDir dir;
  const auto d = load_descriptor(dir.write("d.yaml", "classes: [a, b]\nlabel_map: {0: 0, 200: 1}\n"));
  EXPECT_EQ(d.label_map[200], 1);
  EXPECT_EQ(d.label_map[3], 255);
  EXPECT_EQ(d.name, "d");
}

// Submission formats come from the descriptor: Cityscapes predictions are
// saved as label ids through the inverse of label_map, which must equal
// cityscapesScripts' trainId -> id table; VOC keeps the devkit's 256 colours.
TEST(Descriptor, SubmissionFormatsFollowTheOfficialTools) {
  const auto cityscapes = load_descriptor(testing::source_dir() + "/datasets/cityscapes.yaml");
  EXPECT_EQ(cityscapes.submission_format, "label_ids");
  const auto official = cityscapes_train_id_to_id();
  for (int train_id = 0; train_id < cityscapes.num_classes(); ++train_id) {
    EXPECT_EQ(cityscapes.train_to_raw[static_cast<size_t>(train_id)], official[static_cast<size_t>(train_id)])
        << "train id " << train_id;
  }
  const auto voc = load_descriptor(testing::source_dir() + "/datasets/voc.yaml");
  EXPECT_EQ(voc.submission_format, "palette");
  EXPECT_EQ(voc.submission_palette, voc_colormap());
  TempDir dir;
  EXPECT_THROW(load_descriptor(dir.write("bad.yaml", "classes: [a]\nsubmission: {format: label_ids}\n")), ConfigError);
}

TEST(Descriptor, ErrorsNameTheFileAndTheProblem) {
  TempDir dir;
  auto message = [&](const std::string& text) {
    const std::string path = dir.write("bad.yaml", text);
    try {
      load_descriptor(path);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("classes: [a]\npalette: [[1, 2]]\n").find("bad.yaml:2"), std::string::npos);
  EXPECT_NE(message("classes: [a, b]\npalette: [[1, 2, 3]]\n").find("1 colours for 2 classes"), std::string::npos);
  EXPECT_NE(message("classes: [a]\nlabel_map: {4: 7}\n").find("label_map value 7"), std::string::npos);
  EXPECT_NE(message("name: x\n").find("classes"), std::string::npos);
  EXPECT_THROW(load_descriptor(dir.path() + "/missing.yaml"), IoError);
  EXPECT_EQ(resolve_descriptor_path("my.yaml", "voc"), "my.yaml");
  EXPECT_THROW(resolve_descriptor_path("", "no_such_dataset"), IoError);
}

TEST(Descriptor, RelativeConfiguredPathFallsBackToTheSourceTree) {
  // Configs name `datasets/synthetic_voc.yaml`; runs from another directory still find it.
  const std::string resolved = resolve_descriptor_path("datasets/synthetic_voc.yaml", "voc");
  ASSERT_TRUE(std::filesystem::is_regular_file(resolved)) << resolved;
  EXPECT_EQ(load_descriptor(resolved).name, "synthetic_voc");
  EXPECT_EQ(resolve_descriptor_path("datasets/nope.yaml", "voc"), "datasets/nope.yaml") << "kept for the error message";
}

}  // namespace
}  // namespace deeplab::data
