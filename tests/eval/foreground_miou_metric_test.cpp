// mIoU without background (eval.metrics: [foreground]), PASCAL-Context's
// 59-class figure: background ground truth leaves the count, background
// predictions on a class's pixels still miss them; hand-counted on a small
// map, shards merge to the whole, the JSON reads back.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "deeplab/eval/eval_config.h"
#include "deeplab/eval/eval_result.h"
#include "deeplab/eval/metric_table.h"

namespace deeplab::eval {
namespace {

EvalResult foreground_result() {
  MetricContext context;
  context.num_classes = 3;
  context.class_names = {"background", "a", "b"};
  context.requested = {"foreground"};
  EvalResult r;
  r.metrics = make_metrics(context);
  return r;
}

ScoredImage image(const std::string& id, std::vector<int64_t> gt, std::vector<int64_t> pred) {
  ScoredImage s;
  s.id = id;
  s.label = torch::tensor(gt, torch::kLong).reshape({1, -1});
  s.prediction = torch::tensor(pred, torch::kLong).reshape({1, -1});
  return s;
}

// gt:   0 0 1 1 1 2 2 255
// pred: 1 0 1 1 0 2 1 2
// Without the background pixels and the ignored one:
//   class 1: TP 2, FN 1 (predicted background), FP 1 (a class-2 pixel) -> 2/4
//   class 2: TP 1, FN 1, FP 0 -> 1/2    (the background pixel predicted 1 is left out)
// mIoU_fg = (0.5 + 0.5) / 2; the 3-class mIoU counts the background and the
// background pixel predicted as class 1.
TEST(ForegroundMiou, HandCountedAndUnlikeTheThreeClassMiou) {
  EvalResult r = foreground_result();
  r.add(image("x", {0, 0, 1, 1, 1, 2, 2, 255}, {1, 0, 1, 1, 0, 2, 1, 2}));
  EXPECT_DOUBLE_EQ(*r.score("mIoU_fg"), 0.5);
  // With background: class 0 TP 1, FN 1, FP 1 -> 1/3; class 1 TP 2, FN 1, FP 2 -> 2/5; class 2 -> 1/2.
  EXPECT_NEAR(*r.score("mIoU"), (1.0 / 3 + 2.0 / 5 + 0.5) / 3, 1e-12);
}

TEST(ForegroundMiou, ShardsMergeToTheWholeAndJsonReadsBack) {
  EvalResult whole = foreground_result(), first = foreground_result(), second = foreground_result();
  const auto a = image("a", {1, 1, 2, 0}, {1, 2, 2, 1});
  const auto b = image("b", {2, 2, 0, 1}, {0, 2, 2, 1});
  whole.add(a);
  whole.add(b);
  first.add(a);
  second.add(b);
  first.merge(second);
  EXPECT_DOUBLE_EQ(*first.score("mIoU_fg"), *whole.score("mIoU_fg"));
  const EvalResult back = eval_result_from_json(eval_result_json(whole), "test");
  EXPECT_DOUBLE_EQ(*back.score("mIoU_fg"), *whole.score("mIoU_fg"));
  EXPECT_NE(format_eval_report(whole).find("mIoU without background (2 classes"), std::string::npos);
}

TEST(ForegroundMiou, RunsOnRequestAndIsABestMetric) {
  MetricContext context;
  context.num_classes = 3;
  EXPECT_EQ(make_metrics(context).size(), 1u);
  const auto scores = score_names();
  EXPECT_NE(std::find(scores.begin(), scores.end(), "mIoU_fg"), scores.end());
  const auto names = requestable_metric_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "foreground"), names.end());
}

}  // namespace
}  // namespace deeplab::eval
