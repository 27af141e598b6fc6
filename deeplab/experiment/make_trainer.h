#pragma once
// A training run from an experiment config: the trainer's parts (loader,
// optimizer, schedule, loss) and the standard hooks, built from the config's
// sections.  `deeplab train` is this plus argument parsing.

#include <c10/core/Device.h>

#include <memory>
#include <string>

#include "deeplab/core/process_group.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/experiment/config.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/train/ema_hook.h"
#include "deeplab/train/hooks.h"
#include "deeplab/train/tensorboard_hook.h"
#include "deeplab/train/trainer.h"

namespace deeplab::experiment {

/// The training loader of `config` for this rank, feeding `device` (pinned
/// batches for CUDA with data.pin_memory); DataError when the split has not one batch.
std::unique_ptr<data::Loader> make_train_loader(const Config& config, int rank = 0, int world_size = 1,
                                                c10::Device device = c10::Device(c10::kCPU));

/// Trainer of `model` (already initialised) on `device`, writing to
/// `work_dir`; data parallel over `group` when it has several ranks (this
/// rank's shard of the data, the loss normalised over the global batch).
train::Trainer make_trainer(const Config& config, models::DeepLab model, c10::Device device,
                            const std::string& work_dir, std::shared_ptr<core::ProcessGroup> group = nullptr);
/// The same with the caller's loader instead of make_train_loader's.
train::Trainer make_trainer(const Config& config, models::DeepLab model, c10::Device device,
                            const std::string& work_dir, std::shared_ptr<core::ProcessGroup> group,
                            std::unique_ptr<data::Loader> loader);

/// The hooks `deeplab train` runs with, as added to a trainer.
struct StandardHooks {
  std::shared_ptr<train::MetricsLog> log;
  std::shared_ptr<train::ProgressHook> progress;
  std::shared_ptr<train::CheckpointHook> checkpoint;
  std::shared_ptr<train::EvalHook> eval;
  std::shared_ptr<train::BestCheckpointHook> best;
  std::shared_ptr<train::PlotHook> plots;
  std::shared_ptr<train::TensorBoardHook> tensorboard;  // null with train.tensorboard: false
  // train.ema: the average's hook, evaluation and best_ema.pth (null when off).
  std::shared_ptr<train::EmaHook> ema;
  std::shared_ptr<train::EvalHook> eval_ema;
  std::shared_ptr<train::BestCheckpointHook> best_ema;
};

/// Adds progress + metrics.jsonl, checkpoints, periodic evaluation on
/// data.val_split, best.pth by eval.best_metric, curves and samples, and TensorBoard events
/// (train.tensorboard) to `trainer`; call after resume() so that
/// metrics.jsonl keeps the entries up to the resumed iteration.
StandardHooks add_standard_hooks(train::Trainer& trainer, const Config& config);

}  // namespace deeplab::experiment
