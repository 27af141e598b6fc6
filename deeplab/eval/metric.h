#pragma once
// One interface for every score an evaluation reports.  A metric sees each
// evaluated image, sums another shard's statistics in, writes its numbers
// into the result JSON (and is read back from it), names the scores it gives
// (what eval.best_metric looks up) and prints its part of the report.
// Which metrics a run has comes from one table (eval/metric_table.h): a new
// metric is one file plus one row there.

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include <map>
#include <memory>
#include <string>

namespace deeplab::postprocess {
struct PanopticSegmentation;
}  // namespace deeplab::postprocess

namespace deeplab::eval {

/// One evaluated image, as every metric sees it.
struct ScoredImage {
  std::string id;
  at::Tensor label;       ///< int64 [H, W] ground-truth train ids; the ignore label for void
  at::Tensor prediction;  ///< int64 [H, W] predicted train ids
  at::Tensor instances;   ///< int32 [H, W] instance ids (Sample::instances' encoding), or undefined
  int ignore_label = 255;
  const postprocess::PanopticSegmentation* gt_segments = nullptr;    ///< panoptic evaluations only
  const postprocess::PanopticSegmentation* pred_segments = nullptr;  ///< panoptic evaluations only
};

class Metric {
 public:
  virtual ~Metric() = default;
  /// Its row in the metric table (eval/metric_table.h).
  virtual std::string name() const = 0;
  virtual void add(const ScoredImage& image) = 0;
  /// Sums `other` (the same metric of another shard) in; DataError when they do not fit.
  virtual void merge(const Metric& other) = 0;
  /// Its numbers into the result object, with what merging shards needs.
  virtual void write_json(nlohmann::json& result) const = 0;
  /// The scores it gives, as fractions (e.g. {"mIoU", 0.71}); undefined ones absent.
  virtual std::map<std::string, double> scores() const = 0;
  /// Its part of the printed report.
  virtual std::string report() const = 0;
  virtual std::unique_ptr<Metric> clone() const = 0;
};

}  // namespace deeplab::eval
