#include "deeplab/eval/eval_result.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/eval/metric_table.h"

namespace deeplab::eval {
namespace {

std::string metric_names(const EvalResult& result) {
  std::string names;
  for (const auto& m : result.metrics) names += (names.empty() ? "" : ", ") + m->name();
  return names.empty() ? "none" : names;
}

}  // namespace

EvalResult::EvalResult(const EvalResult& other)
    : images(other.images), forward_passes(other.forward_passes), seconds(other.seconds), shards(other.shards) {
  for (const auto& m : other.metrics) metrics.push_back(m->clone());
}

EvalResult& EvalResult::operator=(const EvalResult& other) {
  if (this != &other) *this = EvalResult(other);
  return *this;
}

void EvalResult::add(const ScoredImage& image) {
  for (auto& m : metrics) m->add(image);
}

EvalResult& EvalResult::merge(const EvalResult& other) {
  if (metric_names(*this) != metric_names(other)) {
    throw DataError("cannot merge an evaluation result with metrics " + metric_names(other) + " into one with " +
                    metric_names(*this));
  }
  for (size_t i = 0; i < metrics.size(); ++i) metrics[i]->merge(*other.metrics[i]);
  images += other.images;
  forward_passes += other.forward_passes;
  seconds = std::max(seconds, other.seconds);  // shards run side by side
  shards += other.shards;
  return *this;
}

std::optional<double> EvalResult::score(const std::string& name) const {
  for (const auto& m : metrics) {
    const auto scores = m->scores();
    if (auto it = scores.find(name); it != scores.end()) return it->second;
  }
  return std::nullopt;
}

const Metric* EvalResult::metric(const std::string& name) const {
  for (const auto& m : metrics) {
    if (m->name() == name) return m.get();
  }
  return nullptr;
}

nlohmann::json eval_result_json(const EvalResult& result) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& m : result.metrics) m->write_json(out);
  out["images"] = result.images;
  out["forward_passes"] = result.forward_passes;
  out["seconds"] = result.seconds;
  out["images_per_second"] = result.seconds > 0 ? static_cast<double>(result.images) / result.seconds : 0.0;
  out["shards"] = result.shards;
  return out;
}

EvalResult eval_result_from_json(const nlohmann::json& json, const std::string& source) {
  try {
    EvalResult r;
    r.metrics = read_metrics(json, source);
    if (!r.metric("semantic")) throw DataError(source + ": not an evaluation result (no confusion_matrix)");
    r.images = json.value("images", int64_t{0});
    r.forward_passes = json.value("forward_passes", int64_t{0});
    r.seconds = json.value("seconds", 0.0);
    r.shards = json.value("shards", 1);
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

std::string format_eval_report(const EvalResult& result) {
  std::string report;
  for (const auto& m : result.metrics) report += m->report();
  // The tables end with their scores; this line adds what the run cost.
  char summary[200];
  std::snprintf(summary, sizeof summary, "%lld images, %lld forward passes, %.2f s (%.2f img/s)%s\n",
                static_cast<long long>(result.images), static_cast<long long>(result.forward_passes), result.seconds,
                result.seconds > 0 ? static_cast<double>(result.images) / result.seconds : 0.0,
                result.shards > 1 ? (", " + std::to_string(result.shards) + " shards merged").c_str() : "");
  return report + summary;
}

}  // namespace deeplab::eval
