#pragma once
// What one evaluation run (or one shard of it) produced: the confusion matrix
// plus counts and time.  Shards merge by summing, so every image counts once.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "deeplab/eval/cityscapes_metrics.h"
#include "deeplab/eval/confusion_matrix.h"
#include "deeplab/eval/panoptic_quality.h"
#include "deeplab/eval/semantic_metrics.h"

namespace deeplab::eval {

/// Confusion matrix and bookkeeping of an evaluation; `merge` sums shards.
struct EvalResult {
  ConfusionMatrix matrix;
  int64_t images = 0;
  int64_t forward_passes = 0;  // model calls (windows x scales x flips)
  double seconds = 0.0;        // wall time of the loop (max over merged shards)
  int shards = 1;              // how many results were merged into this one
  /// PQ statistics of a panoptic model's evaluation; empty for semantic models.
  std::optional<PanopticQuality> panoptic;
  /// cityscapesScripts' label-id scores (iIoU, categories) of a Cityscapes evaluation.
  std::optional<CityscapesEvaluator> cityscapes;

  /// Sums `other` in; DataError when the class counts differ.
  EvalResult& merge(const EvalResult& other);
  SemanticScores scores() const { return semantic_scores(matrix); }
};

/// Every number: the semantic scores (top-level `mIoU`, per class, confusion
/// matrix) plus images, forward passes, seconds and shards; for a panoptic
/// evaluation also top-level `PQ`, `SQ`, `RQ` (All, fractions) and `panoptic`
/// (eval-panoptic's All / Things / Stuff / per_class); for Cityscapes also
/// top-level `iIoU`, `category_mIoU`, `category_iIoU`, `cityscapes` (eval-semantic
/// --label-map cityscapes-ids' scores) and `cityscapes_counts` (for merging).
nlohmann::json eval_result_json(const EvalResult& result, const std::vector<std::string>& class_names);
/// Reads what eval_result_json wrote (e.g. a shard's file); DataError naming `source` on a malformed file.
EvalResult eval_result_from_json(const nlohmann::json& json, const std::string& source);
/// Reads and parses a result file; IoError/DataError naming it.
EvalResult read_eval_result(const std::string& path);

/// The per-class table and a summary line (mIoU, images, time, rate).
std::string format_eval_report(const EvalResult& result, const std::vector<std::string>& class_names);

}  // namespace deeplab::eval
