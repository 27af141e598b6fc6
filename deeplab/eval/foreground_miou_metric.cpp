// mIoU without the background class: the mean IoU of classes 1..K-1 with the
// pixels whose ground truth is class 0 left out.  PASCAL-Context is reported
// both ways: over 60 labels, background included (DeepLab v2), and over the
// 59 object and stuff classes (MMSegmentation, most later papers).  A model
// that predicts background on a class's pixel still misses them: only the
// background's own pixels leave the count.  On request: `eval.metrics: [foreground]`.

#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "deeplab/core/error.h"
#include "deeplab/eval/confusion_matrix.h"
#include "deeplab/eval/metric_table.h"
#include "deeplab/eval/semantic_metrics.h"

namespace deeplab::eval {
namespace {

class ForegroundMiouMetric : public Metric {
 public:
  explicit ForegroundMiouMetric(int num_classes) : matrix_(num_classes) {}

  static std::unique_ptr<Metric> from_json(const nlohmann::json& result, const std::string& source) {
    if (!result.contains("foreground")) return nullptr;
    const auto& rows = result.at("foreground").at("confusion_matrix");
    const int n = static_cast<int>(rows.size());
    auto metric = std::make_unique<ForegroundMiouMetric>(n);
    for (int g = 0; g < n; ++g) {
      const auto& row = rows.at(static_cast<size_t>(g));
      if (static_cast<int>(row.size()) != n) {
        throw DataError(source + ": foreground.confusion_matrix row " + std::to_string(g) + " has " +
                        std::to_string(row.size()) + " entries, expected " + std::to_string(n));
      }
      for (int p = 0; p < n; ++p) metric->matrix_.add_count(g, p, row.at(static_cast<size_t>(p)).get<int64_t>());
    }
    return metric;
  }

  std::string name() const override { return "foreground"; }

  void add(const ScoredImage& image) override {
    // Background (0) ground truth is skipped like the ignore label.
    at::Tensor gt = image.label.clone();
    gt.masked_fill_(gt == 0, image.ignore_label);
    const at::Tensor pred = image.prediction.contiguous();
    matrix_.add(gt.data_ptr<int64_t>(), pred.data_ptr<int64_t>(), static_cast<size_t>(pred.numel()), image.ignore_label,
                image.id);
  }

  void merge(const Metric& other) override {
    const auto& o = dynamic_cast<const ForegroundMiouMetric&>(other);
    matrix_.merge(o.matrix_);
  }

  void write_json(nlohmann::json& result) const override {
    nlohmann::json rows = nlohmann::json::array();
    for (int g = 0; g < matrix_.num_classes(); ++g) {
      nlohmann::json row = nlohmann::json::array();
      for (int p = 0; p < matrix_.num_classes(); ++p) row.push_back(matrix_.at(g, p));
      rows.push_back(row);
    }
    const auto miou = foreground_miou();
    result["mIoU_fg"] = miou ? nlohmann::json(*miou) : nlohmann::json();
    result["foreground"] = {
        {"mIoU_fg", result["mIoU_fg"]}, {"classes", matrix_.num_classes() - 1}, {"confusion_matrix", rows}};
  }

  std::map<std::string, double> scores() const override {
    if (const auto miou = foreground_miou()) return {{"mIoU_fg", *miou}};
    return {};
  }

  std::string report() const override {
    return "mIoU without background (" + std::to_string(matrix_.num_classes() - 1) + " classes, background pixels " +
           "left out): " + format_percent(foreground_miou()) + "\n";
  }

  std::unique_ptr<Metric> clone() const override { return std::make_unique<ForegroundMiouMetric>(*this); }

 private:
  std::optional<double> foreground_miou() const {
    const SemanticScores scores = semantic_scores(matrix_);
    double sum = 0;
    int classes = 0;
    for (size_t c = 1; c < scores.classes.size(); ++c) {
      if (!scores.classes[c].iou) continue;
      sum += *scores.classes[c].iou;
      ++classes;
    }
    if (classes == 0) return std::nullopt;
    return sum / classes;
  }

  ConfusionMatrix matrix_;
};

}  // namespace

std::unique_ptr<Metric> make_foreground_miou_metric(const MetricContext& context) {
  return std::make_unique<ForegroundMiouMetric>(context.num_classes);
}

std::unique_ptr<Metric> read_foreground_miou_metric(const nlohmann::json& result, const std::string& source) {
  return ForegroundMiouMetric::from_json(result, source);
}

}  // namespace deeplab::eval
