#include "deeplab/eval/eval_result.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::eval {

EvalResult& EvalResult::merge(const EvalResult& other) {
  if (other.matrix.num_classes() != matrix.num_classes()) {
    throw DataError("cannot merge evaluation results of " + std::to_string(other.matrix.num_classes()) + " and " +
                    std::to_string(matrix.num_classes()) + " classes");
  }
  matrix.merge(other.matrix);
  images += other.images;
  forward_passes += other.forward_passes;
  seconds = std::max(seconds, other.seconds);  // shards run side by side
  shards += other.shards;
  if (panoptic.has_value() != other.panoptic.has_value()) {
    throw DataError("cannot merge a panoptic evaluation result with a semantic one");
  }
  if (panoptic) panoptic->merge(*other.panoptic);
  if (cityscapes.has_value() != other.cityscapes.has_value()) {
    throw DataError("cannot merge a Cityscapes evaluation result with one of another dataset");
  }
  if (cityscapes) cityscapes->merge(*other.cityscapes);
  return *this;
}

nlohmann::json eval_result_json(const EvalResult& result, const std::vector<std::string>& class_names) {
  nlohmann::json out = semantic_scores_json(result.scores(), class_names, result.matrix);
  out["images"] = result.images;
  out["forward_passes"] = result.forward_passes;
  out["seconds"] = result.seconds;
  out["images_per_second"] = result.seconds > 0 ? static_cast<double>(result.images) / result.seconds : 0.0;
  out["shards"] = result.shards;
  if (result.panoptic) {
    const PanopticResult pq = result.panoptic->result();
    out["PQ"] = pq.all.pq;
    out["SQ"] = pq.all.sq;
    out["RQ"] = pq.all.rq;
    out["panoptic"] = panoptic_result_json(pq);
  }
  if (result.cityscapes) {
    const nlohmann::json official = cityscapes_scores_json(result.cityscapes->scores(), result.cityscapes->matrix());
    for (const char* key : {"iIoU", "category_mIoU", "category_iIoU"}) out[key] = official.at(key);
    out["cityscapes"] = official;
    out["cityscapes_counts"] = result.cityscapes->counts_json();
  }
  return out;
}

namespace {
// The accumulator back from panoptic_result_json's per_class statistics.
PanopticQuality panoptic_from_json(const nlohmann::json& json) {
  std::vector<PanopticCategory> categories;
  std::vector<PqCounts> counts;
  for (const auto& [id, c] : json.at("per_class").items()) {
    categories.push_back({std::stoi(id), c.at("name").get<std::string>(), c.at("isthing").get<bool>()});
    counts.push_back({c.at("iou_sum").get<double>(), c.at("tp").get<int64_t>(), c.at("fp").get<int64_t>(),
                      c.at("fn").get<int64_t>()});
  }
  PanopticQuality pq(categories);
  pq.add_counts(counts);
  return pq;
}
}  // namespace

EvalResult eval_result_from_json(const nlohmann::json& json, const std::string& source) {
  try {
    const auto& rows = json.at("confusion_matrix");
    const int n = static_cast<int>(rows.size());
    EvalResult r;
    r.matrix = ConfusionMatrix(n);
    for (int g = 0; g < n; ++g) {
      const auto& row = rows.at(static_cast<size_t>(g));
      if (static_cast<int>(row.size()) != n) throw DataError(source + ": confusion_matrix row " + std::to_string(g) +
                                                             " has " + std::to_string(row.size()) + " entries, expected " +
                                                             std::to_string(n));
      for (int p = 0; p < n; ++p) r.matrix.add_count(g, p, row.at(static_cast<size_t>(p)).get<int64_t>());
    }
    r.images = json.value("images", int64_t{0});
    r.forward_passes = json.value("forward_passes", int64_t{0});
    r.seconds = json.value("seconds", 0.0);
    r.shards = json.value("shards", 1);
    if (json.contains("panoptic")) r.panoptic = panoptic_from_json(json.at("panoptic"));
    if (json.contains("cityscapes_counts")) {
      r.cityscapes = CityscapesEvaluator::from_counts_json(json.at("cityscapes_counts"), source);
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(source + ": not an evaluation result (" + e.what() + ")");
  }
}

EvalResult read_eval_result(const std::string& path) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(core::read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(path + ": not valid JSON (" + e.what() + ")");
  }
  return eval_result_from_json(json, path);
}

std::string format_eval_report(const EvalResult& result, const std::vector<std::string>& class_names) {
  // The table ends with the scores' summary; this line adds what the run cost.
  char summary[200];
  std::snprintf(summary, sizeof summary, "%lld images, %lld forward passes, %.2f s (%.2f img/s)%s\n",
                static_cast<long long>(result.images), static_cast<long long>(result.forward_passes), result.seconds,
                result.seconds > 0 ? static_cast<double>(result.images) / result.seconds : 0.0,
                result.shards > 1 ? (", " + std::to_string(result.shards) + " shards merged").c_str() : "");
  std::string panoptic;
  if (result.panoptic) panoptic = "\n" + format_panoptic_table(result.panoptic->result(), /*per_class=*/false) + "\n";
  std::string cityscapes;
  if (result.cityscapes) {
    const CityscapesScores s = result.cityscapes->scores();
    const auto percent = [](const std::optional<double>& v) { return v ? 100 * *v : std::nan(""); };
    char line[160];
    std::snprintf(line, sizeof line, "cityscapesScripts: iIoU %.2f  category mIoU %.2f  category iIoU %.2f\n",
                  percent(s.iiou), percent(s.category_miou), percent(s.category_iiou_mean));
    cityscapes = line;
  }
  return format_semantic_table(result.scores(), class_names) + panoptic + cityscapes + summary;
}

}  // namespace deeplab::eval
