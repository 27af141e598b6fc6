#pragma once
// The training engine, built from its parts: a model, a loader, an
// optimizer, an lr schedule and a loss go in; run_step() does data ->
// forward (named outputs) -> named loss terms -> backward -> [hooks:
// after_backward] -> optimizer step.  Hooks do everything else (progress,
// checkpoints, evaluation).  experiment::make_trainer builds the parts from
// a config; tests build them by hand.
//
// Data parallel when options.group has more than one rank: parameters and
// buffers start as rank 0's, gradients are all-reduced while backward runs
// (GradReducer), and every step the ranks agree by one all-reduce on whether
// the step was finite, whether to stop, and the global loss; checkpoints hold
// every rank's generator state.

#include <c10/core/Device.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "deeplab/core/process_group.h"
#include "deeplab/data/loader.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/train/grad_reducer.h"
#include "deeplab/train/hook.h"
#include "deeplab/train/losses.h"
#include "deeplab/train/lr_schedule.h"
#include "deeplab/train/mixed_precision.h"
#include "deeplab/train/optimizer.h"

namespace deeplab::train {

/// Named loss values of one step, in the order the loss gave them.
using LossValues = std::vector<std::pair<std::string, double>>;

/// Where a step's time went, in seconds (host clock: exact on CPU, launch
/// time on CUDA).  forward includes the loss and its host copy; update the
/// cross-rank agreement, after_backward hooks, optimizer step and buffer sync.
struct StepTimes {
  double data = 0, forward = 0, backward = 0, update = 0;
};

struct StepResult {
  double loss = 0;     // sum of the terms, mean over the accumulated batches (global batch)
  LossValues terms;    // each term, mean over the accumulated batches (global batch)
  double lr = 0;       // base lr of this step
  int64_t images = 0;  // images consumed (this rank)
  double seconds = 0;
  bool skipped = false;  // non-finite, skipped (skip_nonfinite)
  bool stop = false;     // some rank asked to stop: every rank stops after this step
  ReduceStats reduce;    // gradient all-reduce timing (distributed)
  StepTimes times;
};

/// How run_step() runs; from_config maps the `train:` section.
struct TrainerOptions {
  std::string work_dir;
  int64_t max_iters = 1;
  int accumulate = 1;        // batches per optimizer step
  std::string amp = "none";  // none | bf16 | fp16
  bool channels_last = false;
  double clip_grad_norm = 0.0;  // 0: no clipping
  bool skip_nonfinite = false;
  c10::Device device{c10::kCPU};
  c10::ScalarType dtype = c10::kFloat;  // of the model and the images (kDouble for exactness checks)
  int rank = 0, world_size = 1;
  std::shared_ptr<core::ProcessGroup> group;  // null or one rank: single process
  GradReducerOptions reducer;
  uint64_t seed = 0;  // re-seeds the ranks when resuming at another world size

  static TrainerOptions from_config(const TrainConfig& config, std::string work_dir, c10::Device device);
  /// Joins the run of `group` (rank, world size, the group itself).
  TrainerOptions& distributed(std::shared_ptr<core::ProcessGroup> group);
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
  Trainer(models::DeepLab model, std::unique_ptr<data::Loader> loader, GroupedOptimizer optimizer, LrSchedule schedule,
          LossFn loss, TrainerOptions options);

  /// Adds a hook; a hook whose state a resume has already read gets it now.
  void add_hook(std::shared_ptr<Hook> hook);
  /// Restores model, optimizer, counters, RNG, scaler and hook state.
  void resume(const std::string& checkpoint);
  /// Writes a checkpoint of everything into `dir`; returns its path.  A
  /// collective in a distributed run: every rank calls it, rank 0 writes
  /// (the others return "").
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
  /// The process group of a distributed run (null in a single process).
  const std::shared_ptr<core::ProcessGroup>& process_group() const { return group_; }
  GradScaler& scaler() { return scaler_; }

 private:
  struct BatchLoss {
    double total = 0;  // what backward() ran on, divided by `accumulate`
    LossValues terms;  // each term, divided by `accumulate`
  };
  data::Batch next_batch();
  void restore_hook_state(Hook& hook);
  void move_to_device(data::Batch& batch) const;
  BatchLoss forward_backward(data::Batch batch, bool last_of_step, StepTimes& times);
  void agree_across_ranks(StepResult& result, bool& finite);
  /// The optimizer step; false when it was skipped (fp16 gradients overflowed,
  /// or a non-finite loss under train.skip_nonfinite).
  bool apply_step(bool loss_finite);
  void reseed_for_new_world(int64_t saved_world_size);
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
  std::shared_ptr<core::ProcessGroup> group_;            // set when world size > 1
  std::unique_ptr<GradReducer> reducer_;
  bool stop_requested_ = false;
  bool loader_started_ = false;
};

}  // namespace deeplab::train
