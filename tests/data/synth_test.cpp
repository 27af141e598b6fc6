// The synthetic scene generator: official layouts (checked with PIL too),
// several instances, touching cars and a crowd in Cityscapes scenes,
// determinism, and classes that colour alone cannot separate.

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <set>
#include <vector>

#include "deeplab/core/fs_util.h"
#include "deeplab/data/cityscapes_dataset.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/data/synth/scene_generator.h"
#include "deeplab/data/synth/synth_writer.h"
#include "deeplab/data/voc_dataset.h"
#include "tests/data/data_fixtures.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

synth::SynthOptions voc_options(const std::string& out, int num, uint64_t seed = 3) {
  synth::SynthOptions o;
  o.out = out;
  o.num = num;
  o.height = 64;
  o.width = 80;
  o.seed = seed;
  return o;
}

VocDataset voc(const std::string& root, const std::string& split) {
  VocOptions o;
  o.root = root;
  o.split = split;
  return VocDataset(o, load_descriptor(testing::source_dir() + "/datasets/voc.yaml"));
}

TEST(Synth, VocLayoutHasManyClassesBoundariesAndIsDeterministic) {
  TempDir a, b;
  const auto report = synth::write_synthetic_dataset(voc_options(a.path(), 12));
  EXPECT_EQ(report.train, 9);
  EXPECT_EQ(report.val, 3);
  synth::write_synthetic_dataset(voc_options(b.path(), 12));
  EXPECT_EQ(core::read_file(a.path() + "/SegmentationClass/synth_000005.png"),
            core::read_file(b.path() + "/SegmentationClass/synth_000005.png"));
  EXPECT_EQ(read_id_list(a.path() + "/ImageSets/Segmentation/trainval.txt").size(), 12u);
  std::set<int> classes;
  for (const char* split : {"train", "val"}) {
    VocDataset ds = voc(a.path(), split);
    for (size_t i = 0; i < ds.size(); ++i) {
      const Sample s = ds.get(i);
      EXPECT_EQ(s.image.size(), cv::Size(80, 64));
      for (int y = 0; y < s.label.rows; ++y)
        for (int x = 0; x < s.label.cols; ++x) classes.insert(s.label.at<uint8_t>(y, x));
    }
  }
  EXPECT_TRUE(classes.count(0) && classes.count(255));
  EXPECT_GE(classes.size(), 2u + 6u) << "background + void + at least 6 object classes";
}

// A scene is a function of its seed alone, whatever was rendered before it on
// the same thread (OpenCV's global per-thread RNG once leaked into the noise).
TEST(Synth, SceneDependsOnItsSeedOnly) {
  const auto first = synth::render_voc_scene(40, 40, synth::kMaxVocObjectClasses, 11);
  synth::render_voc_scene(40, 40, synth::kMaxVocObjectClasses, 12);
  synth::render_cityscapes_scene(32, 64, 13);
  const auto again = synth::render_voc_scene(40, 40, synth::kMaxVocObjectClasses, 11);
  EXPECT_EQ(cv::norm(first.image, again.image, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(first.label, again.label, cv::NORM_INF), 0.0);
}

TEST(Synth, PilSeesPaletteVocLabelsAndSixteenBitInstanceIds) {
  if (!fixtures::python_has("PIL, numpy")) GTEST_SKIP() << "the oracle Python with PIL not available";
  TempDir dir;
  synth::write_synthetic_dataset(voc_options(dir.path() + "/voc", 2));
  synth::SynthOptions c = voc_options(dir.path() + "/cs", 2);
  c.layout = "cityscapes";
  c.height = 96;
  c.width = 192;
  synth::write_synthetic_dataset(c);
  const std::string gt = dir.path() + "/cs/gtFine/train/simtrain0/simtrain0_000000_000019";
  const auto [code, out] = fixtures::run_python(testing::source_dir() + "/scripts/fixtures/check_pngs.py",
                                                dir.path() + "/voc/SegmentationClass/synth_000000.png " + gt +
                                                    "_gtFine_instanceIds.png " + gt + "_gtFine_labelIds.png");
  ASSERT_EQ(code, 0) << out;
  const cv::Mat voc_label = read_label_png(dir.path() + "/voc/SegmentationClass/synth_000000.png");
  std::set<int> values;
  for (int y = 0; y < voc_label.rows; ++y)
    for (int x = 0; x < voc_label.cols; ++x) values.insert(voc_label.at<uint8_t>(y, x));
  std::string expected_values;
  for (int v : values) expected_values += (expected_values.empty() ? "" : ",") + std::to_string(v);
  EXPECT_NE(out.find("synth_000000.png mode=P bits=8 size=80x64 values=" + expected_values + "\n"), std::string::npos)
      << out;
  const bool sixteen = out.find("_instanceIds.png mode=I bits=16 size=192x96 values=") != std::string::npos ||
                       out.find("_instanceIds.png mode=I;16 bits=16 size=192x96 values=") != std::string::npos;
  EXPECT_TRUE(sixteen) << out;
  EXPECT_NE(out.find("_labelIds.png mode=L bits=8 size=192x96"), std::string::npos) << out;
  EXPECT_NE(out.find(",26001"), std::string::npos) << "a second car instance: " << out;
}

TEST(Synth, CityscapesScenesHaveSeveralInstancesPerThingAndACrowd) {
  TempDir dir;
  synth::SynthOptions o = voc_options(dir.path(), 4);
  o.layout = "cityscapes";
  o.height = 128;
  o.width = 256;
  synth::write_synthetic_dataset(o);
  CityscapesDataset ds(dir.path(), "train", load_descriptor(testing::source_dir() + "/datasets/cityscapes.yaml"), true);
  ASSERT_EQ(ds.size(), 3u);
  for (size_t i = 0; i < ds.size(); ++i) {
    const Sample s = ds.get(i);
    std::set<int> cars, persons, train_ids;
    bool crowd = false;
    for (int y = 0; y < s.label.rows; ++y)
      for (int x = 0; x < s.label.cols; ++x) {
        const int inst = s.instances.at<int32_t>(y, x);
        train_ids.insert(s.label.at<uint8_t>(y, x));
        if (inst / 1000 == 26) cars.insert(inst);
        if (inst / 1000 == 24) persons.insert(inst);
        crowd = crowd || (inst == 24 && s.label.at<uint8_t>(y, x) == 11);
      }
    EXPECT_GE(cars.size(), 2u) << s.id;
    EXPECT_GE(persons.size(), 2u) << s.id;
    EXPECT_TRUE(crowd) << s.id;
    EXPECT_GE(train_ids.size(), 8u) << s.id;  // stuff, things and the ignored ego vehicle
  }
}

// Where two distinct car instances (Cityscapes car = 26, so ids 26000+) are
// 4-neighbours: the case Panoptic-DeepLab must split by instance centres.
std::vector<cv::Point> car_contacts(const cv::Mat& instances) {
  std::vector<cv::Point> contacts;
  auto is_car = [](int v) { return v >= 26000 && v < 27000; };
  for (int y = 0; y < instances.rows; ++y)
    for (int x = 0; x < instances.cols; ++x) {
      const int v = instances.at<int32_t>(y, x);
      if (!is_car(v)) continue;
      const int right = x + 1 < instances.cols ? instances.at<int32_t>(y, x + 1) : 0;
      const int below = y + 1 < instances.rows ? instances.at<int32_t>(y + 1, x) : 0;
      if ((is_car(right) && right != v) || (is_car(below) && below != v)) contacts.emplace_back(x, y);
    }
  return contacts;
}

TEST(Synth, CityscapesScenesHaveTouchingCarInstances) {
  std::set<int> first_contact_x;
  for (const cv::Size size : {cv::Size(256, 128), cv::Size(128, 64), cv::Size(512, 256)}) {
    for (uint64_t seed = 0; seed < 6; ++seed) {
      const synth::Scene s = synth::render_cityscapes_scene(size.height, size.width, seed);
      const auto contacts = car_contacts(s.instances);
      ASSERT_FALSE(contacts.empty()) << "seed " << seed << " size " << size;
      const cv::Point p = contacts.front();
      const int v = s.instances.at<int32_t>(p.y, p.x);
      EXPECT_GE(v, 26000);
      EXPECT_EQ(s.label.at<uint8_t>(p.y, p.x), 26) << "labelId car";
      if (size.width == 256) first_contact_x.insert(p.x);
    }
  }
  EXPECT_GE(first_contact_x.size(), 3u) << "the parked row moves from scene to scene";
}

TEST(Synth, UpToDateDatasetIsKeptAndStaleOneRewritten) {
  TempDir dir;
  synth::SynthOptions o = voc_options(dir.path(), 4);
  EXPECT_FALSE(synth::write_synthetic_dataset(o).up_to_date);
  const std::string stamp = core::read_file(dir.path() + "/synth.yaml");
  EXPECT_NE(stamp.find("generator_version: " + std::to_string(synth::kGeneratorVersion) + "\n"), std::string::npos);
  EXPECT_NE(stamp.find("seed: 3\n"), std::string::npos) << stamp;
  const std::string image = dir.path() + "/JPEGImages/synth_000001.jpg";
  fs::remove(image);  // marks whether the next call writes anything
  const auto again = synth::write_synthetic_dataset(o);
  EXPECT_TRUE(again.up_to_date);
  EXPECT_EQ(again.train + again.val, 4);
  EXPECT_FALSE(fs::exists(image));
  o.force = true;
  EXPECT_FALSE(synth::write_synthetic_dataset(o).up_to_date);
  EXPECT_TRUE(fs::exists(image));
  o.force = false;
  o.seed = 4;  // other options: a different dataset, rewritten
  fs::remove(image);
  EXPECT_FALSE(synth::write_synthetic_dataset(o).up_to_date);
  EXPECT_TRUE(fs::exists(image));
  core::write_file_atomic(dir.path() + "/synth.yaml", "generator_version: 1\n");  // an older generator's dataset
  EXPECT_FALSE(synth::write_synthetic_dataset(o).up_to_date);
}

TEST(Synth, DescriptorNamesEveryGeneratedClassInTheVocPalette) {
  const DatasetDescriptor d = load_descriptor(testing::source_dir() + "/datasets/synthetic_voc.yaml");
  ASSERT_EQ(d.num_classes(), synth::kMaxVocObjectClasses + 1) << "background + one name per generator class";
  const auto voc_palette = voc_colormap();  // what the generator writes its PNGs with
  for (int c = 0; c < d.num_classes(); ++c) EXPECT_EQ(d.color(c), voc_palette[static_cast<size_t>(c)]) << c;
  EXPECT_EQ(d.ignore_label, 255);
}

// Nearest class-mean colour fitted on train, scored on val: the generator draws
// every class's colours from one distribution, so this must stay near chance.
TEST(Synth, ColourAloneCannotSolveIt) {
  TempDir dir;
  synth::write_synthetic_dataset(voc_options(dir.path(), 32, 11));
  constexpr int kClasses = synth::kMaxVocObjectClasses + 1;
  std::array<cv::Vec3d, kClasses> sum{};
  std::array<double, kClasses> count{};
  VocDataset train = voc(dir.path(), "train"), val = voc(dir.path(), "val");
  for (size_t i = 0; i < train.size(); ++i) {
    const Sample s = train.get(i);
    for (int y = 0; y < s.label.rows; ++y)
      for (int x = 0; x < s.label.cols; ++x) {
        const int l = s.label.at<uint8_t>(y, x);
        if (l == 255) continue;
        sum[l] += cv::Vec3d(s.image.at<cv::Vec3b>(y, x));
        count[l] += 1;
      }
  }
  std::array<double, kClasses> inter{}, uni{};
  for (size_t i = 0; i < val.size(); ++i) {
    const Sample s = val.get(i);
    for (int y = 0; y < s.label.rows; ++y)
      for (int x = 0; x < s.label.cols; ++x) {
        const int l = s.label.at<uint8_t>(y, x);
        if (l == 255) continue;
        const cv::Vec3d p(s.image.at<cv::Vec3b>(y, x));
        int best = 0;
        double best_d = 1e30;
        for (int c = 0; c < kClasses; ++c) {
          if (count[c] == 0) continue;
          const double d = cv::norm(p - sum[c] / count[c]);
          if (d < best_d) best_d = d, best = c;
        }
        inter[l] += best == l;
        uni[l] += 1;
        uni[best] += best != l;
      }
  }
  double miou = 0;
  int present = 0;
  for (int c = 0; c < kClasses; ++c) {
    if (uni[c] > 0) miou += inter[c] / uni[c], ++present;
  }
  miou /= present;
  EXPECT_GE(present, 7) << "background + at least 6 object classes";
  EXPECT_LE(miou, 0.5);
  RecordProperty("colour_classifier_miou", std::to_string(miou));
  std::cout << "nearest class-mean colour mIoU on val: " << miou << " over " << present << " classes\n";
}

}  // namespace
}  // namespace deeplab::data
