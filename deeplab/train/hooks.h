#pragma once
// The standard hooks of `deeplab train`: progress + metrics file, periodic
// checkpoints, periodic evaluation, best weights by a named score, and the
// pictures (curves, validation samples).  Each takes its own settings and
// keeps its own state; none reads the experiment config.

#include <memory>
#include <string>
#include <vector>

#include "deeplab/core/progress.h"
#include "deeplab/data/dataset.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/train/hook.h"
#include "deeplab/train/metrics_log.h"

namespace deeplab::train {

class WeightAverage;

/// Progress bar (TTY) or log lines with the loss by term, metrics.jsonl train
/// entries every `log_every` steps, and the end-of-run throughput and peak memory.
class ProgressHook : public Hook {
 public:
  ProgressHook(std::shared_ptr<MetricsLog> log, int log_every) : log_(std::move(log)), log_every_(log_every) {}
  std::string name() const override { return "progress"; }
  void before_train(Trainer& trainer) override;
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;
  double images_per_second() const { return seconds_ > 0 ? images_ / seconds_ : 0.0; }

 private:
  void log_window(Trainer& trainer);

  std::shared_ptr<MetricsLog> log_;
  int log_every_;
  std::unique_ptr<core::ProgressBar> bar_;
  double loss_sum_ = 0, window_seconds_ = 0, seconds_ = 0;
  double reduce_wait_ = 0, buckets_in_backward_ = 0;  // distributed: exposed all-reduce time, overlap
  std::vector<std::pair<std::string, double>> term_sums_;
  int64_t window_images_ = 0, window_steps_ = 0, images_ = 0;
};

/// Checkpoints every `every` steps and when the run ends or is stopped; keeps
/// the newest `keep`; final weights as final.pth.
class CheckpointHook : public Hook {
 public:
  CheckpointHook(int every, int keep) : every_(every), keep_(keep) {}
  std::string name() const override { return "checkpoint"; }
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;
  const std::string& last_checkpoint() const { return last_; }

 private:
  void save(Trainer& trainer);
  int every_, keep_;
  std::string last_;
  int64_t last_iteration_ = -1;
};

/// When the eval hook evaluates and what it records.
struct EvalHookOptions {
  int every = 0;                       // steps between evaluations; 0: only at the end
  int vis_samples = 4;                 // visualised validation images (the first ones), for val_samples.png
  std::string tracked_score = "mIoU";  // the score logged as each evaluation's "score" (eval.best_metric)
  /// Evaluate this average of the weights (train.ema) instead of the weights
  /// themselves; its metrics.jsonl lines say "weights": "ema".
  std::shared_ptr<const WeightAverage> average = nullptr;
};

/// Evaluates every `every` steps and at the end (each rank its shard, summed
/// over the ranks), logs the result to metrics.jsonl and keeps it for the
/// hooks after it (BestCheckpointHook, PlotHook).  No state of its own.
class EvalHook : public Hook {
 public:
  EvalHook(std::shared_ptr<MetricsLog> log, std::shared_ptr<const data::Dataset> val, eval::EvalOptions options,
           EvalHookOptions hook_options);
  std::string name() const override { return hook_options_.average ? "eval_ema" : "eval"; }
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;

  /// The iteration of the last evaluation (-1 before the first) and its result.
  int64_t evaluated_at() const { return last_iteration_; }
  const eval::EvalResult& last_result() const { return last_result_; }
  /// The visualisations the last evaluation wrote for the first validation
  /// images of rank 0's shard (image | ground truth | prediction), in order.
  std::vector<std::string> sample_paths(const Trainer& trainer) const;

 private:
  void evaluate(Trainer& trainer);

  std::shared_ptr<MetricsLog> log_;
  std::shared_ptr<const data::Dataset> val_;
  eval::EvalOptions options_;
  EvalHookOptions hook_options_;
  int64_t last_iteration_ = -1;
  eval::EvalResult last_result_;
};

/// Saves best.pth whenever an evaluation's `score` (eval.best_metric: any
/// score of the run's metrics, looked up by name) beats the best so far.
/// Its state (the best score and when) goes into checkpoints as hooks.best.*.
class BestCheckpointHook : public Hook {
 public:
  /// With `average` (train.ema): the hook "best_ema", keeping best_ema.pth
  /// for the evaluations of that average.
  BestCheckpointHook(std::shared_ptr<const EvalHook> eval, std::string score,
                     std::shared_ptr<const WeightAverage> average = nullptr)
      : eval_(std::move(eval)), score_(std::move(score)), average_(std::move(average)) {}
  std::string name() const override { return average_ ? "best_ema" : "best"; }
  /// Checkpoints written before the hooks were split kept this state as hooks.eval.*.
  std::vector<std::string> earlier_names() const override {
    return average_ ? std::vector<std::string>{} : std::vector<std::string>{"eval"};
  }
  TensorMap state_dict() const override;
  void load_state_dict(const TensorMap& state) override;
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;

  const std::string& score_name() const { return score_; }
  /// The best score (a fraction; -1 before the first evaluation) and its iteration (-1 before).
  double best_score() const { return best_score_; }
  int64_t best_iteration() const { return best_iteration_; }

 private:
  void consider(Trainer& trainer);

  std::shared_ptr<const EvalHook> eval_;
  std::string score_;
  std::shared_ptr<const WeightAverage> average_;
  int64_t seen_iteration_ = -1;
  double best_score_ = -1;
  int64_t best_iteration_ = -1;
};

/// After each evaluation (and at the end): curves.png from metrics.jsonl and
/// val_samples.png from the evaluation's visualisations.
class PlotHook : public Hook {
 public:
  PlotHook(std::shared_ptr<MetricsLog> log, std::shared_ptr<const EvalHook> eval)
      : log_(std::move(log)), eval_(std::move(eval)) {}
  std::string name() const override { return "plots"; }
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;

 private:
  std::shared_ptr<MetricsLog> log_;
  std::shared_ptr<const EvalHook> eval_;
  int64_t drawn_iteration_ = -1;
};

}  // namespace deeplab::train
