#pragma once
// What one evaluation run (or one shard of it) produced: its metrics (the
// metric table decides which: eval/metric_table.h) plus counts and time.
// Shards merge by summing, so every image counts once.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deeplab/eval/metric.h"

namespace deeplab::eval {

struct EvalResult {
  std::vector<std::unique_ptr<Metric>> metrics;
  int64_t images = 0;
  int64_t forward_passes = 0;  // model calls (windows x scales x flips)
  double seconds = 0.0;        // wall time of the loop (max over merged shards)
  int shards = 1;              // how many results were merged into this one

  EvalResult() = default;
  EvalResult(const EvalResult& other);
  EvalResult& operator=(const EvalResult& other);
  EvalResult(EvalResult&&) noexcept = default;
  EvalResult& operator=(EvalResult&&) noexcept = default;

  /// Gives every metric the image.
  void add(const ScoredImage& image);
  /// Sums `other` in, metric by metric; DataError when their metrics differ.
  EvalResult& merge(const EvalResult& other);
  /// A score by name ("mIoU", "PQ", "iIoU" ...); nullopt when no metric gives it.
  std::optional<double> score(const std::string& name) const;
  /// The metric of that table row, or nullptr.
  const Metric* metric(const std::string& name) const;
  template <class T>
  const T* find() const {
    for (const auto& m : metrics) {
      if (const auto* t = dynamic_cast<const T*>(m.get())) return t;
    }
    return nullptr;
  }
};

/// Every number: each metric's keys (the semantic ones at the top: `mIoU`,
/// `per_class`, `confusion_matrix`; `PQ`, `SQ`, `RQ` and `panoptic` for a
/// panoptic model; `iIoU` ... `cityscapes` for Cityscapes), plus images,
/// forward passes, seconds, images per second and shards.
nlohmann::json eval_result_json(const EvalResult& result);
/// Reads what eval_result_json wrote (e.g. a shard's file); DataError naming `source` on a malformed file.
EvalResult eval_result_from_json(const nlohmann::json& json, const std::string& source);
/// Reads and parses a result file; IoError/DataError naming it.
EvalResult read_eval_result(const std::string& path);

/// Each metric's report (the semantic table first) and a summary line (images, time, rate).
std::string format_eval_report(const EvalResult& result);

}  // namespace deeplab::eval
