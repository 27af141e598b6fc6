// Cityscapes class IoU, category IoU and iIoU on a 15-pixel case derived by
// hand with cityscapesScripts' rules, in the library and through
// `deeplab eval-semantic --label-map cityscapes-ids`.

#include "deeplab/eval/cityscapes_metrics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/png_io.h"
#include "tests/support/test_support.h"

namespace deeplab::eval {
namespace {

// Pixel: (gt label id, predicted label id, instance id)
//  1 (7 road, 7, 7)           2 (7, 7, 7)          3 (7, 9 parking, 7): ignored class predicted -> road FN
//  4 (8 sidewalk, 7, 8): road FP, sidewalk FN      5 (9 parking, 7, 9): gt ignored -> no road FP
//  6 (0 unlabeled, 8, 0): gt ignored -> no sidewalk FP
//  7 (26 car, 26, 26001)      8 (26, 26, 26001)    9 (26, 27 truck, 26001)   10 (26, 24 person, 26001)
// 11 (26, 26, 26002)          12 (24, 24, 24001)   13 (24, 25 rider, 24001)
// 14 (26, 26, 26): crowd car, pixel-level only    15 (8, 8, 8)
const std::vector<uint8_t> kGt = {7, 7, 7, 8, 9, 0, 26, 26, 26, 26, 26, 24, 24, 26, 8};
const std::vector<uint8_t> kPred = {7, 7, 9, 7, 7, 8, 26, 26, 27, 24, 26, 24, 25, 26, 8};
const std::vector<uint32_t> kInst = {7, 7, 7, 8, 9, 0, 26001, 26001, 26001, 26001, 26002, 24001, 24001, 26, 8};

// Class IoU = TP / (TP + FP + FN), FP only from rows of non-ignored classes:
//   road     TP 2, FN 1 (px3), FP 1 (px4)      -> 2/4
//   sidewalk TP 1, FN 1 (px4), FP 0 (px6 gt ignored) -> 1/2
//   car      TP 4 (px7,8,11,14), FN 2, FP 0    -> 4/6
//   person   TP 1, FN 1 (px13), FP 1 (px10)    -> 1/3
//   truck    FP 1 (px9) -> 0;   rider FP 1 (px13) -> 0;  the other 13 classes n/a
// mIoU = (1/2 + 1/2 + 2/3 + 1/3 + 0 + 0) / 6 = 1/3
// Categories (evaluated labels only):
//   flat {7,8}: TP 4 (px1,2,4,15), FN 1 (px3 -> parking), FP 0 -> 4/5
//   human {24,25}: TP 2, FN 0, FP 1 (px10, car row) -> 2/3
//   vehicle {26,27,28,31,32,33}: TP 5, FN 1 (px10), FP 0 -> 5/6
//   category mIoU = (4/5 + 2/3 + 5/6) / 3
// iIoU, weight = average class size / instance size:
//   car 26001 (4 px): TP 2 FN 2, weight A/4;  car 26002 (1 px): TP 1, weight A  (A = 12794.0202738185)
//     tpW = A/2 + A = 1.5 A, fnW = A/2, FP 0 -> 0.75
//   person 24001 (2 px): TP 1 FN 1, weight P/2 (P = 3462.4756337644); FP 1 -> (P/2) / (P/2 + 1 + P/2)
//   truck, rider: no instances but FP 1 -> 0;  bus, train, motorcycle, bicycle: n/a
//   iIoU = (0.75 + (P/2)/(P+1) + 0 + 0) / 4
// Category iIoU (TP = prediction anywhere in the category, incl. caravan/trailer):
//   human: 24001 both pixels in {24,25}: tpW = P, fnW 0, FP 1 (px10) -> P / (P + 1)
//   vehicle: 26001 3 of 4 in vehicle -> tpW 3A/4, fnW A/4; 26002 tpW A -> 1.75A / 2A = 0.875
//   category iIoU = (P/(P+1) + 0.875) / 2
constexpr double kA = 12794.0202738185;
constexpr double kP = 3462.4756337644;

void expect_hand_values(const CityscapesScores& s) {
  EXPECT_DOUBLE_EQ(*s.class_iou[7], 0.5);
  EXPECT_DOUBLE_EQ(*s.class_iou[8], 0.5);
  EXPECT_DOUBLE_EQ(*s.class_iou[26], 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(*s.class_iou[24], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(*s.class_iou[27], 0.0);
  EXPECT_DOUBLE_EQ(*s.class_iou[25], 0.0);
  EXPECT_FALSE(s.class_iou[9]);   // parking: ignored
  EXPECT_FALSE(s.class_iou[11]);  // building: absent
  EXPECT_DOUBLE_EQ(*s.miou, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(*s.category_iou[1], 0.8);
  EXPECT_DOUBLE_EQ(*s.category_iou[6], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(*s.category_iou[7], 5.0 / 6.0);
  EXPECT_FALSE(s.category_iou[0]);
  EXPECT_FALSE(s.category_iou[2]);
  EXPECT_DOUBLE_EQ(*s.category_miou, (0.8 + 2.0 / 3.0 + 5.0 / 6.0) / 3.0);
  EXPECT_DOUBLE_EQ(*s.class_iiou[26], 0.75);
  EXPECT_DOUBLE_EQ(*s.class_iiou[24], (kP / 2) / (kP + 1));
  EXPECT_DOUBLE_EQ(*s.class_iiou[27], 0.0);
  EXPECT_FALSE(s.class_iiou[28]);
  EXPECT_FALSE(s.class_iiou[7]);
  EXPECT_DOUBLE_EQ(*s.iiou, (0.75 + (kP / 2) / (kP + 1)) / 4.0);
  EXPECT_DOUBLE_EQ(*s.category_iiou[6], kP / (kP + 1));
  EXPECT_DOUBLE_EQ(*s.category_iiou[7], 0.875);
  EXPECT_DOUBLE_EQ(*s.category_iiou_mean, (kP / (kP + 1) + 0.875) / 2.0);
}

TEST(CityscapesMetrics, HandDerivedClassCategoryAndInstanceScores) {
  CityscapesEvaluator evaluator;
  evaluator.add(kGt.data(), kPred.data(), kInst.data(), kGt.size(), "case");
  expect_hand_values(evaluator.scores());
  EXPECT_EQ(evaluator.class_instances()[26].tp, 3);
  EXPECT_DOUBLE_EQ(evaluator.class_instances()[26].tp_weighted, 1.5 * kA);
}

TEST(CityscapesMetrics, MergeOfHalvesEqualsWhole) {
  CityscapesEvaluator a, b;
  a.add(kGt.data(), kPred.data(), kInst.data(), 8, "a");
  b.add(kGt.data() + 8, kPred.data() + 8, kInst.data() + 8, kGt.size() - 8, "b");
  // Instance 26001 spans both halves, so halves differ from the whole for iIoU;
  // the pixel-level scores must agree exactly.
  a.merge(b);
  CityscapesEvaluator whole;
  whole.add(kGt.data(), kPred.data(), kInst.data(), kGt.size(), "whole");
  EXPECT_EQ(std::vector<int64_t>(a.matrix().data(), a.matrix().data() + a.matrix().size()),
            std::vector<int64_t>(whole.matrix().data(), whole.matrix().data() + whole.matrix().size()));
  EXPECT_DOUBLE_EQ(*a.scores().miou, 1.0 / 3.0);
}

TEST(CityscapesMetrics, CountsSurviveAJsonRoundTripAndBadCountsNameTheFile) {
  CityscapesEvaluator e;
  e.add(kGt.data(), kPred.data(), kInst.data(), kGt.size(), "whole");
  const CityscapesEvaluator back = CityscapesEvaluator::from_counts_json(e.counts_json(), "shard.json");
  EXPECT_EQ(back.counts_json(), e.counts_json());
  EXPECT_EQ(*back.scores().iiou, *e.scores().iiou);
  EXPECT_EQ(*back.scores().category_iiou_mean, *e.scores().category_iiou_mean);

  nlohmann::json bad = e.counts_json();
  bad["class_instances"].erase(0);
  try {
    CityscapesEvaluator::from_counts_json(bad, "shard.json");
    FAIL() << "expected DataError";
  } catch (const DataError& err) {
    EXPECT_NE(std::string(err.what()).find("shard.json: cityscapes_counts.class_instances has 33 rows"),
              std::string::npos)
        << err.what();
  }
  bad = e.counts_json();
  bad.erase("label_id_matrix");
  EXPECT_THROW(CityscapesEvaluator::from_counts_json(bad, "shard.json"), DataError);
}

TEST(CityscapesMetrics, AverageClassSizesAreTheOfficialOnes) {
  EXPECT_DOUBLE_EQ(cityscapes_average_class_size("bicycle"), 4672.3249222261);
  EXPECT_DOUBLE_EQ(cityscapes_average_class_size("train"), 67583.7075812274);
  EXPECT_DOUBLE_EQ(cityscapes_average_class_size("trailer"), 16926.9763313609);
  EXPECT_DOUBLE_EQ(cityscapes_average_class_size("road"), 0.0);
}

TEST(CityscapesMetrics, UnknownLabelsAreErrors) {
  CityscapesEvaluator evaluator;
  const std::vector<uint8_t> gt = {7, 34};
  const std::vector<uint8_t> pred = {7, 7};
  const std::vector<uint32_t> inst = {7, 7};
  EXPECT_THROW(evaluator.add(gt.data(), pred.data(), inst.data(), 2, "g"), DataError);
  const std::vector<uint8_t> gt2 = {7, 7};
  const std::vector<uint32_t> bad_inst = {7, 40001};
  try {
    evaluator.add(gt2.data(), pred.data(), bad_inst.data(), 2, "inst.png");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("40001"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("inst.png"), std::string::npos) << e.what();
  }
}

// The same case as PNG files in a gtFine layout, through the CLI.
TEST(CityscapesMetrics, EvalSemanticCommandGivesHandValues) {
  testing::TempDir dir;
  const std::string stem = "bonn_000000_000019";
  data::PngImage gt = data::PngImage::gray(5, 3, 8);
  gt.data8 = kGt;
  data::PngImage pred = gt;
  pred.data8 = kPred;
  data::PngImage inst = data::PngImage::gray(5, 3, 16);
  inst.data16.assign(kInst.begin(), kInst.end());
  data::write_png(dir.file("gtFine/val/bonn/" + stem + "_gtFine_labelIds.png"), gt);
  data::write_png(dir.file("gtFine/val/bonn/" + stem + "_gtFine_instanceIds.png"), inst);
  data::write_png(dir.file("results/" + stem + "_leftImg8bit_pred.png"), pred);
  const std::string json = dir.file("scores.json");
  const auto r = testing::run_deeplab("eval-semantic --gt " + dir.path() + "/gtFine --pred " + dir.path() +
                                      "/results --label-map cityscapes-ids --json " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(core::read_file(json));
  EXPECT_DOUBLE_EQ(j["mIoU"].get<double>(), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(j["iIoU"].get<double>(), (0.75 + (kP / 2) / (kP + 1)) / 4.0);
  EXPECT_DOUBLE_EQ(j["category_mIoU"].get<double>(), (0.8 + 2.0 / 3.0 + 5.0 / 6.0) / 3.0);
  EXPECT_DOUBLE_EQ(j["category_iIoU"].get<double>(), (kP / (kP + 1) + 0.875) / 2.0);
  EXPECT_EQ(j["per_class"].size(), 19u);
  EXPECT_NE(r.output.find("n/a"), std::string::npos) << r.output;

  // A ground truth without its prediction is an error naming it.
  data::write_png(dir.file("gtFine/val/bonn/bonn_000001_000019_gtFine_labelIds.png"), gt);
  const auto missing = testing::run_deeplab("eval-semantic --gt " + dir.path() + "/gtFine --pred " + dir.path() +
                                            "/results --label-map cityscapes-ids");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("bonn_000001_000019"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace deeplab::eval
