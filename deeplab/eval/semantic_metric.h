#pragma once
// The semantic scores (docs/metrics.md): a confusion matrix of train ids, and
// from it per-class IoU and accuracy, mIoU, pixel accuracy, mean class
// accuracy and frequency-weighted IoU.  Its JSON keys sit at the top of the
// result (`mIoU`, `per_class`, `confusion_matrix` ...).

#include <memory>
#include <string>
#include <vector>

#include "deeplab/eval/confusion_matrix.h"
#include "deeplab/eval/metric.h"
#include "deeplab/eval/semantic_metrics.h"

namespace deeplab::eval {

class SemanticMetric : public Metric {
 public:
  /// `class_names` may be empty (classes are then named by index).
  SemanticMetric(int num_classes, std::vector<std::string> class_names);
  /// Read back from a result object; nullptr when it has no confusion matrix.
  static std::unique_ptr<SemanticMetric> from_json(const nlohmann::json& result, const std::string& source);

  std::string name() const override { return "semantic"; }
  void add(const ScoredImage& image) override;
  void merge(const Metric& other) override;
  void write_json(nlohmann::json& result) const override;
  std::map<std::string, double> scores() const override;
  std::string report() const override;
  std::unique_ptr<Metric> clone() const override { return std::make_unique<SemanticMetric>(*this); }

  const ConfusionMatrix& matrix() const { return matrix_; }
  const std::vector<std::string>& class_names() const { return class_names_; }
  SemanticScores semantic_scores() const { return eval::semantic_scores(matrix_); }

 private:
  ConfusionMatrix matrix_;
  std::vector<std::string> class_names_;
};

}  // namespace deeplab::eval
