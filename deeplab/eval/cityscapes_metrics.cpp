#include "deeplab/eval/cityscapes_metrics.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/eval/semantic_metrics.h"

namespace deeplab::eval {
namespace {

using data::CityscapesLabel;

const CityscapesLabel& label_of(int id) { return *data::cityscapes_label_by_id(id); }

// Categories whose every label has instances (human, vehicle): the ones with
// an instance-level score.  Their label ids include ignored classes (caravan,
// trailer), exactly as cityscapesScripts' instance statistics do.
bool is_instance_category(int category_id) {
  bool any = false;
  for (const auto& label : data::cityscapes_labels()) {
    if (label.id < 0 || label.category_id != category_id) continue;
    if (!label.has_instances) return false;
    any = true;
  }
  return any;
}

std::optional<double> iou_or_nan(double tp, double denominator) {
  if (denominator == 0) return std::nullopt;
  return tp / denominator;
}

std::optional<double> mean_of_defined(const std::optional<double>* values, size_t n) {
  double sum = 0.0;
  int valid = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!values[i]) continue;
    sum += *values[i];
    ++valid;
  }
  if (valid == 0) return std::nullopt;
  return sum / valid;
}

// Column sum over `columns` of the rows of non-ignored labels outside `excluded_category`
// (or, for a class, outside the class itself).
int64_t false_positives(const ConfusionMatrix& m, const std::vector<int>& columns, int excluded_category,
                        int excluded_label) {
  int64_t fp = 0;
  for (int r = 0; r < kCityscapesIds; ++r) {
    const auto& label = label_of(r);
    if (label.ignore_in_eval || r == excluded_label || label.category_id == excluded_category) continue;
    for (int c : columns) fp += m.at(r, c);
  }
  return fp;
}

}  // namespace

double cityscapes_average_class_size(const std::string& class_name) {
  // evalPixelLevelSemanticLabeling's `avgClassSize` (pixels).
  static const std::vector<std::pair<std::string, double>> sizes = {
      {"bicycle", 4672.3249222261}, {"caravan", 36771.8241758242}, {"motorcycle", 6298.7200839748},
      {"rider", 3930.4788056518},   {"bus", 35732.1511111111},     {"train", 67583.7075812274},
      {"car", 12794.0202738185},    {"person", 3462.4756337644},   {"truck", 27855.1264367816},
      {"trailer", 16926.9763313609}};
  for (const auto& [name, size] : sizes) {
    if (name == class_name) return size;
  }
  return 0.0;
}

CityscapesEvaluator::CityscapesEvaluator() : matrix_(kCityscapesIds) {}

void CityscapesEvaluator::add(const uint8_t* gt, const uint8_t* pred, const uint32_t* instances, size_t n,
                              const std::string& source) {
  matrix_.add(gt, pred, n, -1, source);  // every label id is counted; the scores decide what is ignored
  if (instances) add_instances(pred, instances, n, source);
}

void CityscapesEvaluator::add_instances(const uint8_t* pred, const uint32_t* instances, size_t n,
                                        const std::string& source) {
  // Instance ids are label * 1000 + k with label <= 33, so a flat table covers them.
  constexpr uint32_t kMaxId = kCityscapesIds * 1000;
  struct Counts {
    int64_t size = 0, tp = 0, category_tp = 0;
  };
  std::vector<Counts> counts(kMaxId);
  std::array<int, 256> pred_category;
  pred_category.fill(-1);
  for (const auto& label : data::cityscapes_labels()) {
    if (label.id >= 0 && is_instance_category(label.category_id)) pred_category[label.id] = label.category_id;
  }
  for (size_t i = 0; i < n; ++i) {
    const uint32_t id = instances[i];
    if (id <= 1000) continue;  // cityscapesScripts takes instanceIds > 1000
    if (id >= kMaxId) {
      throw DataError("'" + source + "': instance id " + std::to_string(id) + " at pixel " + std::to_string(i) +
                      " names label " + std::to_string(id / 1000) + ", which is not a Cityscapes label id");
    }
    const int label = static_cast<int>(id / 1000);
    Counts& c = counts[id];
    ++c.size;
    c.tp += pred[i] == label;
    c.category_tp += pred_category[pred[i]] == label_of(label).category_id;
  }
  for (uint32_t id = 1001; id < kMaxId; ++id) {  // ascending, as np.unique visits them
    const Counts& c = counts[id];
    if (c.size == 0) continue;
    const CityscapesLabel& label = label_of(static_cast<int>(id / 1000));
    if (label.ignore_in_eval) continue;
    const double weight = cityscapes_average_class_size(label.name) / static_cast<double>(c.size);
    InstanceCounts& cls = class_instances_[static_cast<size_t>(label.id)];
    cls.tp += c.tp;
    cls.fn += c.size - c.tp;
    cls.tp_weighted += static_cast<double>(c.tp) * weight;
    cls.fn_weighted += static_cast<double>(c.size - c.tp) * weight;
    if (!is_instance_category(label.category_id)) continue;
    InstanceCounts& cat = category_instances_[static_cast<size_t>(label.category_id)];
    cat.tp += c.category_tp;
    cat.fn += c.size - c.category_tp;
    cat.tp_weighted += static_cast<double>(c.category_tp) * weight;
    cat.fn_weighted += static_cast<double>(c.size - c.category_tp) * weight;
  }
}

CityscapesEvaluator& CityscapesEvaluator::merge(const CityscapesEvaluator& other) {
  matrix_.merge(other.matrix_);
  const auto add = [](InstanceCounts& a, const InstanceCounts& b) {
    a.tp += b.tp;
    a.fn += b.fn;
    a.tp_weighted += b.tp_weighted;
    a.fn_weighted += b.fn_weighted;
  };
  for (size_t i = 0; i < class_instances_.size(); ++i) add(class_instances_[i], other.class_instances_[i]);
  for (size_t i = 0; i < category_instances_.size(); ++i) add(category_instances_[i], other.category_instances_[i]);
  return *this;
}

CityscapesScores CityscapesEvaluator::scores() const {
  CityscapesScores s;
  const ConfusionMatrix& m = matrix_;
  for (int l = 0; l < kCityscapesIds; ++l) {
    const auto& label = label_of(l);
    if (label.ignore_in_eval) continue;
    const int64_t tp = m.at(l, l);
    const int64_t fn = m.gt_count(l) - tp;
    const int64_t fp = false_positives(m, {l}, -1, l);
    s.class_iou[l] = iou_or_nan(static_cast<double>(tp), static_cast<double>(tp + fp + fn));
    if (!label.has_instances) continue;
    const InstanceCounts& inst = class_instances_[static_cast<size_t>(l)];
    s.class_iiou[l] = iou_or_nan(inst.tp_weighted, inst.tp_weighted + static_cast<double>(fp) + inst.fn_weighted);
  }
  for (int c = 0; c < kCityscapesCategories; ++c) {
    const std::string& category = data::cityscapes_categories()[static_cast<size_t>(c)];
    std::vector<int> evaluated;
    for (int id : data::cityscapes_category_label_ids(category)) {
      if (!label_of(id).ignore_in_eval) evaluated.push_back(id);
    }
    if (!evaluated.empty()) {
      int64_t tp = 0, row_sum = 0;
      for (int r : evaluated) {
        row_sum += m.gt_count(r);
        for (int col : evaluated) tp += m.at(r, col);
      }
      const int64_t fp = false_positives(m, evaluated, c, -1);
      s.category_iou[c] = iou_or_nan(static_cast<double>(tp), static_cast<double>(tp + fp + (row_sum - tp)));
    }
    if (!is_instance_category(c)) continue;
    const InstanceCounts& inst = category_instances_[static_cast<size_t>(c)];
    const int64_t fp = false_positives(m, data::cityscapes_category_label_ids(category), c, -1);
    s.category_iiou[c] = iou_or_nan(inst.tp_weighted, inst.tp_weighted + static_cast<double>(fp) + inst.fn_weighted);
  }
  s.miou = mean_of_defined(s.class_iou.data(), s.class_iou.size());
  s.iiou = mean_of_defined(s.class_iiou.data(), s.class_iiou.size());
  s.category_miou = mean_of_defined(s.category_iou.data(), s.category_iou.size());
  s.category_iiou_mean = mean_of_defined(s.category_iiou.data(), s.category_iiou.size());
  return s;
}

nlohmann::json CityscapesEvaluator::counts_json() const {
  const auto counts = [](const auto& table) {
    nlohmann::json rows = nlohmann::json::array();
    for (const InstanceCounts& c : table) rows.push_back({c.tp, c.fn, c.tp_weighted, c.fn_weighted});
    return rows;
  };
  nlohmann::json matrix = nlohmann::json::array();
  for (int g = 0; g < kCityscapesIds; ++g) {
    nlohmann::json row = nlohmann::json::array();
    for (int p = 0; p < kCityscapesIds; ++p) row.push_back(matrix_.at(g, p));
    matrix.push_back(row);
  }
  return {{"label_id_matrix", matrix},
          {"class_instances", counts(class_instances_)},
          {"category_instances", counts(category_instances_)}};
}

CityscapesEvaluator CityscapesEvaluator::from_counts_json(const nlohmann::json& json, const std::string& source) {
  CityscapesEvaluator e;
  const auto read_counts = [&](const char* key, auto& table) {
    const auto& rows = json.at(key);
    if (rows.size() != table.size()) {
      throw DataError(source + ": cityscapes_counts." + key + " has " + std::to_string(rows.size()) +
                      " rows, expected " + std::to_string(table.size()));
    }
    for (size_t i = 0; i < table.size(); ++i) {
      const auto& r = rows.at(i);
      table[i] = {r.at(0).get<int64_t>(), r.at(1).get<int64_t>(), r.at(2).get<double>(), r.at(3).get<double>()};
    }
  };
  try {
    const auto& rows = json.at("label_id_matrix");
    if (rows.size() != static_cast<size_t>(kCityscapesIds)) {
      throw DataError(source + ": cityscapes_counts.label_id_matrix has " + std::to_string(rows.size()) +
                      " rows, expected " + std::to_string(kCityscapesIds));
    }
    for (int g = 0; g < kCityscapesIds; ++g) {
      for (int p = 0; p < kCityscapesIds; ++p) {
        e.matrix_.add_count(g, p, rows.at(static_cast<size_t>(g)).at(static_cast<size_t>(p)).get<int64_t>());
      }
    }
    read_counts("class_instances", e.class_instances_);
    read_counts("category_instances", e.category_instances_);
  } catch (const nlohmann::json::exception& ex) {
    throw DataError(source + ": malformed cityscapes_counts (" + ex.what() + ")");
  }
  return e;
}

namespace {
nlohmann::json json_value(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
}  // namespace

nlohmann::json cityscapes_scores_json(const CityscapesScores& s, const ConfusionMatrix& matrix) {
  nlohmann::json out;
  out["mIoU"] = json_value(s.miou);
  out["iIoU"] = json_value(s.iiou);
  out["category_mIoU"] = json_value(s.category_miou);
  out["category_iIoU"] = json_value(s.category_iiou_mean);
  nlohmann::json classes = nlohmann::json::array();
  for (int l = 0; l < kCityscapesIds; ++l) {
    const auto& label = label_of(l);
    if (label.ignore_in_eval) continue;
    classes.push_back({{"id", l},
                       {"train_id", label.train_id},
                       {"name", label.name},
                       {"iou", json_value(s.class_iou[l])},
                       {"iiou", json_value(s.class_iiou[l])},
                       {"gt_pixels", matrix.gt_count(l)}});
  }
  out["per_class"] = classes;
  nlohmann::json categories = nlohmann::json::array();
  for (int c = 1; c < kCityscapesCategories; ++c) {  // `void` has no evaluated label
    categories.push_back({{"id", c},
                          {"name", data::cityscapes_categories()[static_cast<size_t>(c)]},
                          {"iou", json_value(s.category_iou[c])},
                          {"iiou", json_value(s.category_iiou[c])}});
  }
  out["per_category"] = categories;
  nlohmann::json rows = nlohmann::json::array();
  for (int g = 0; g < kCityscapesIds; ++g) {
    rows.push_back(std::vector<int64_t>(matrix.data() + g * kCityscapesIds, matrix.data() + (g + 1) * kCityscapesIds));
  }
  out["confusion_matrix"] = rows;
  return out;
}

std::string format_cityscapes_table(const CityscapesScores& s) {
  std::ostringstream out;
  char line[128];
  const auto row = [&](const std::string& name, const std::optional<double>& a, const std::optional<double>& b) {
    std::snprintf(line, sizeof line, "%-16s %8s %8s\n", name.c_str(), format_percent(a).c_str(),
                  format_percent(b).c_str());
    out << line;
  };
  std::snprintf(line, sizeof line, "%-16s %8s %8s\n", "classes", "IoU", "iIoU");
  out << line;
  for (int l = 0; l < kCityscapesIds; ++l) {
    if (!label_of(l).ignore_in_eval) row(label_of(l).name, s.class_iou[l], s.class_iiou[l]);
  }
  row("average", s.miou, s.iiou);
  std::snprintf(line, sizeof line, "\n%-16s %8s %8s\n", "categories", "IoU", "iIoU");
  out << line;
  for (int c = 1; c < kCityscapesCategories; ++c) {
    row(data::cityscapes_categories()[static_cast<size_t>(c)], s.category_iou[c], s.category_iiou[c]);
  }
  row("average", s.category_miou, s.category_iiou_mean);
  return out.str();
}

}  // namespace deeplab::eval
