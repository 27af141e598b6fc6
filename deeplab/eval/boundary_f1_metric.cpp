// The boundary F-score (BF) of Csurka, Larlus and Perronnin, "What is a good
// evaluation measure for semantic segmentation?" (BMVC 2013), as MATLAB's
// bfscore computes it: per image and class, a predicted boundary pixel is
// correct when a ground-truth boundary pixel lies within the tolerance
// (0.75 % of the image diagonal), and a ground-truth one is found when a
// predicted one does; precision and recall give F1 = 2PR / (P + R).  A class
// counts in an image where the ground truth or the prediction has it; its BF
// is the mean of its F1 over those images, and the reported BF the mean over
// the classes.  Pixels whose ground truth is the ignore label belong to no
// class.  Off by default (it costs two distance transforms per class and
// image): `eval.metrics: [boundary_f1]`.

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>
#include <memory>

#include "deeplab/core/error.h"
#include "deeplab/eval/metric_table.h"
#include "deeplab/eval/semantic_metrics.h"

namespace deeplab::eval {
namespace {

constexpr double kToleranceOfDiagonal = 0.0075;

// Pixels of `mask` (CV_8U, 0/255) with a 4-neighbour outside it; the image
// edge is not a boundary.
cv::Mat boundary_of(const cv::Mat& mask) {
  cv::Mat eroded;
  cv::erode(mask, eroded, cv::getStructuringElement(cv::MORPH_CROSS, {3, 3}), {-1, -1}, 1, cv::BORDER_REPLICATE);
  return mask & ~eroded;
}

// Share of `from`'s boundary pixels within `tolerance` of `to`'s.
double matched_share(const cv::Mat& from, const cv::Mat& to, double tolerance) {
  const int total = cv::countNonZero(from);
  if (total == 0) return 0.0;
  if (cv::countNonZero(to) == 0) return 0.0;
  cv::Mat distance;  // to the nearest boundary pixel of `to`
  cv::distanceTransform(~to, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  const cv::Mat near = (distance <= tolerance) & from;
  return static_cast<double>(cv::countNonZero(near)) / total;
}

class BoundaryF1Metric : public Metric {
 public:
  BoundaryF1Metric(int num_classes, std::vector<std::string> class_names)
      : class_names_(std::move(class_names)),
        f1_sum_(static_cast<size_t>(num_classes), 0.0),
        images_(static_cast<size_t>(num_classes), 0) {}

  static std::unique_ptr<Metric> from_json(const nlohmann::json& result, const std::string& source) {
    if (!result.contains("boundary_f1")) return nullptr;
    const auto& per_class = result.at("boundary_f1").at("per_class");
    auto metric = std::make_unique<BoundaryF1Metric>(static_cast<int>(per_class.size()), std::vector<std::string>{});
    for (size_t c = 0; c < per_class.size(); ++c) {
      metric->class_names_.push_back(per_class[c].at("name").get<std::string>());
      metric->f1_sum_[c] = per_class[c].at("f1_sum").get<double>();
      metric->images_[c] = per_class[c].at("images").get<int64_t>();
      if (metric->images_[c] < 0) throw DataError(source + ": boundary_f1 counts a negative number of images");
    }
    return metric;
  }

  std::string name() const override { return "boundary_f1"; }

  void add(const ScoredImage& image) override {
    const cv::Mat gt = to_mat(image.label), pred = to_mat(image.prediction);
    const cv::Mat valid = gt != image.ignore_label;
    const double tolerance = kToleranceOfDiagonal * std::hypot(gt.cols, gt.rows);
    for (size_t c = 0; c < f1_sum_.size(); ++c) {
      const cv::Mat gt_mask = (gt == static_cast<int>(c)) & valid;
      const cv::Mat pred_mask = (pred == static_cast<int>(c)) & valid;
      if (cv::countNonZero(gt_mask) == 0 && cv::countNonZero(pred_mask) == 0) continue;
      const cv::Mat gt_boundary = boundary_of(gt_mask), pred_boundary = boundary_of(pred_mask);
      const double precision = matched_share(pred_boundary, gt_boundary, tolerance);
      const double recall = matched_share(gt_boundary, pred_boundary, tolerance);
      f1_sum_[c] += precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
      images_[c] += 1;
    }
  }

  void merge(const Metric& other) override {
    const auto& o = dynamic_cast<const BoundaryF1Metric&>(other);
    if (o.f1_sum_.size() != f1_sum_.size()) {
      throw DataError("cannot merge boundary F-scores of " + std::to_string(o.f1_sum_.size()) + " and " +
                      std::to_string(f1_sum_.size()) + " classes");
    }
    for (size_t c = 0; c < f1_sum_.size(); ++c) {
      f1_sum_[c] += o.f1_sum_[c];
      images_[c] += o.images_[c];
    }
  }

  void write_json(nlohmann::json& result) const override {
    nlohmann::json per_class = nlohmann::json::array();
    for (size_t c = 0; c < f1_sum_.size(); ++c) {
      per_class.push_back({{"id", c},
                           {"name", c < class_names_.size() ? class_names_[c] : std::to_string(c)},
                           {"f1", images_[c] > 0 ? nlohmann::json(f1_sum_[c] / images_[c]) : nlohmann::json()},
                           {"f1_sum", f1_sum_[c]},
                           {"images", images_[c]}});
    }
    const auto mean = mean_f1();
    result["BF"] = mean ? nlohmann::json(*mean) : nlohmann::json();
    result["boundary_f1"] = {
        {"BF", result["BF"]}, {"tolerance", "0.75% of the image diagonal"}, {"per_class", per_class}};
  }

  std::map<std::string, double> scores() const override {
    if (const auto mean = mean_f1()) return {{"BF", *mean}};
    return {};
  }

  std::string report() const override {
    std::string out = "boundary F-score (tolerance 0.75 % of the diagonal):";
    for (size_t c = 0; c < f1_sum_.size(); ++c) {
      if (images_[c] == 0) continue;
      char cell[96];
      std::snprintf(cell, sizeof cell, " %s %.2f", c < class_names_.size() ? class_names_[c].c_str() : "?",
                    100 * f1_sum_[c] / images_[c]);
      out += cell;
    }
    return out + "\nBF " + format_percent(mean_f1()) + "\n";
  }

  std::unique_ptr<Metric> clone() const override { return std::make_unique<BoundaryF1Metric>(*this); }

 private:
  static cv::Mat to_mat(const at::Tensor& map) {
    const at::Tensor t = map.to(at::kInt).contiguous();
    return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_32SC1, t.data_ptr<int32_t>()).clone();
  }

  std::optional<double> mean_f1() const {
    double sum = 0;
    int classes = 0;
    for (size_t c = 0; c < f1_sum_.size(); ++c) {
      if (images_[c] == 0) continue;
      sum += f1_sum_[c] / images_[c];
      ++classes;
    }
    if (classes == 0) return std::nullopt;
    return sum / classes;
  }

  std::vector<std::string> class_names_;
  std::vector<double> f1_sum_;
  std::vector<int64_t> images_;
};

}  // namespace

std::unique_ptr<Metric> make_boundary_f1_metric(const MetricContext& context) {
  return std::make_unique<BoundaryF1Metric>(context.num_classes, context.class_names);
}

std::unique_ptr<Metric> read_boundary_f1_metric(const nlohmann::json& result, const std::string& source) {
  return BoundaryF1Metric::from_json(result, source);
}

}  // namespace deeplab::eval
