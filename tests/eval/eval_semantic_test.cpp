// `deeplab eval-semantic`: generic folders matched by stem (hand values, error
// paths), and the Cityscapes mode cross-checked against an independent numpy
// implementation of cityscapesScripts' rules when /usr/bin/python3 has numpy and PIL.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <random>

#include "deeplab/core/fs_util.h"
#include "deeplab/data/png_io.h"
#include "tests/support/test_support.h"

namespace deeplab::eval {
namespace {

using nlohmann::json;
using testing::run_deeplab;
using testing::TempDir;

data::PngImage gray(int w, int h, const std::vector<uint8_t>& values) {
  data::PngImage image = data::PngImage::gray(w, h, 8);
  image.data8 = values;
  return image;
}

// Two images, 4 classes, ignore 255, split across files (stems a, b) and the
// prediction of `a` stored as a palette PNG:
//   a: gt [0 0 0 1 1],  pred [0 0 1 1 2]
//   b: gt [2 255 255 2 0], pred [2 3 0 0 0]
// The same pixels as confusion_matrix_test: rows 0 [3 1 0 0], 1 [0 1 1 0],
// 2 [1 0 1 0] -> mIoU (3/5 + 1/3 + 1/3) / 3, pixel accuracy 5/8, class 3 n/a.
TEST(EvalSemantic, FoldersMatchedByStemGiveHandValues) {
  TempDir dir;
  data::write_png(dir.file("gt/a.png"), gray(5, 1, {0, 0, 0, 1, 1}));
  data::write_png(dir.file("gt/sub/b.png"), gray(5, 1, {2, 255, 255, 2, 0}));
  data::PngImage pa = data::PngImage::indexed(5, 1, {{0, 0, 0}, {128, 0, 0}, {0, 128, 0}});
  pa.data8 = {0, 0, 1, 1, 2};
  data::write_png(dir.file("pred/a.png"), pa);
  data::write_png(dir.file("pred/b.png"), gray(5, 1, {2, 3, 0, 0, 0}));
  const std::string out = dir.file("s.json");
  const auto r = run_deeplab("eval-semantic --gt " + dir.path() + "/gt --pred " + dir.path() +
                             "/pred --num-classes 4 --json " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const json j = json::parse(core::read_file(out));
  EXPECT_DOUBLE_EQ(j["mIoU"].get<double>(), (3.0 / 5.0 + 1.0 / 3.0 + 1.0 / 3.0) / 3.0);
  EXPECT_DOUBLE_EQ(j["pixel_accuracy"].get<double>(), 5.0 / 8.0);
  EXPECT_TRUE(j["per_class"][3]["iou"].is_null());
  EXPECT_EQ(j["pixels"], 8);
  EXPECT_NE(r.output.find("n/a"), std::string::npos) << r.output;

  // --threads 2 merges two shares: same numbers.
  const auto r2 = run_deeplab("eval-semantic --gt " + dir.path() + "/gt --pred " + dir.path() +
                              "/pred --num-classes 4 --threads 2 --json " + out);
  ASSERT_EQ(r2.exit_code, 0) << r2.output;
  EXPECT_EQ(json::parse(core::read_file(out))["confusion_matrix"], j["confusion_matrix"]);
}

TEST(EvalSemantic, UnmatchedSizeMismatchAndBadValuesAreErrorsNamingFiles) {
  TempDir dir;
  data::write_png(dir.file("gt/a.png"), gray(2, 1, {0, 1}));
  data::write_png(dir.file("pred/a.png"), gray(2, 1, {0, 1}));
  data::write_png(dir.file("pred/extra.png"), gray(2, 1, {0, 1}));
  const std::string args = "eval-semantic --gt " + dir.path() + "/gt --pred " + dir.path() + "/pred --num-classes 2";
  auto r = run_deeplab(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("extra.png"), std::string::npos) << r.output;

  data::write_png(dir.file("pred/extra.png"), gray(3, 1, {0, 1, 0}));
  data::write_png(dir.file("gt/extra.png"), gray(2, 1, {0, 1}));
  r = run_deeplab(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("3x1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("gt/extra.png"), std::string::npos) << r.output;

  data::write_png(dir.file("pred/extra.png"), gray(2, 1, {0, 5}));
  r = run_deeplab(args);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("predicted value 5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("pred/extra.png"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;

  r = run_deeplab("eval-semantic --gt " + dir.path() + "/gt --pred " + dir.path() + "/pred");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--num-classes"), std::string::npos) << r.output;
}

bool python_has_numpy_and_pil() {
  return std::system((deeplab::testing::oracle_python() + " -c 'import numpy, PIL' > /dev/null 2>&1").c_str()) == 0;
}

// Random Cityscapes-like images: blocks of label ids (some ignored), instances
// of instance classes (some crowd: id < 1000), predictions with noise.
void write_random_cityscapes(const TempDir& dir, int images) {
  std::mt19937 rng(7);
  const std::vector<int> stuff = {0, 4, 7, 8, 9, 11, 17, 21, 23};
  const std::vector<int> things = {24, 25, 26, 27, 28, 29, 31, 33};
  const int w = 64, h = 48;
  for (int n = 0; n < images; ++n) {
    data::PngImage gt = data::PngImage::gray(w, h, 8), pred = gt;
    data::PngImage inst = data::PngImage::gray(w, h, 16);
    for (int by = 0; by < h; by += 8) {
      for (int bx = 0; bx < w; bx += 8) {
        const bool thing = rng() % 3 == 0;
        const int label = thing ? things[rng() % things.size()] : stuff[rng() % stuff.size()];
        const int id = thing && rng() % 4 != 0 ? label * 1000 + static_cast<int>(rng() % 3) : label;
        for (int y = by; y < by + 8; ++y) {
          for (int x = bx; x < bx + 8; ++x) {
            const size_t i = static_cast<size_t>(y * w + x);
            gt.data8[i] = static_cast<uint8_t>(label);
            inst.data16[i] = static_cast<uint16_t>(id);
            pred.data8[i] = static_cast<uint8_t>(rng() % 5 == 0 ? rng() % 34 : label);
          }
        }
      }
    }
    const std::string stem = "city_00000" + std::to_string(n) + "_000019";
    data::write_png(dir.file("gtFine/val/city/" + stem + "_gtFine_labelIds.png"), gt);
    data::write_png(dir.file("gtFine/val/city/" + stem + "_gtFine_instanceIds.png"), inst);
    data::write_png(dir.file("pred/" + stem + "_pred.png"), pred);
  }
}

TEST(EvalSemantic, CityscapesModeAgreesWithIndependentNumpyImplementation) {
  if (!python_has_numpy_and_pil())
    GTEST_SKIP() << deeplab::testing::oracle_python() + " with numpy and PIL not available";
  TempDir dir;
  write_random_cityscapes(dir, 3);
  const std::string ours = dir.file("ours.json");
  const auto r = run_deeplab("eval-semantic --gt " + dir.path() + "/gtFine --pred " + dir.path() +
                             "/pred --label-map cityscapes-ids --json " + ours);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string theirs = dir.file("ref.json");
  const std::string script = testing::source_dir() + "/scripts/fixtures/cityscapes_eval_reference.py";
  ASSERT_EQ(std::system((deeplab::testing::oracle_python() + " " + script + " " + dir.path() + "/gtFine " + dir.path() +
                         "/pred > " + theirs)
                            .c_str()),
            0);
  const json a = json::parse(core::read_file(ours));
  const json b = json::parse(core::read_file(theirs));
  for (const char* key : {"mIoU", "iIoU", "category_mIoU", "category_iIoU"}) {
    ASSERT_TRUE(b[key].is_number()) << key << " " << b.dump();
    EXPECT_NEAR(a[key].get<double>(), b[key].get<double>(), 1e-12) << key;
  }
}

}  // namespace
}  // namespace deeplab::eval
