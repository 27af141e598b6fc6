#pragma once
// The standard hooks of `deeplab train`: progress + metrics file, periodic
// checkpoints, periodic evaluation with pictures and best weights.

#include <memory>
#include <string>

#include "deeplab/core/progress.h"
#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/train/hook.h"
#include "deeplab/train/metrics_log.h"

namespace deeplab::train {

/// Progress bar (TTY) or log lines, metrics.jsonl train entries, and the
/// end-of-run throughput and peak memory.
class ProgressHook : public Hook {
 public:
  explicit ProgressHook(std::shared_ptr<MetricsLog> log) : log_(std::move(log)) {}
  void before_train(Trainer& trainer) override;
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;
  double images_per_second() const { return seconds_ > 0 ? images_ / seconds_ : 0.0; }

 private:
  std::shared_ptr<MetricsLog> log_;
  std::unique_ptr<core::ProgressBar> bar_;
  double loss_sum_ = 0, window_seconds_ = 0, seconds_ = 0;
  int64_t window_images_ = 0, window_steps_ = 0, images_ = 0;
};

/// Checkpoints every train.checkpoint_every steps and when the run ends or is
/// stopped; keeps the newest train.keep_checkpoints; final weights as final.pth.
class CheckpointHook : public Hook {
 public:
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;
  const std::string& last_checkpoint() const { return last_; }

 private:
  void save(Trainer& trainer);
  std::string last_;
  int64_t last_iteration_ = -1;
};

/// Evaluates every train.eval_every steps and at the end: metrics.jsonl,
/// curves.png, val_samples.png, best.pth when mIoU improves.
class EvalHook : public Hook {
 public:
  EvalHook(std::shared_ptr<MetricsLog> log, std::shared_ptr<const data::Dataset> val, eval::EvalOptions options,
           data::DatasetDescriptor descriptor);
  void after_step(Trainer& trainer) override;
  void after_train(Trainer& trainer, bool interrupted) override;
  double last_miou() const { return last_miou_; }

 private:
  void evaluate(Trainer& trainer);
  void write_samples(Trainer& trainer);

  std::shared_ptr<MetricsLog> log_;
  std::shared_ptr<const data::Dataset> val_;
  eval::EvalOptions options_;
  data::DatasetDescriptor descriptor_;
  int64_t last_eval_iteration_ = -1;
  double last_miou_ = -1;
};

/// Peak resident memory of this process in MiB.
double peak_rss_mib();

}  // namespace deeplab::train
