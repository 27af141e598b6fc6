#pragma once
// metrics.jsonl: one JSON object per logged training step and per
// evaluation, appended as the run goes; also the history the curves are
// drawn from.  A resumed run drops entries past its checkpoint.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace deeplab::train {

struct TrainPoint {
  int64_t iteration;
  double loss, lr, images_per_second;
  /// The loss by term ("semantic", "aux", ...), written as "loss/<name>".
  std::vector<std::pair<std::string, double>> terms = {};
  /// Further numbers written under their own names (distributed timing).
  std::vector<std::pair<std::string, double>> extras = {};
};
/// One evaluation: the score the run selects its best weights by
/// (eval.best_metric: "mIoU", "PQ", ...), as a fraction.
struct EvalPoint {
  int64_t iteration;
  double score;
  std::string metric = "mIoU";
  /// "model", or "ema" for an evaluation of the weight average (train.ema).
  std::string weights = "model";
};

class MetricsLog {
 public:
  /// Opens `<dir>/metrics.jsonl`; keeps (and reloads) entries up to
  /// `resume_iteration`.  A reader (`writer` false: ranks other than 0 of a
  /// distributed run) only reads it and never writes.
  MetricsLog(const std::string& dir, int64_t resume_iteration, bool writer = true);
  void add_train(const TrainPoint& point);
  /// `details_json`: the evaluator's JSON object (merged into the line).
  void add_eval(const EvalPoint& point, const std::string& details_json);
  const std::vector<TrainPoint>& train() const { return train_; }
  /// Every evaluation; eval("model") or eval("ema") only those of these weights.
  const std::vector<EvalPoint>& eval() const { return eval_; }
  std::vector<EvalPoint> eval(const std::string& weights) const;
  const std::string& path() const { return path_; }

 private:
  void append(const std::string& line);

  std::string path_;
  bool writer_ = true;
  std::vector<TrainPoint> train_;
  std::vector<EvalPoint> eval_;
};

}  // namespace deeplab::train
