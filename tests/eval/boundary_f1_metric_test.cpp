// The boundary F-score (eval.metrics: [boundary_f1]): F1 = 1 for a perfect
// prediction, the tolerance of 0.75 % of the diagonal decides whether a
// shifted boundary still counts, a class missing from the prediction scores
// 0, ignored pixels count for no class, shards merge to the whole, and it
// runs only when asked for.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "deeplab/eval/eval_config.h"
#include "deeplab/eval/eval_result.h"
#include "deeplab/eval/metric_table.h"

namespace deeplab::eval {
namespace {

// A 100x100 label map of class 0 with a square of class 1 at [top, top + 40).
at::Tensor square(int top, int left = 30) {
  auto map = torch::zeros({100, 100}, torch::kLong);
  map.slice(0, top, top + 40).slice(1, left, left + 40).fill_(1);
  return map;
}

ScoredImage image(const std::string& id, const at::Tensor& label, const at::Tensor& prediction) {
  ScoredImage scored;
  scored.id = id;
  scored.label = label;
  scored.prediction = prediction;
  return scored;
}

EvalResult boundary_result(int num_classes = 2) {
  MetricContext context;
  context.num_classes = num_classes;
  context.class_names = {"background", "square", "absent"};
  context.class_names.resize(static_cast<size_t>(num_classes));
  context.requested = {"boundary_f1"};
  EvalResult r;
  r.metrics = make_metrics(context);
  return r;
}

TEST(BoundaryF1, RunsOnlyWhenRequestedAndIsAValidBestMetric) {
  MetricContext context;
  context.num_classes = 2;
  EXPECT_EQ(make_metrics(context).size(), 1u) << "semantic only";
  context.requested = {"boundary_f1"};
  EXPECT_EQ(make_metrics(context).size(), 2u);
  const auto names = requestable_metric_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "boundary_f1"), names.end());
  const auto scores = score_names();
  EXPECT_NE(std::find(scores.begin(), scores.end(), "BF"), scores.end());
}

TEST(BoundaryF1, PerfectShiftedWithinAndBeyondTheTolerance) {
  // Tolerance: 0.75 % of the 141.4 px diagonal = 1.06 px.
  EvalResult perfect = boundary_result();
  perfect.add(image("a", square(20), square(20)));
  EXPECT_DOUBLE_EQ(*perfect.score("BF"), 1.0);

  EvalResult within = boundary_result();  // one pixel down: every boundary pixel within 1 px
  within.add(image("a", square(20), square(21)));
  EXPECT_DOUBLE_EQ(*within.score("BF"), 1.0);

  EvalResult beyond = boundary_result();  // five pixels down: only the side edges still match
  beyond.add(image("a", square(20), square(25)));
  const double bf = *beyond.score("BF");
  EXPECT_GT(bf, 0.3);
  EXPECT_LT(bf, 0.8);
  EXPECT_LT(bf, *within.score("BF"));
}

TEST(BoundaryF1, AMissedClassScoresZeroAndIgnoredPixelsCountForNone) {
  EvalResult missed = boundary_result();
  missed.add(image("a", square(20), torch::zeros({100, 100}, torch::kLong)));
  const nlohmann::json json = eval_result_json(missed);
  EXPECT_DOUBLE_EQ(json.at("boundary_f1").at("per_class").at(1).at("f1").get<double>(), 0.0);
  EXPECT_EQ(json.at("boundary_f1").at("per_class").at(1).at("images").get<int64_t>(), 1);

  // The prediction's square where the ground truth is void is not scored:
  // no class-1 pixel remains on either side, so class 1 counts in no image.
  EvalResult ignored = boundary_result();
  auto gt = torch::zeros({100, 100}, torch::kLong);
  gt.slice(0, 20, 60).slice(1, 30, 70).fill_(255);
  ignored.add(image("a", gt, square(20)));  // ignore label 255
  const nlohmann::json j = eval_result_json(ignored);
  EXPECT_EQ(j.at("boundary_f1").at("per_class").at(1).at("images").get<int64_t>(), 0);
  EXPECT_TRUE(j.at("boundary_f1").at("per_class").at(1).at("f1").is_null());
}

TEST(BoundaryF1, ShardsMergeToTheWholeAndSurviveTheirJson) {
  EvalResult whole = boundary_result();
  EvalResult first = boundary_result(), second = boundary_result();
  for (int i = 0; i < 4; ++i) {
    const at::Tensor gt = square(10 + 5 * i), pred = square(12 + 4 * i, 28);
    whole.add(image("img" + std::to_string(i), gt, pred));
    (i % 2 ? second : first).add(image("img" + std::to_string(i), gt, pred));
  }
  EvalResult merged = eval_result_from_json(eval_result_json(first), "first.json");
  merged.merge(eval_result_from_json(eval_result_json(second), "second.json"));
  EXPECT_NEAR(*merged.score("BF"), *whole.score("BF"), 1e-12);
  EXPECT_NE(format_eval_report(merged).find("boundary F-score"), std::string::npos);
}

}  // namespace
}  // namespace deeplab::eval
