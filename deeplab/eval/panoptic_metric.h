#pragma once
// Panoptic quality of a Panoptic-DeepLab evaluation, exactly as panopticapi
// computes it (eval/panoptic_quality.h): `PQ`, `SQ`, `RQ` (All) at the top of
// the result and `panoptic` with All / Things / Stuff and per-class counts.

#include <memory>
#include <string>
#include <vector>

#include "deeplab/eval/metric.h"
#include "deeplab/eval/panoptic_quality.h"

namespace deeplab::eval {

class PanopticMetric : public Metric {
 public:
  explicit PanopticMetric(std::vector<postprocess::PanopticCategory> categories);
  /// Read back from a result object; nullptr when it has no `panoptic` entry.
  static std::unique_ptr<PanopticMetric> from_json(const nlohmann::json& result, const std::string& source);

  std::string name() const override { return "panoptic"; }
  /// Needs the image's gt_segments and pred_segments.
  void add(const ScoredImage& image) override;
  void merge(const Metric& other) override;
  void write_json(nlohmann::json& result) const override;
  std::map<std::string, double> scores() const override;
  std::string report() const override;
  std::unique_ptr<Metric> clone() const override { return std::make_unique<PanopticMetric>(*this); }

  const PanopticQuality& quality() const { return quality_; }

 private:
  PanopticQuality quality_;
};

}  // namespace deeplab::eval
