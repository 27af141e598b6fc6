#pragma once
// Semantic segmentation scores from a confusion matrix: per-class IoU and
// accuracy, mIoU, pixel accuracy, mean class accuracy, frequency-weighted IoU.
//
// A class whose IoU is undefined (absent from both ground truth and
// prediction: TP + FP + FN = 0) has no IoU (`n/a`) and is left out of mIoU, as
// cityscapesScripts does; a class absent from the ground truth has no accuracy
// and is left out of the mean class accuracy.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

#include "deeplab/eval/confusion_matrix.h"

namespace deeplab::eval {

/// Scores of one class; nullopt where undefined.
struct ClassScore {
  std::optional<double> iou;       // TP / (TP + FP + FN)
  std::optional<double> accuracy;  // TP / (TP + FN)
  int64_t gt_pixels = 0;
  int64_t pred_pixels = 0;
};

/// All semantic scores of one matrix; fractions in [0, 1], nullopt where undefined.
struct SemanticScores {
  std::vector<ClassScore> classes;
  std::optional<double> miou;
  std::optional<double> pixel_accuracy;
  std::optional<double> mean_accuracy;
  std::optional<double> fw_iou;
  int64_t pixels = 0;
};

SemanticScores semantic_scores(const ConfusionMatrix& matrix);

/// `names` may be empty (classes are then named by index).
nlohmann::json semantic_scores_json(const SemanticScores& scores, const std::vector<std::string>& names,
                                    const ConfusionMatrix& matrix);
/// A readable table in percent, `n/a` for undefined entries.
std::string format_semantic_table(const SemanticScores& scores, const std::vector<std::string>& names);

/// `12.34`-style percent with the given decimals, or `n/a`.
std::string format_percent(const std::optional<double>& fraction, int decimals = 2);

}  // namespace deeplab::eval
