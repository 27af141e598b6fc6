#include "deeplab/eval/semantic_metrics.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

namespace deeplab::eval {
namespace {

std::optional<double> ratio(int64_t num, int64_t den) {
  if (den == 0) return std::nullopt;
  return static_cast<double>(num) / static_cast<double>(den);
}

std::optional<double> mean_of_defined(const std::vector<std::optional<double>>& values) {
  double sum = 0.0;
  int n = 0;
  for (const auto& v : values) {
    if (!v) continue;
    sum += *v;
    ++n;
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

nlohmann::json json_value(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

std::string class_name(const std::vector<std::string>& names, size_t c) {
  return c < names.size() ? names[c] : std::to_string(c);
}

}  // namespace

SemanticScores semantic_scores(const ConfusionMatrix& matrix) {
  SemanticScores scores;
  const int n = matrix.num_classes();
  scores.pixels = matrix.total();
  std::vector<std::optional<double>> ious;
  std::vector<std::optional<double>> accuracies;
  int64_t correct = 0;
  for (int c = 0; c < n; ++c) {
    ClassScore s;
    const int64_t tp = matrix.at(c, c);
    s.gt_pixels = matrix.gt_count(c);
    s.pred_pixels = matrix.pred_count(c);
    s.iou = ratio(tp, s.gt_pixels + s.pred_pixels - tp);
    s.accuracy = ratio(tp, s.gt_pixels);
    correct += tp;
    ious.push_back(s.iou);
    accuracies.push_back(s.accuracy);
    scores.classes.push_back(s);
  }
  scores.miou = mean_of_defined(ious);
  scores.mean_accuracy = mean_of_defined(accuracies);
  scores.pixel_accuracy = ratio(correct, scores.pixels);
  if (scores.pixels > 0) {
    // Classes without an IoU have no ground-truth pixels, so weight 0.
    double fw = 0.0;
    for (const auto& s : scores.classes) {
      if (s.iou) fw += static_cast<double>(s.gt_pixels) / static_cast<double>(scores.pixels) * *s.iou;
    }
    scores.fw_iou = fw;
  }
  return scores;
}

nlohmann::json semantic_scores_json(const SemanticScores& scores, const std::vector<std::string>& names,
                                    const ConfusionMatrix& matrix) {
  nlohmann::json out;
  out["mIoU"] = json_value(scores.miou);
  out["pixel_accuracy"] = json_value(scores.pixel_accuracy);
  out["mean_accuracy"] = json_value(scores.mean_accuracy);
  out["fwIoU"] = json_value(scores.fw_iou);
  out["pixels"] = scores.pixels;
  out["num_classes"] = matrix.num_classes();
  nlohmann::json per_class = nlohmann::json::array();
  for (size_t c = 0; c < scores.classes.size(); ++c) {
    const auto& s = scores.classes[c];
    per_class.push_back({{"id", c},
                         {"name", class_name(names, c)},
                         {"iou", json_value(s.iou)},
                         {"accuracy", json_value(s.accuracy)},
                         {"gt_pixels", s.gt_pixels},
                         {"pred_pixels", s.pred_pixels}});
  }
  out["per_class"] = per_class;
  nlohmann::json rows = nlohmann::json::array();
  for (int g = 0; g < matrix.num_classes(); ++g) {
    std::vector<int64_t> row(matrix.data() + static_cast<size_t>(g) * matrix.num_classes(),
                             matrix.data() + static_cast<size_t>(g + 1) * matrix.num_classes());
    rows.push_back(row);
  }
  out["confusion_matrix"] = rows;
  return out;
}

std::string format_percent(const std::optional<double>& fraction, int decimals) {
  if (!fraction) return "n/a";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, 100.0 * *fraction);
  return buffer;
}

std::string format_semantic_table(const SemanticScores& scores, const std::vector<std::string>& names) {
  std::ostringstream out;
  char line[160];
  std::snprintf(line, sizeof line, "%-20s %8s %8s %12s\n", "class", "IoU", "Acc", "gt pixels");
  out << line;
  for (size_t c = 0; c < scores.classes.size(); ++c) {
    const auto& s = scores.classes[c];
    std::snprintf(line, sizeof line, "%-20s %8s %8s %12lld\n", class_name(names, c).c_str(),
                  format_percent(s.iou).c_str(), format_percent(s.accuracy).c_str(),
                  static_cast<long long>(s.gt_pixels));
    out << line;
  }
  out << "mIoU " << format_percent(scores.miou) << "  pixel acc " << format_percent(scores.pixel_accuracy)
      << "  mean class acc " << format_percent(scores.mean_accuracy) << "  fwIoU " << format_percent(scores.fw_iou)
      << "  (" << scores.pixels << " pixels)\n";
  return out.str();
}

}  // namespace deeplab::eval
