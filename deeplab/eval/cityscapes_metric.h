#pragma once
// cityscapesScripts' scores of a Cityscapes evaluation: predictions and
// ground truth back in label ids, with the instance maps for iIoU
// (eval/cityscapes_metrics.h).  Adds `iIoU`, `category_mIoU`,
// `category_iIoU`, `cityscapes` and `cityscapes_counts` (to merge shards) to
// the result.

#include <memory>
#include <string>
#include <vector>

#include "deeplab/eval/cityscapes_metrics.h"
#include "deeplab/eval/metric.h"

namespace deeplab::eval {

class CityscapesMetric : public Metric {
 public:
  /// `label_ids`: train id -> Cityscapes label id, 256 entries (the descriptor's label map reversed).
  explicit CityscapesMetric(std::vector<int> label_ids);
  /// Read back from a result object; nullptr when it has no `cityscapes_counts`.
  static std::unique_ptr<CityscapesMetric> from_json(const nlohmann::json& result, const std::string& source);

  std::string name() const override { return "cityscapes"; }
  void add(const ScoredImage& image) override;
  void merge(const Metric& other) override;
  void write_json(nlohmann::json& result) const override;
  std::map<std::string, double> scores() const override;
  std::string report() const override;
  std::unique_ptr<Metric> clone() const override { return std::make_unique<CityscapesMetric>(*this); }

  const CityscapesEvaluator& evaluator() const { return evaluator_; }

 private:
  std::vector<uint8_t> to_label_ids(const at::Tensor& train_ids) const;

  std::vector<int> label_ids_;
  CityscapesEvaluator evaluator_;
};

}  // namespace deeplab::eval
