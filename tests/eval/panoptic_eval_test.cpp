// Panoptic evaluation in memory: ground-truth segments by createPanopticImgs'
// rules on train ids (instances >= 1000, crowd below, VOID on ignore), the
// predicted segments of a panoptic map (road = id 0 never becomes VOID), and
// PQ in the evaluation JSON surviving a shard round trip.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/eval/eval_result.h"
#include "deeplab/eval/metric_table.h"
#include "deeplab/eval/panoptic_metric.h"
#include "deeplab/eval/semantic_metric.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::eval {
namespace {

const postprocess::PanopticSegment& segment_at(const postprocess::PanopticSegmentation& s, size_t pixel) {
  return s.segments.at(s.ids.at(pixel) - 1);
}

TEST(PanopticEval, GroundTruthFollowsCreatePanopticImgs) {
  // Row-major 2 x 4: road road | car 26000 car 26001 (touching) | crowd car | void.
  const auto label = torch::tensor({0, 0, 13, 13, 13, 255, 11, 0}, torch::kLong).view({2, 4});
  const auto instances = torch::tensor({7, 7, 26000, 26001, 26, 0, 24000, 7}, torch::kInt).view({2, 4});
  const auto gt = postprocess::ground_truth_segmentation(label, instances, {11, 13}, 255);
  ASSERT_EQ(gt.ids.size(), 8u);
  EXPECT_EQ(gt.ids[5], 0u) << "ignore is VOID";
  EXPECT_EQ(gt.ids[0], gt.ids[1]);
  EXPECT_EQ(gt.ids[0], gt.ids[7]) << "one stuff segment per class";
  EXPECT_EQ(segment_at(gt, 0).area, 3);
  EXPECT_EQ(segment_at(gt, 0).category_id, 0);
  EXPECT_NE(gt.ids[2], gt.ids[3]) << "26000 is a car (Cityscapes numbering starts at 0)";
  EXPECT_FALSE(segment_at(gt, 2).iscrowd);
  EXPECT_EQ(segment_at(gt, 2).category_id, 13);
  EXPECT_TRUE(segment_at(gt, 4).iscrowd) << "a car pixel below 1000 is crowd";
  EXPECT_EQ(segment_at(gt, 4).category_id, 13);
  EXPECT_EQ(segment_at(gt, 6).category_id, 11);
  EXPECT_FALSE(segment_at(gt, 6).iscrowd);
  EXPECT_EQ(gt.segments.size(), 5u);
  for (const auto& s : gt.segments) EXPECT_NE(s.id, 0u);
}

TEST(PanopticEval, PredictedSegmentsNeverUseVoidsId) {
  const auto panoptic = torch::tensor({0, 0, -1, 13001, 13002, 13001, 11001, 10000}, torch::kInt).view({2, 4});
  const auto pred = postprocess::predicted_segmentation(panoptic, 1000);
  EXPECT_EQ(pred.ids[2], 0u);
  EXPECT_NE(pred.ids[0], 0u) << "road (stuff class 0) is panoptic id 0, not VOID";
  EXPECT_EQ(segment_at(pred, 0).category_id, 0);
  EXPECT_EQ(segment_at(pred, 0).area, 2);
  EXPECT_EQ(pred.ids[3], pred.ids[5]);
  EXPECT_NE(pred.ids[3], pred.ids[4]);
  EXPECT_EQ(segment_at(pred, 4).category_id, 13);
  EXPECT_EQ(segment_at(pred, 6).category_id, 11);
  EXPECT_EQ(segment_at(pred, 7).category_id, 10);
  EXPECT_EQ(pred.segments.size(), 5u);
}

TEST(PanopticEval, ResultJsonCarriesPqAndSurvivesAShardRoundTrip) {
  const std::vector<postprocess::PanopticCategory> categories = {{0, "road", false}, {13, "car", true}};
  MetricContext context;
  context.num_classes = 14;
  context.class_names = std::vector<std::string>(14, "c");
  context.panoptic_categories = categories;
  EvalResult a;
  a.metrics = make_metrics(context);
  ASSERT_EQ(a.metrics.size(), 2u) << "semantic and panoptic";
  // Ground truth: road (2 px) and one car (2 px); the prediction's road takes
  // one car pixel (IoU 2/3, a match) and its car is half the car (IoU 1/2,
  // not above 0.5: a miss and a false positive).
  const auto label = torch::tensor({0, 0, 13, 13}, torch::kLong).view({1, 4});
  const auto instances = torch::tensor({7, 7, 26000, 26000}, torch::kInt).view({1, 4});
  const auto gt = postprocess::ground_truth_segmentation(label, instances, {13}, 255);
  const auto pred =
      postprocess::predicted_segmentation(torch::tensor({0, 0, 13001, 0}, torch::kInt).view({1, 4}), 1000);
  const auto semantic = torch::tensor({0, 0, 13, 0}, torch::kLong).view({1, 4});
  a.add({"img", label, semantic, instances, 255, &gt, &pred});
  const PanopticResult expected = a.find<PanopticMetric>()->quality().result();
  EXPECT_DOUBLE_EQ(*a.score("PQ"), expected.all.pq);
  const auto json = eval_result_json(a);
  EXPECT_DOUBLE_EQ(json.at("PQ").get<double>(), expected.all.pq);
  EXPECT_DOUBLE_EQ(json.at("SQ").get<double>(), expected.all.sq);
  EXPECT_DOUBLE_EQ(json.at("RQ").get<double>(), expected.all.rq);
  EXPECT_TRUE(json.at("panoptic").contains("Things"));
  EXPECT_TRUE(json.at("panoptic").at("per_class").contains("13"));

  EvalResult back = eval_result_from_json(json, "shard.json");
  ASSERT_NE(back.find<PanopticMetric>(), nullptr);
  back.merge(eval_result_from_json(json, "shard2.json"));
  const PanopticQuality& twice = back.find<PanopticMetric>()->quality();
  EXPECT_DOUBLE_EQ(twice.result().all.pq, expected.all.pq);
  EXPECT_EQ(twice.counts()[1].fp, 2 * a.find<PanopticMetric>()->quality().counts()[1].fp);
  EvalResult semantic_only;
  semantic_only.metrics.push_back(std::make_unique<SemanticMetric>(14, std::vector<std::string>{}));
  EXPECT_THROW(back.merge(semantic_only), DataError);
}

}  // namespace
}  // namespace deeplab::eval
