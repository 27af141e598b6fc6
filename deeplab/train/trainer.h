#pragma once
// The training engine: iteration-based run_step (data -> forward -> loss ->
// backward -> [hooks: all-reduce] -> optimizer step -> schedule) plus hooks.
// Multi-process ready: the loader shards by rank; only rank 0 writes files.

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <vector>

#include "deeplab/core/config.h"
#include "deeplab/data/loader.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/train/hook.h"
#include "deeplab/train/losses.h"
#include "deeplab/train/lr_schedule.h"
#include "deeplab/train/mixed_precision.h"
#include "deeplab/train/optimizer.h"

namespace deeplab::train {

struct StepResult {
  double loss = 0;     // mean over the accumulated batches
  double lr = 0;       // base lr of this step
  int64_t images = 0;  // images consumed (this rank)
  double seconds = 0;
  bool skipped = false;  // non-finite, skipped (train.skip_nonfinite)
};

struct TrainerOptions {
  std::string work_dir;
  int rank = 0, world_size = 1;
};

class Trainer {
 public:
  Trainer(core::Config config, models::DeepLab model, c10::Device device, TrainerOptions options);

  void add_hook(std::shared_ptr<Hook> hook) { hooks_.push_back(std::move(hook)); }
  /// Restores model, optimizer, RNG, loader position and hook bookkeeping.
  void resume(const std::string& checkpoint);
  /// Trains until train.max_iters or a stop request; returns true if interrupted.
  bool run();
  /// One optimizer step over train.accumulate batches.
  StepResult run_step();
  /// Finish the current step, then stop (SIGINT/SIGTERM do the same via core::stop_requested()).
  void request_stop() { stop_requested_ = true; }

  const core::Config& config() const { return config_; }
  models::DeepLab& model() { return model_; }
  GroupedOptimizer& optimizer() { return optimizer_; }
  TrainState& state() { return state_; }
  const StepResult& last_step() const { return last_step_; }
  const std::string& work_dir() const { return options_.work_dir; }
  bool is_main_process() const { return options_.rank == 0; }
  int world_size() const { return options_.world_size; }
  c10::Device device() const { return device_; }
  GradScaler& scaler() { return scaler_; }

 private:
  data::Batch next_batch();
  void set_train_mode();
  double forward_backward(const data::Batch& batch);
  void apply_step(bool finite);

  core::Config config_;
  models::DeepLab model_;
  c10::Device device_;
  TrainerOptions options_;
  GroupedOptimizer optimizer_;
  LrSchedule schedule_;
  SegmentationLoss loss_;
  std::unique_ptr<data::Loader> loader_;
  TrainState state_;
  GradScaler scaler_;
  StepResult last_step_;
  std::vector<std::shared_ptr<Hook>> hooks_;
  bool stop_requested_ = false;
  bool loader_started_ = false;
};

/// Puts BatchNorm layers in eval mode and stops their gradients
/// (DeepLab's fine_tune_batch_norm: false).
void freeze_batch_norm(torch::nn::Module& model);

}  // namespace deeplab::train
