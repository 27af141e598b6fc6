#pragma once
// `eval:` section of an experiment config: how predictions are made
// (inference/prediction_config.h) and how they are scored.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"
#include "deeplab/inference/prediction_config.h"

namespace deeplab::eval {

/// The eval.metrics and eval.best_metric values, read from the metric table
/// (eval/metric_table.cpp), so validation and the metrics cannot drift.
std::vector<std::string> requestable_metric_names();
std::vector<std::string> score_names();

/// The prediction settings (one YAML section with them) plus the scoring ones.
struct EvalConfig : inference::PredictionConfig {
  std::string split = "val";
  /// The score best.pth is kept for: any score of the run's metrics (mIoU,
  /// PQ for panoptic models, iIoU on Cityscapes ...).
  std::string best_metric = "mIoU";
  /// Metrics that run only when named here (eval/metric_table.h), besides
  /// the ones every evaluation of its kind has.
  std::vector<std::string> metrics;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    PredictionConfig::fields(v);
    v("split", split);
    v("best_metric", best_metric, one_of(score_names()));
    v("metrics", metrics, one_of(requestable_metric_names()));
  }
};

}  // namespace deeplab::eval
