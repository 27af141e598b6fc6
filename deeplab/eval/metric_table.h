#pragma once
// The metric table: every metric an evaluation can report, when it runs,
// the scores it gives (what eval.best_metric names), and how it is made and
// read back from a result file.  A new metric is one file (its Metric, with a
// make and a read function) plus one row in metric_table.cpp.

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "deeplab/eval/metric.h"
#include "deeplab/eval/panoptic_quality.h"

namespace deeplab::eval {

/// What the metrics of one evaluation are made from.
struct MetricContext {
  int num_classes = 0;
  std::vector<std::string> class_names;
  /// Set for a panoptic evaluation (ids = train ids).
  std::optional<std::vector<postprocess::PanopticCategory>> panoptic_categories;
  /// Train id -> Cityscapes label id (256 entries) for a Cityscapes dataset; empty otherwise.
  std::vector<int> cityscapes_label_ids;
  /// eval.metrics: the metrics that run only when asked for.
  std::vector<std::string> requested;
};

/// One row of the table.
struct MetricKind {
  std::string name;
  std::vector<std::string> scores;  ///< score names it gives
  bool on_request;                  ///< runs only when eval.metrics names it
  bool (*applies)(const MetricContext&);
  std::unique_ptr<Metric> (*make)(const MetricContext&);
  /// From a result object; nullptr when the object holds none of it.
  std::unique_ptr<Metric> (*read)(const nlohmann::json& result, const std::string& source);
};

const std::vector<MetricKind>& metric_kinds();
/// eval.metrics accepts requestable_metric_names() (the metrics that run on
/// request), eval.best_metric score_names() (every score some metric gives):
/// both declared in eval_config.h.
/// The metric that gives `score`, or nullptr.
const MetricKind* kind_giving(const std::string& score);

/// The metrics of an evaluation with `context`, in table order.
std::vector<std::unique_ptr<Metric>> make_metrics(const MetricContext& context);
/// The metrics a result object holds, in table order.
std::vector<std::unique_ptr<Metric>> read_metrics(const nlohmann::json& result, const std::string& source);

}  // namespace deeplab::eval
