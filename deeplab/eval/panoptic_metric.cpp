#include "deeplab/eval/panoptic_metric.h"

#include <nlohmann/json.hpp>

#include "deeplab/core/error.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::eval {

PanopticMetric::PanopticMetric(std::vector<postprocess::PanopticCategory> categories)
    : quality_(std::move(categories)) {}

std::unique_ptr<PanopticMetric> PanopticMetric::from_json(const nlohmann::json& result, const std::string&) {
  if (!result.contains("panoptic")) return nullptr;
  // The accumulator back from panoptic_result_json's per-class statistics.
  std::vector<postprocess::PanopticCategory> categories;
  std::vector<PqCounts> counts;
  for (const auto& [id, c] : result.at("panoptic").at("per_class").items()) {
    categories.push_back({std::stoi(id), c.at("name").get<std::string>(), c.at("isthing").get<bool>()});
    counts.push_back({c.at("iou_sum").get<double>(), c.at("tp").get<int64_t>(), c.at("fp").get<int64_t>(),
                      c.at("fn").get<int64_t>()});
  }
  auto metric = std::make_unique<PanopticMetric>(categories);
  metric->quality_.add_counts(counts);
  return metric;
}

void PanopticMetric::add(const ScoredImage& image) {
  if (!image.gt_segments || !image.pred_segments) {
    throw DataError(image.id + ": panoptic quality needs the image's ground-truth and predicted segments");
  }
  const postprocess::PanopticSegmentation& gt = *image.gt_segments;
  const postprocess::PanopticSegmentation& pred = *image.pred_segments;
  quality_.add(gt.ids.data(), gt.segments, pred.ids.data(), pred.segments, gt.ids.size(), image.id);
}

void PanopticMetric::merge(const Metric& other) { quality_.merge(dynamic_cast<const PanopticMetric&>(other).quality_); }

void PanopticMetric::write_json(nlohmann::json& result) const {
  const PanopticResult pq = quality_.result();
  result["PQ"] = pq.all.pq;
  result["SQ"] = pq.all.sq;
  result["RQ"] = pq.all.rq;
  result["panoptic"] = panoptic_result_json(pq);
}

std::map<std::string, double> PanopticMetric::scores() const {
  const PanopticResult pq = quality_.result();
  return {
      {"PQ", pq.all.pq}, {"SQ", pq.all.sq}, {"RQ", pq.all.rq}, {"PQ_things", pq.things.pq}, {"PQ_stuff", pq.stuff.pq}};
}

std::string PanopticMetric::report() const {
  return "\n" + format_panoptic_table(quality_.result(), /*per_class=*/false) + "\n";
}

}  // namespace deeplab::eval
