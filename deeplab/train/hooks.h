#pragma once
// The standard hooks of `deeplab train`: progress + metrics file, periodic
// checkpoints, periodic evaluation with pictures and best weights.  Each
// takes its own settings; none reads the experiment config.

#include <memory>
#include <string>

#include "deeplab/core/progress.h"
#include "deeplab/data/dataset.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/train/hook.h"
#include "deeplab/train/metrics_log.h"

namespace deeplab::train {

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

/// When and what the eval hook draws besides the scores.
struct EvalHookOptions {
  int every = 0;        // steps between evaluations; 0: only at the end
  int vis_samples = 4;  // rows of val_samples.png (the first validation images)
  std::string best_metric = "mIoU";  // or "PQ" (eval.best_metric)
};

/// Evaluates every `every` steps and at the end: metrics.jsonl, curves.png,
/// val_samples.png (from the evaluator's own visualisations, coloured by
/// options.outputs.descriptor), best.pth when the best metric (mIoU or PQ)
/// improves.  Its state (the best score and when) goes into checkpoints as hooks.eval.*.
class EvalHook : public Hook {
 public:
  EvalHook(std::shared_ptr<MetricsLog> log, std::shared_ptr<const data::Dataset> val, eval::EvalOptions options,
           EvalHookOptions hook_options);
  std::string name() const override { return "eval"; }
  TensorMap state_dict() const override;
  void load_state_dict(const TensorMap& state) override;
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;
  /// The last and the best score of the tracked metric (fractions).
  double last_score() const { return last_score_; }
  double best_score() const { return best_score_; }
  const std::string& best_metric() const { return hook_options_.best_metric; }
  /// Iteration of best_score(); -1 before the first evaluation.
  int64_t best_iteration() const { return best_iteration_; }

 private:
  void evaluate(Trainer& trainer);
  void write_samples(Trainer& trainer);

  std::shared_ptr<MetricsLog> log_;
  std::shared_ptr<const data::Dataset> val_;
  eval::EvalOptions options_;
  EvalHookOptions hook_options_;
  int64_t last_eval_iteration_ = -1;
  double last_score_ = -1;
  double best_score_ = -1;
  int64_t best_iteration_ = -1;
};


}  // namespace deeplab::train
