// Semantic scores on hand-computed confusion matrices: ignore pixels, absent
// classes (n/a, left out of mIoU), predicted-only classes (IoU 0), merging.

#include "deeplab/eval/confusion_matrix.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "deeplab/core/error.h"
#include "deeplab/eval/semantic_metrics.h"

namespace deeplab::eval {
namespace {

// 4 classes, ignore 255.  Pixels (gt, pred):
//   (0,0) (0,0) (0,1) (1,1) (1,2) (2,2) (255,3) (255,0) (2,0) (0,0)
// The two ignore pixels drop out, so class 3 (predicted only on an ignore
// pixel) is absent from both.  Matrix rows gt, columns pred:
//   0: [3 1 0 0]   1: [0 1 1 0]   2: [1 0 1 0]   3: [0 0 0 0]
// class 0: TP 3, gt 4, pred 4 -> IoU 3/5,  acc 3/4
// class 1: TP 1, gt 2, pred 2 -> IoU 1/3,  acc 1/2
// class 2: TP 1, gt 2, pred 2 -> IoU 1/3,  acc 1/2
// class 3: n/a for both
// mIoU = (3/5 + 1/3 + 1/3) / 3;  pixel acc = 5/8;  mean acc = (3/4 + 1/2 + 1/2) / 3
// fwIoU = 4/8 * 3/5 + 2/8 * 1/3 + 2/8 * 1/3
const std::vector<uint8_t> kGt = {0, 0, 0, 1, 1, 2, 255, 255, 2, 0};
const std::vector<uint8_t> kPred = {0, 0, 1, 1, 2, 2, 3, 0, 0, 0};

TEST(ConfusionMatrix, AbsentClassAndIgnorePixels) {
  ConfusionMatrix m(4);
  m.add(kGt.data(), kPred.data(), kGt.size(), 255);
  EXPECT_EQ(m.total(), 8);
  EXPECT_EQ(m.at(0, 0), 3);
  EXPECT_EQ(m.at(0, 1), 1);
  EXPECT_EQ(m.at(2, 0), 1);
  EXPECT_EQ(m.gt_count(3) + m.pred_count(3), 0);
  const SemanticScores s = semantic_scores(m);
  ASSERT_TRUE(s.classes[0].iou && s.classes[1].iou && s.classes[2].iou);
  EXPECT_DOUBLE_EQ(*s.classes[0].iou, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(*s.classes[1].iou, 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(*s.classes[2].iou, 1.0 / 3.0);
  EXPECT_FALSE(s.classes[3].iou);
  EXPECT_FALSE(s.classes[3].accuracy);
  EXPECT_DOUBLE_EQ(*s.miou, (3.0 / 5.0 + 1.0 / 3.0 + 1.0 / 3.0) / 3.0);
  EXPECT_DOUBLE_EQ(*s.pixel_accuracy, 5.0 / 8.0);
  EXPECT_DOUBLE_EQ(*s.mean_accuracy, (3.0 / 4.0 + 0.5 + 0.5) / 3.0);
  EXPECT_DOUBLE_EQ(*s.fw_iou, 4.0 / 8.0 * 3.0 / 5.0 + 2.0 / 8.0 / 3.0 + 2.0 / 8.0 / 3.0);
  const std::string table = format_semantic_table(s, {});
  EXPECT_NE(table.find("n/a"), std::string::npos) << table;
  const nlohmann::json j = semantic_scores_json(s, {"a", "b", "c", "d"}, m);
  EXPECT_TRUE(j["per_class"][3]["iou"].is_null());
  EXPECT_EQ(j["per_class"][1]["name"], "b");
  EXPECT_DOUBLE_EQ(j["mIoU"].get<double>(), *s.miou);
  EXPECT_EQ(j["confusion_matrix"][0][1], 1);
}

// 3 classes, gt = [0 0], pred = [0 2]: class 0 IoU 1/2, class 1 absent (n/a),
// class 2 predicted but never true: IoU 0/1 = 0, and it counts in mIoU:
// mIoU = (1/2 + 0) / 2 = 1/4; mean accuracy only over class 0: 1/2.
TEST(ConfusionMatrix, PredictedOnlyClassCountsAsZero) {
  ConfusionMatrix m(3);
  const std::vector<int64_t> gt = {0, 0};
  const std::vector<int64_t> pred = {0, 2};
  m.add(gt.data(), pred.data(), gt.size(), 255);
  const SemanticScores s = semantic_scores(m);
  EXPECT_DOUBLE_EQ(*s.classes[2].iou, 0.0);
  EXPECT_FALSE(s.classes[1].iou);
  EXPECT_DOUBLE_EQ(*s.miou, 0.25);
  EXPECT_DOUBLE_EQ(*s.mean_accuracy, 0.5);
}

TEST(ConfusionMatrix, MergeEqualsOnePassAndRawAccessSums) {
  ConfusionMatrix whole(4), first(4), second(4);
  whole.add(kGt.data(), kPred.data(), kGt.size(), 255);
  first.add(kGt.data(), kPred.data(), 5, 255);
  second.add(kGt.data() + 5, kPred.data() + 5, kGt.size() - 5, 255);
  ConfusionMatrix merged = first;
  merged += second;
  EXPECT_EQ(std::vector<int64_t>(merged.data(), merged.data() + merged.size()),
            std::vector<int64_t>(whole.data(), whole.data() + whole.size()));
  // What an all-reduce does: sum the raw buffers.
  ConfusionMatrix reduced(4);
  for (size_t i = 0; i < reduced.size(); ++i) reduced.data()[i] = first.data()[i] + second.data()[i];
  EXPECT_EQ(reduced.total(), whole.total());
  EXPECT_THROW(merged.merge(ConfusionMatrix(3)), DataError);
}

TEST(ConfusionMatrix, OutOfRangeValuesNameSourceAndValue) {
  ConfusionMatrix m(4);
  const std::vector<uint8_t> gt = {0, 7};
  const std::vector<uint8_t> pred = {0, 0};
  try {
    m.add(gt.data(), pred.data(), 2, 255, "x.png");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("x.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("ground-truth value 7"), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> gt2 = {0, 1};
  const std::vector<uint8_t> pred2 = {0, 255};
  try {
    m.add(gt2.data(), pred2.data(), 2, 255, "y.png");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("predicted value 255 at pixel 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deeplab::eval
