#pragma once
// The training engine, built from its parts: a model, a loader, an
// optimizer, an lr schedule and a loss go in; run_step() does data ->
// forward (named outputs) -> named loss terms -> backward -> [hooks:
// after_backward] -> optimizer step.  Hooks do everything else (progress,
// checkpoints, evaluation).  experiment::make_trainer builds the parts from
// a config; tests build them by hand.  Single process today: rank and world
// size are carried for the distributed trainer, which adds the all-reduce.

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deeplab/data/loader.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/train/hook.h"
#include "deeplab/train/losses.h"
#include "deeplab/train/lr_schedule.h"
#include "deeplab/train/mixed_precision.h"
#include "deeplab/train/optimizer.h"

namespace deeplab::train {

/// Named loss values of one step, in the order the loss gave them.
using LossValues = std::vector<std::pair<std::string, double>>;

struct StepResult {
  double loss = 0;     // sum of the terms, mean over the accumulated batches
  LossValues terms;    // each term, mean over the accumulated batches
  double lr = 0;       // base lr of this step
  int64_t images = 0;  // images consumed (this rank)
  double seconds = 0;
  bool skipped = false;  // non-finite, skipped (skip_nonfinite)
};

/// How run_step() runs; from_config maps the `train:` section.
struct TrainerOptions {
  std::string work_dir;
  int64_t max_iters = 1;
  int accumulate = 1;             // batches per optimizer step
  std::string amp = "none";       // none | bf16 | fp16
  bool channels_last = false;
  double clip_grad_norm = 0.0;    // 0: no clipping
  bool skip_nonfinite = false;
  c10::Device device{c10::kCPU};
  int rank = 0, world_size = 1;

  static TrainerOptions from_config(const TrainConfig& config, std::string work_dir, c10::Device device);
};

/// The trainer's own counters (checkpointed as trainer.*).
struct TrainState {
  int64_t iteration = 0;       // optimizer steps done
  int64_t epoch = 0;           // loader epoch of the next batch
  int64_t batch_in_epoch = 0;  // index of the next batch within that epoch
  int64_t skipped_steps = 0;   // non-finite steps skipped (skip_nonfinite)
};

class Trainer {
 public:
  /// Moves the model to options.device (parameters keep their identity, so
  /// an optimizer built on them stays valid).
  Trainer(models::DeepLab model, std::unique_ptr<data::Loader> loader, GroupedOptimizer optimizer,
          LrSchedule schedule, LossFn loss, TrainerOptions options);

  /// Adds a hook; a hook whose state a resume has already read gets it now.
  void add_hook(std::shared_ptr<Hook> hook);
  /// Restores model, optimizer, counters, RNG, scaler and hook state.
  void resume(const std::string& checkpoint);
  /// Writes a checkpoint of everything into `dir`; returns its path.
  std::string save_checkpoint(const std::string& dir);
  /// Trains until max_iters or a stop request; returns true if interrupted.
  bool run();
  /// One optimizer step over `accumulate` batches.
  StepResult run_step();
  /// Finish the current step, then stop (SIGINT/SIGTERM do the same via core::stop_requested()).
  void request_stop() { stop_requested_ = true; }

  models::DeepLab& model() { return model_; }
  GroupedOptimizer& optimizer() { return optimizer_; }
  const TrainState& state() const { return state_; }
  const TrainerOptions& options() const { return options_; }
  const StepResult& last_step() const { return last_step_; }
  const std::string& work_dir() const { return options_.work_dir; }
  bool is_main_process() const { return options_.rank == 0; }
  int world_size() const { return options_.world_size; }
  c10::Device device() const { return options_.device; }
  GradScaler& scaler() { return scaler_; }

 private:
  struct BatchLoss {
    double total = 0;  // what backward() ran on, divided by `accumulate`
    LossValues terms;  // each term, divided by `accumulate`
  };
  data::Batch next_batch();
  BatchLoss forward_backward(data::Batch batch);
  void apply_step(bool finite);
  TensorMap state_dict() const;
  void load_state_dict(const TensorMap& state);
  TensorMap rank_state_dict() const;
  void load_rank_state_dict(const TensorMap& state);

  models::DeepLab model_;
  std::unique_ptr<data::Loader> loader_;
  GroupedOptimizer optimizer_;
  LrSchedule schedule_;
  LossFn loss_;
  TrainerOptions options_;
  TrainState state_;
  GradScaler scaler_;
  StepResult last_step_;
  std::vector<std::shared_ptr<Hook>> hooks_;
  std::map<std::string, TensorMap> pending_hook_state_;  // read by resume(), for hooks added later
  bool stop_requested_ = false;
  bool loader_started_ = false;
};

}  // namespace deeplab::train
