#pragma once
// Cityscapes pixel-level scores exactly as cityscapesScripts'
// evalPixelLevelSemanticLabeling computes them, on label ids (0..33):
//
// - class IoU: FN is the whole ground-truth row minus TP, so predicting an
//   ignored class on a pixel of class c counts against c; FP sums the column
//   over rows of non-ignored classes only, so ground-truth pixels of ignored
//   classes are never false positives.  Ignored classes have no score.
// - category IoU: the same over groups of labels (7 categories; `void` has none).
// - iIoU: TP and FN of each ground-truth instance (instanceIds > 1000) are
//   weighted by the official average class size / instance size; FP as for IoU.
// - Averages leave out undefined (NaN) scores.

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "deeplab/data/cityscapes_labels.h"
#include "deeplab/eval/confusion_matrix.h"

namespace deeplab::eval {

constexpr int kCityscapesIds = data::kCityscapesMaxLabelId + 1;  // 34
constexpr int kCityscapesCategories = 8;

/// The official average instance size (pixels) of a class with instances; 0 for others.
double cityscapes_average_class_size(const std::string& class_name);

/// Instance-level counts of one class or category.
struct InstanceCounts {
  int64_t tp = 0;
  int64_t fn = 0;
  double tp_weighted = 0.0;
  double fn_weighted = 0.0;
};

/// Scores indexed by label id (0..33) or category id (0..7); nullopt = NaN in cityscapesScripts.
struct CityscapesScores {
  std::array<std::optional<double>, kCityscapesIds> class_iou;
  std::array<std::optional<double>, kCityscapesIds> class_iiou;
  std::array<std::optional<double>, kCityscapesCategories> category_iou;
  std::array<std::optional<double>, kCityscapesCategories> category_iiou;
  std::optional<double> miou;
  std::optional<double> iiou;
  std::optional<double> category_miou;
  std::optional<double> category_iiou_mean;
};

/// Accumulates Cityscapes images (label-id ground truth, predictions and instance ids); mergeable.
class CityscapesEvaluator {
 public:
  CityscapesEvaluator();

  /// One image of `n` pixels.  `instances` (the *_instanceIds.png values) may be
  /// null to skip iIoU.  Values outside 0..33 (or an instance of an unknown
  /// class) throw DataError naming `source`.
  void add(const uint8_t* gt, const uint8_t* pred, const uint32_t* instances, size_t n, const std::string& source);

  CityscapesEvaluator& merge(const CityscapesEvaluator& other);

  const ConfusionMatrix& matrix() const { return matrix_; }
  const std::array<InstanceCounts, kCityscapesIds>& class_instances() const { return class_instances_; }
  const std::array<InstanceCounts, kCityscapesCategories>& category_instances() const { return category_instances_; }

  CityscapesScores scores() const;

  /// The counts as JSON (what a shard's result file keeps to merge exactly) and back;
  /// DataError naming `source` for a malformed object.
  nlohmann::json counts_json() const;
  static CityscapesEvaluator from_counts_json(const nlohmann::json& json, const std::string& source);

 private:
  void add_instances(const uint8_t* pred, const uint32_t* instances, size_t n, const std::string& source);

  ConfusionMatrix matrix_;
  std::array<InstanceCounts, kCityscapesIds> class_instances_{};
  std::array<InstanceCounts, kCityscapesCategories> category_instances_{};
};

/// JSON with `mIoU`, `iIoU`, `category_mIoU`, `category_iIoU`, per-class and per-category entries.
nlohmann::json cityscapes_scores_json(const CityscapesScores& scores, const ConfusionMatrix& matrix);
/// The class and category tables in percent.
std::string format_cityscapes_table(const CityscapesScores& scores);

}  // namespace deeplab::eval
