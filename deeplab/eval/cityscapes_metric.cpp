#include "deeplab/eval/cityscapes_metric.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "deeplab/core/error.h"

namespace deeplab::eval {

CityscapesMetric::CityscapesMetric(std::vector<int> label_ids) : label_ids_(std::move(label_ids)) {}

std::unique_ptr<CityscapesMetric> CityscapesMetric::from_json(const nlohmann::json& result, const std::string& source) {
  if (!result.contains("cityscapes_counts")) return nullptr;
  auto metric = std::make_unique<CityscapesMetric>(std::vector<int>{});
  metric->evaluator_ = CityscapesEvaluator::from_counts_json(result.at("cityscapes_counts"), source);
  return metric;
}

// Ground truth and prediction back to label ids (ignore -> 0, unlabeled).
std::vector<uint8_t> CityscapesMetric::to_label_ids(const at::Tensor& train_ids) const {
  if (label_ids_.size() != 256) throw DataError("the Cityscapes scores need the train id -> label id table");
  const at::Tensor t = train_ids.to(at::kLong).contiguous();
  std::vector<uint8_t> out(static_cast<size_t>(t.numel()));
  const int64_t* v = t.data_ptr<int64_t>();
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(label_ids_[static_cast<size_t>(v[i] & 255)]);
  return out;
}

void CityscapesMetric::add(const ScoredImage& image) {
  const std::vector<uint8_t> gt = to_label_ids(image.label), pred = to_label_ids(image.prediction);
  at::Tensor instances;
  if (image.instances.defined()) instances = image.instances.contiguous();
  const auto* ids = instances.defined() ? reinterpret_cast<const uint32_t*>(instances.data_ptr<int32_t>()) : nullptr;
  evaluator_.add(gt.data(), pred.data(), ids, gt.size(), image.id);
}

void CityscapesMetric::merge(const Metric& other) {
  evaluator_.merge(dynamic_cast<const CityscapesMetric&>(other).evaluator_);
}

void CityscapesMetric::write_json(nlohmann::json& result) const {
  const nlohmann::json official = cityscapes_scores_json(evaluator_.scores(), evaluator_.matrix());
  for (const char* key : {"iIoU", "category_mIoU", "category_iIoU"}) result[key] = official.at(key);
  result["cityscapes"] = official;
  result["cityscapes_counts"] = evaluator_.counts_json();
}

std::map<std::string, double> CityscapesMetric::scores() const {
  const CityscapesScores s = evaluator_.scores();
  std::map<std::string, double> out;
  if (s.iiou) out["iIoU"] = *s.iiou;
  if (s.category_miou) out["category_mIoU"] = *s.category_miou;
  if (s.category_iiou_mean) out["category_iIoU"] = *s.category_iiou_mean;
  return out;
}

std::string CityscapesMetric::report() const {
  const CityscapesScores s = evaluator_.scores();
  const auto percent = [](const std::optional<double>& v) { return v ? 100 * *v : std::nan(""); };
  char line[160];
  std::snprintf(line, sizeof line, "cityscapesScripts: iIoU %.2f  category mIoU %.2f  category iIoU %.2f\n",
                percent(s.iiou), percent(s.category_miou), percent(s.category_iiou_mean));
  return line;
}

}  // namespace deeplab::eval
