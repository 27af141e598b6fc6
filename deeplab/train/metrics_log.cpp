#include "deeplab/train/metrics_log.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"

namespace deeplab::train {

MetricsLog::MetricsLog(const std::string& dir, int64_t resume_iteration, bool writer)
    : path_((std::filesystem::path(dir) / "metrics.jsonl").string()), writer_(writer) {
  if (writer_) std::filesystem::create_directories(dir);
  std::string kept;
  std::ifstream in(path_);
  for (std::string line; std::getline(in, line);) {
    const auto entry = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (entry.is_discarded() || !entry.contains("iteration")) continue;  // a torn last line
    const int64_t it = entry["iteration"].get<int64_t>();
    if (it > resume_iteration) continue;
    kept += line + "\n";
    if (entry.value("kind", "") == "train") {
      train_.push_back({it, entry["loss"], entry["lr"], entry.value("images_per_second", 0.0)});
    } else if (entry.value("kind", "") == "eval") {
      // "score"/"metric" since the PQ runs; older files carry the mIoU only.
      if (entry.contains("score") && entry["score"].is_number()) {
        eval_.push_back({it, entry["score"], entry.value("metric", "mIoU"), entry.value("weights", "model")});
      } else if (entry.contains("mIoU") && entry["mIoU"].is_number()) {
        eval_.push_back({it, entry["mIoU"]});
      }
    }
  }
  if (writer_) core::write_file_atomic(path_, kept);
}

std::vector<EvalPoint> MetricsLog::eval(const std::string& weights) const {
  std::vector<EvalPoint> out;
  for (const auto& p : eval_) {
    if (p.weights == weights) out.push_back(p);
  }
  return out;
}

void MetricsLog::append(const std::string& line) {
  if (!writer_) return;
  std::ofstream out(path_, std::ios::app);
  if (!(out << line << "\n")) throw IoError("cannot append to '" + path_ + "'");
}

void MetricsLog::add_train(const TrainPoint& p) {
  train_.push_back(p);
  nlohmann::json j = {{"kind", "train"},
                      {"iteration", p.iteration},
                      {"loss", p.loss},
                      {"lr", p.lr},
                      {"images_per_second", p.images_per_second}};
  for (const auto& [name, value] : p.terms) j["loss/" + name] = value;
  for (const auto& [name, value] : p.extras) j[name] = value;
  append(j.dump());
}

void MetricsLog::add_eval(const EvalPoint& p, const std::string& details_json) {
  eval_.push_back(p);
  auto j = details_json.empty() ? nlohmann::json::object() : nlohmann::json::parse(details_json);
  j["kind"] = "eval";
  j["iteration"] = p.iteration;
  j["metric"] = p.metric;
  j["score"] = p.score;
  j["weights"] = p.weights;
  if (!j.contains("mIoU") && p.metric == "mIoU") j["mIoU"] = p.score;
  append(j.dump());
}

}  // namespace deeplab::train
