// COCO panoptic on the two real val2017 samples (../shared/samples/coco_panoptic):
// train ids of known pixels, crowd and VOID, the canonical instance encoding,
// the descriptor against panopticapi's category list, the official layout
// through the factory, and every bad-input error naming file and value.
// Expected numbers were counted from the PNGs with PIL.

#include "deeplab/data/coco_panoptic_dataset.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/png_io.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

const char* kSkip = "../shared/samples not found (set DEEPLAB_SAMPLES)";

std::string coco_samples() {
  const std::string samples = testing::samples_dir();
  return samples.empty() ? "" : samples + "/coco_panoptic";
}

DatasetDescriptor coco_descriptor() { return load_descriptor(testing::source_dir() + "/datasets/coco_panoptic.yaml"); }

CocoPanopticDataset samples_dataset(const std::string& dir, const std::string& json = "panoptic_examples.json") {
  return CocoPanopticDataset(dir + "/" + json, dir + "/panoptic_examples", dir + "/images", coco_descriptor());
}

// A copy of the samples whose JSON has `from` replaced by `to` (which must occur once).
std::string edited_copy(const TempDir& tmp, const std::string& from, const std::string& to) {
  const std::string src = coco_samples();
  fs::copy(src, tmp.path() + "/coco", fs::copy_options::recursive);
  std::string text = core::read_file(src + "/panoptic_examples.json");
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(text.find(from, at + 1), std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  core::write_file_atomic(tmp.path() + "/coco/panoptic_examples.json", text);
  return tmp.path() + "/coco";
}

template <class Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CocoPanopticDataset, DescriptorIsPanopticapisCategoryList) {
  const std::string dir = coco_samples();
  if (dir.empty()) GTEST_SKIP() << kSkip;
  const auto categories = nlohmann::json::parse(core::read_file(dir + "/panoptic_coco_categories.json"));
  const DatasetDescriptor d = coco_descriptor();
  ASSERT_EQ(d.num_classes(), 133);
  ASSERT_EQ(categories.size(), 133u);
  EXPECT_EQ(d.ignore_label, 255);
  EXPECT_EQ(d.things.size(), 80u);
  const std::set<int> things(d.things.begin(), d.things.end());
  for (size_t t = 0; t < categories.size(); ++t) {
    const auto& c = categories[t];
    EXPECT_EQ(d.classes[t], c["name"].get<std::string>()) << t;
    EXPECT_EQ(d.label_map[c["id"].get<size_t>()], t) << c["name"];
    EXPECT_EQ(things.count(static_cast<int>(t)) == 1, c["isthing"].get<int>() == 1) << c["name"];
    const auto rgb = c["color"].get<std::vector<int>>();
    EXPECT_EQ(d.color(static_cast<int>(t)), (Rgb{uint8_t(rgb[0]), uint8_t(rgb[1]), uint8_t(rgb[2])})) << c["name"];
  }
  EXPECT_EQ(d.label_map[0], 255) << "id 0 is no category";
  EXPECT_EQ(d.label_map[12], 255) << "COCO thing ids skip 12";
  EXPECT_EQ(d.label_map[201], 255);
}

TEST(CocoPanopticDataset, RealSamplesGiveTrainIdsCrowdAndVoid) {
  const std::string dir = coco_samples();
  if (dir.empty()) GTEST_SKIP() << kSkip;
  const CocoPanopticDataset ds = samples_dataset(dir);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds.id(0), "000000142238");
  EXPECT_EQ(ds.image_path(1), dir + "/images/000000439180.jpg");
  const Sample a = ds.get(0), b = ds.get(1);
  EXPECT_EQ(a.image.size(), cv::Size(640, 427));
  EXPECT_EQ(b.image.size(), cv::Size(640, 360));
  EXPECT_EQ(a.image.type(), CV_8UC3);
  EXPECT_EQ(a.label.type(), CV_8UC1);
  EXPECT_EQ(a.instances.type(), CV_32SC1);
  EXPECT_EQ(a.label.size(), a.image.size());
  // 142238: (362,126) is the sports ball 16757838 (category 37 -> train id 32, the
  // first of its class: 1000 * 33), (66,115) tree-merged 184 -> 116 (stuff),
  // (303,126) VOID, (342,274) the person crowd 3153362.
  EXPECT_EQ(a.label.at<uint8_t>(126, 362), 32);
  EXPECT_EQ(a.instances.at<int32_t>(126, 362), 33000);
  EXPECT_EQ(a.label.at<uint8_t>(115, 66), 116);
  EXPECT_EQ(a.instances.at<int32_t>(115, 66), 0);
  EXPECT_EQ(a.label.at<uint8_t>(126, 303), 255);
  EXPECT_EQ(a.instances.at<int32_t>(126, 303), 0);
  EXPECT_EQ(a.label.at<uint8_t>(274, 342), 0);
  EXPECT_LT(a.instances.at<int32_t>(274, 342), 1000);
  // 439180: (216,158) the first truck (category 8 -> 7), (205,265) the first horse (19 -> 17).
  EXPECT_EQ(b.label.at<uint8_t>(158, 216), 7);
  EXPECT_EQ(b.instances.at<int32_t>(158, 216), 8000);
  EXPECT_EQ(b.label.at<uint8_t>(265, 205), 17);
  EXPECT_EQ(b.instances.at<int32_t>(265, 205), 18000);
  // VOID pixels (segment id 0) and crowd pixels: a thing label with an instance value < 1000.
  const DatasetDescriptor d = coco_descriptor();
  const std::set<int> things(d.things.begin(), d.things.end());
  EXPECT_EQ(d.classes[32], "sports ball");
  const std::pair<int, int> expected[] = {{2712, 24295}, {7189, 7839 + 421}};  // (void, crowd) per image
  int i = 0;
  for (const Sample* s : {&a, &b}) {
    int void_pixels = 0, crowd_pixels = 0;
    for (int y = 0; y < s->label.rows; ++y)
      for (int x = 0; x < s->label.cols; ++x) {
        const int l = s->label.at<uint8_t>(y, x);
        void_pixels += l == 255;
        crowd_pixels += things.count(l) && s->instances.at<int32_t>(y, x) < 1000;
      }
    EXPECT_EQ(void_pixels, expected[i].first) << s->id;
    EXPECT_EQ(crowd_pixels, expected[i].second) << s->id;
    ++i;
  }
}

// Each PNG segment becomes exactly one (train id, instance) pair: non-crowd
// things a value >= 1000 of their own, everything else < 1000.
TEST(CocoPanopticDataset, EveryNonCrowdThingSegmentIsOneDistinctInstance) {
  const std::string dir = coco_samples();
  if (dir.empty()) GTEST_SKIP() << kSkip;
  const CocoPanopticDataset ds = samples_dataset(dir);
  const size_t segments[] = {18, 32}, thing_instances[] = {13 + 1, 13 + 2 + 11};  // persons, ball | trucks, horses
  for (size_t i = 0; i < ds.size(); ++i) {
    const Sample s = ds.get(i);
    const PngImage png = read_png(ds.png_path(i));
    const std::vector<uint32_t> ids = png_to_ids(png);
    std::map<uint32_t, std::set<std::pair<int, int>>> per_segment;  // PNG id -> {(label, instance)}
    for (int y = 0; y < s.label.rows; ++y)
      for (int x = 0; x < s.label.cols; ++x) {
        const uint32_t id = ids[static_cast<size_t>(y * png.width + x)];
        if (id != 0) per_segment[id].insert({s.label.at<uint8_t>(y, x), s.instances.at<int32_t>(y, x)});
      }
    EXPECT_EQ(per_segment.size(), segments[i]) << s.id << ": distinct non-VOID ids in the PNG";
    EXPECT_EQ(ds.image(i).segments.size(), segments[i]) << s.id;
    std::set<int> instance_values;
    for (const CocoSegment& seg : ds.image(i).segments) {
      ASSERT_EQ(per_segment[seg.id].size(), 1u) << s.id << " segment " << seg.id;
      const auto [label, instance] = *per_segment[seg.id].begin();
      EXPECT_EQ(label, seg.train_id);
      if (instance >= 1000) {
        EXPECT_TRUE(instance_values.insert(instance).second) << "instance " << instance << " reused";
        EXPECT_EQ(instance / 1000, label + 1) << "instance " << instance << " encodes its train id";
      }
    }
    EXPECT_EQ(instance_values.size(), thing_instances[i]) << s.id;
  }
}

TEST(CocoPanopticDataset, FactoryReadsTheOfficialLayout) {
  const std::string src = coco_samples();
  if (src.empty()) GTEST_SKIP() << kSkip;
  TempDir root;
  fs::create_directories(root.path() + "/annotations");
  fs::copy(src + "/panoptic_examples.json", root.path() + "/annotations/panoptic_val2017.json");
  fs::copy(src + "/panoptic_examples", root.path() + "/annotations/panoptic_val2017");
  fs::copy(src + "/images", root.path() + "/val2017");
  DataConfig config;
  config.dataset = "coco_panoptic";
  config.root = root.path();
  const auto ds = make_dataset(config, "val2017", DatasetUse::kEvaluation);
  ASSERT_EQ(ds->size(), 2u);
  EXPECT_EQ(ds->num_classes(), 133);
  EXPECT_EQ(ds->get(1).label.at<uint8_t>(158, 216), 7);
  const std::string missing = error_of([&] { make_dataset(config, "train2017", DatasetUse::kTraining); });
  EXPECT_NE(missing.find(root.path() + "/annotations/panoptic_train2017"), std::string::npos) << missing;
}

TEST(CocoPanopticDataset, PngSegmentMissingFromJsonNamesPngAndId) {
  if (coco_samples().empty()) GTEST_SKIP() << kSkip;
  TempDir tmp;
  const std::string dir = edited_copy(tmp, "\"id\": 16757838", "\"id\": 16757839");
  const CocoPanopticDataset ds = samples_dataset(dir);
  EXPECT_NO_THROW(ds.get(1));
  try {
    ds.get(0);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(dir + "/panoptic_examples/000000142238.png"), std::string::npos) << what;
    EXPECT_NE(what.find("segment id 16757838"), std::string::npos) << what;
    EXPECT_NE(what.find("image_id 142238"), std::string::npos) << what;
  }
}

TEST(CocoPanopticDataset, UnknownCategoryNamesJsonAndId) {
  if (coco_samples().empty()) GTEST_SKIP() << kSkip;
  for (const char* category : {"250", "1000"}) {
    TempDir tmp;
    const std::string dir = edited_copy(tmp, "\"category_id\": 37,", std::string("\"category_id\": ") + category + ",");
    try {
      samples_dataset(dir);
      FAIL() << "expected DataError for category " << category;
    } catch (const DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(dir + "/panoptic_examples.json"), std::string::npos) << what;
      EXPECT_NE(what.find("category_id " + std::string(category)), std::string::npos) << what;
      EXPECT_NE(what.find("segment 16757838"), std::string::npos) << what;
    }
  }
}

TEST(CocoPanopticDataset, InconsistentInputsAreErrorsNamingTheCulprit) {
  const std::string src = coco_samples();
  if (src.empty()) GTEST_SKIP() << kSkip;
  TempDir tmp;
  // The JSON says person is stuff; the descriptor lists it among things.
  const std::string dir = edited_copy(tmp, "\"isthing\": 1, \"id\": 1, \"name\": \"person\"",
                                      "\"isthing\": 0, \"id\": 1, \"name\": \"person\"");
  const std::string isthing = error_of([&] { samples_dataset(dir); });
  EXPECT_NE(isthing.find("category_id 1 has isthing 0"), std::string::npos) << isthing;
  EXPECT_NE(isthing.find("coco_panoptic.yaml"), std::string::npos) << isthing;
  // Missing files.
  const std::string json = error_of([&] { samples_dataset(src, "nope.json"); });
  EXPECT_NE(json.find(src + "/nope.json"), std::string::npos) << json;
  fs::remove(dir + "/panoptic_examples/000000439180.png");
  fs::copy_file(src + "/panoptic_examples.json", dir + "/panoptic_examples.json", fs::copy_options::overwrite_existing);
  const CocoPanopticDataset ds = samples_dataset(dir);
  EXPECT_THROW(ds.get(1), IoError);
  EXPECT_NE(error_of([&] { ds.get(1); }).find(dir + "/panoptic_examples/000000439180.png"), std::string::npos);
  // Without a label_map, category ids would pass as train ids.
  EXPECT_THROW(CocoPanopticDataset(src + "/panoptic_examples.json", src + "/panoptic_examples", src + "/images",
                                   load_descriptor(testing::source_dir() + "/datasets/voc.yaml")),
               ConfigError);
}

}  // namespace
}  // namespace deeplab::data
