#include "deeplab/eval/metric_table.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "deeplab/eval/cityscapes_metric.h"
#include "deeplab/eval/eval_config.h"
#include "deeplab/eval/panoptic_metric.h"
#include "deeplab/eval/semantic_metric.h"

namespace deeplab::eval {

// Metrics that live in one file each declare their make and read here.
std::unique_ptr<Metric> make_boundary_f1_metric(const MetricContext& context);
std::unique_ptr<Metric> read_boundary_f1_metric(const nlohmann::json& result, const std::string& source);
std::unique_ptr<Metric> make_foreground_miou_metric(const MetricContext& context);
std::unique_ptr<Metric> read_foreground_miou_metric(const nlohmann::json& result, const std::string& source);

namespace {

bool requested(const MetricContext& c, const std::string& name) {
  return std::find(c.requested.begin(), c.requested.end(), name) != c.requested.end();
}

}  // namespace

const std::vector<MetricKind>& metric_kinds() {
  static const std::vector<MetricKind> kinds = {
      {"semantic",
       {"mIoU", "pixel_accuracy", "mean_accuracy", "fwIoU"},
       false,
       [](const MetricContext&) { return true; },
       [](const MetricContext& c) -> std::unique_ptr<Metric> {
         return std::make_unique<SemanticMetric>(c.num_classes, c.class_names);
       },
       [](const nlohmann::json& j, const std::string& s) -> std::unique_ptr<Metric> {
         return SemanticMetric::from_json(j, s);
       }},
      {"panoptic",
       {"PQ", "SQ", "RQ", "PQ_things", "PQ_stuff"},
       false,
       [](const MetricContext& c) { return c.panoptic_categories.has_value(); },
       [](const MetricContext& c) -> std::unique_ptr<Metric> {
         return std::make_unique<PanopticMetric>(*c.panoptic_categories);
       },
       [](const nlohmann::json& j, const std::string& s) -> std::unique_ptr<Metric> {
         return PanopticMetric::from_json(j, s);
       }},
      {"cityscapes",
       {"iIoU", "category_mIoU", "category_iIoU"},
       false,
       [](const MetricContext& c) { return c.cityscapes_label_ids.size() == 256; },
       [](const MetricContext& c) -> std::unique_ptr<Metric> {
         return std::make_unique<CityscapesMetric>(c.cityscapes_label_ids);
       },
       [](const nlohmann::json& j, const std::string& s) -> std::unique_ptr<Metric> {
         return CityscapesMetric::from_json(j, s);
       }},
      {"boundary_f1",
       {"BF"},
       true,
       [](const MetricContext& c) { return requested(c, "boundary_f1"); },
       make_boundary_f1_metric,
       read_boundary_f1_metric},
      {"foreground",
       {"mIoU_fg"},
       true,
       [](const MetricContext& c) { return requested(c, "foreground"); },
       make_foreground_miou_metric,
       read_foreground_miou_metric},
  };
  return kinds;
}

std::vector<std::string> requestable_metric_names() {
  std::vector<std::string> names;
  for (const auto& k : metric_kinds()) {
    if (k.on_request) names.push_back(k.name);
  }
  return names;
}

std::vector<std::string> score_names() {
  std::vector<std::string> names;
  for (const auto& k : metric_kinds()) names.insert(names.end(), k.scores.begin(), k.scores.end());
  return names;
}

const MetricKind* kind_giving(const std::string& score) {
  for (const auto& k : metric_kinds()) {
    if (std::find(k.scores.begin(), k.scores.end(), score) != k.scores.end()) return &k;
  }
  return nullptr;
}

std::vector<std::unique_ptr<Metric>> make_metrics(const MetricContext& context) {
  std::vector<std::unique_ptr<Metric>> metrics;
  for (const auto& k : metric_kinds()) {
    if (k.applies(context)) metrics.push_back(k.make(context));
  }
  return metrics;
}

std::vector<std::unique_ptr<Metric>> read_metrics(const nlohmann::json& result, const std::string& source) {
  std::vector<std::unique_ptr<Metric>> metrics;
  for (const auto& k : metric_kinds()) {
    if (auto metric = k.read(result, source)) metrics.push_back(std::move(metric));
  }
  return metrics;
}

}  // namespace deeplab::eval
