// `deeplab data synth|stats|show|make-trainaug` and `deeplab bench loader` as users run them.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "deeplab/data/png_io.h"
#include "deeplab/data/sample_io.h"
#include "tests/support/test_support.h"

namespace deeplab::data {
namespace {

using testing::run_deeplab;
using testing::TempDir;
namespace fs = std::filesystem;

struct DataCli : ::testing::Test {
  TempDir dir;
  std::string config;
  void SetUp() override {
    const auto r = run_deeplab("data synth --layout voc --out " + dir.path() + "/voc --num 8 --size 48x64 --seed 5");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    config = dir.write("exp.yaml", "data:\n  dataset: voc\n  root: " + dir.path() +
                                       "/voc\n  crop_size: [40, 40]\n  batch_size: 2\n  workers: 2\n");
  }
};

TEST_F(DataCli, StatsEqualCountsReadStraightFromThePngs) {
  std::vector<int64_t> expected(256, 0);
  size_t images = 0;
  for (const auto& id : read_id_list(dir.path() + "/voc/ImageSets/Segmentation/val.txt")) {
    const PngImage png = read_png(dir.path() + "/voc/SegmentationClass/" + id + ".png");
    for (size_t p = 0; p < png.num_pixels(); ++p) ++expected[png.sample(p)];
    ++images;
  }
  const auto r = run_deeplab("data stats -c " + config + " --split val --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("\"images\": " + std::to_string(images) + ","), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("\"void_pixels\": " + std::to_string(expected[255]) + ","), std::string::npos) << r.output;
  for (int k = 0; k < 21; ++k) {
    const std::string entry = "{\"id\": " + std::to_string(k) + ", \"name\": \"";
    const auto at = r.output.find(entry);
    ASSERT_NE(at, std::string::npos) << r.output;
    const auto pixels = r.output.find("\"pixels\": ", at);
    EXPECT_EQ(std::stoll(r.output.substr(pixels + 10)), expected[static_cast<size_t>(k)]) << "class " << k;
  }
  const auto text = run_deeplab("data stats -c " + config + " --split train");
  EXPECT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("images: 6"), std::string::npos) << text.output;
}

TEST_F(DataCli, ShowWritesSideBySidePngs) {
  const auto r = run_deeplab("data show -c " + config + " --split train --out " + dir.path() + "/show --num 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/show")) {
    const PngImage png = read_png(e.path().string());
    EXPECT_EQ(png.width, 80);  // two 40-px crops side by side
    EXPECT_EQ(png.height, 40);
    ++n;
  }
  EXPECT_EQ(n, 3u);
}

TEST_F(DataCli, BadInputIsOneLineNamingThePath) {
  const auto r = run_deeplab("data stats -c " + config + " --split test");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("error: split list not found: " + dir.path() + "/voc/ImageSets/Segmentation/test.txt"),
            std::string::npos)
      << r.output;
  const auto bad = run_deeplab("data synth --layout coco --out " + dir.path() + "/x");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("'coco'"), std::string::npos) << bad.output;
  const auto aug =
      run_deeplab("data make-trainaug --voc-root " + dir.path() + "/voc --sbd-root " + dir.path() + "/none");
  EXPECT_NE(aug.exit_code, 0);
  EXPECT_NE(aug.output.find(dir.path() + "/none"), std::string::npos) << aug.output;
}

TEST_F(DataCli, SkipBadSamplesReportsTheCount) {
  std::ofstream(dir.path() + "/voc/JPEGImages/synth_000001.jpg") << "corrupt";
  const auto strict = run_deeplab("data stats -c " + config + " --split train");
  EXPECT_NE(strict.exit_code, 0);
  EXPECT_NE(strict.output.find("synth_000001.jpg"), std::string::npos) << strict.output;
  const auto lenient = run_deeplab("data stats -c " + config + " --split train --set data.skip_bad_samples=true");
  EXPECT_EQ(lenient.exit_code, 0) << lenient.output;
  EXPECT_NE(lenient.output.find("images: 5"), std::string::npos) << lenient.output;
  EXPECT_NE(lenient.output.find("skipped bad samples: 1"), std::string::npos) << lenient.output;
}

TEST_F(DataCli, BenchLoaderReportsImagesPerSecond) {
  const auto r = run_deeplab("bench loader -c " + config + " --batches 2 --warmup 1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::regex_search(r.output, std::regex("loader: 4 images in [0-9.]+ s = [0-9.]+ images/s"))) << r.output;
}

}  // namespace
}  // namespace deeplab::data
