#include "deeplab/eval/semantic_metric.h"

#include <nlohmann/json.hpp>

#include "deeplab/core/error.h"

namespace deeplab::eval {

SemanticMetric::SemanticMetric(int num_classes, std::vector<std::string> class_names)
    : matrix_(num_classes), class_names_(std::move(class_names)) {}

std::unique_ptr<SemanticMetric> SemanticMetric::from_json(const nlohmann::json& result, const std::string& source) {
  if (!result.contains("confusion_matrix")) return nullptr;
  const auto& rows = result.at("confusion_matrix");
  const int n = static_cast<int>(rows.size());
  std::vector<std::string> names;
  for (const auto& c : result.value("per_class", nlohmann::json::array())) names.push_back(c.value("name", ""));
  auto metric = std::make_unique<SemanticMetric>(n, names);
  for (int g = 0; g < n; ++g) {
    const auto& row = rows.at(static_cast<size_t>(g));
    if (static_cast<int>(row.size()) != n) {
      throw DataError(source + ": confusion_matrix row " + std::to_string(g) + " has " + std::to_string(row.size()) +
                      " entries, expected " + std::to_string(n));
    }
    for (int p = 0; p < n; ++p) metric->matrix_.add_count(g, p, row.at(static_cast<size_t>(p)).get<int64_t>());
  }
  return metric;
}

void SemanticMetric::add(const ScoredImage& image) {
  const at::Tensor gt = image.label.contiguous(), pred = image.prediction.contiguous();
  matrix_.add(gt.data_ptr<int64_t>(), pred.data_ptr<int64_t>(), static_cast<size_t>(pred.numel()), image.ignore_label,
              image.id);
}

void SemanticMetric::merge(const Metric& other) {
  const auto& o = dynamic_cast<const SemanticMetric&>(other);
  if (o.matrix_.num_classes() != matrix_.num_classes()) {
    throw DataError("cannot merge evaluation results of " + std::to_string(o.matrix_.num_classes()) + " and " +
                    std::to_string(matrix_.num_classes()) + " classes");
  }
  matrix_.merge(o.matrix_);
  if (class_names_.empty()) class_names_ = o.class_names_;
}

void SemanticMetric::write_json(nlohmann::json& result) const {
  result.update(semantic_scores_json(semantic_scores(), class_names_, matrix_));
}

std::map<std::string, double> SemanticMetric::scores() const {
  const SemanticScores s = semantic_scores();
  std::map<std::string, double> out;
  if (s.miou) out["mIoU"] = *s.miou;
  if (s.pixel_accuracy) out["pixel_accuracy"] = *s.pixel_accuracy;
  if (s.mean_accuracy) out["mean_accuracy"] = *s.mean_accuracy;
  if (s.fw_iou) out["fwIoU"] = *s.fw_iou;
  return out;
}

std::string SemanticMetric::report() const { return format_semantic_table(semantic_scores(), class_names_); }

}  // namespace deeplab::eval
