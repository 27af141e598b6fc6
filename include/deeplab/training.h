#pragma once
// deeplab::train_experiment — a whole training run inside a C++ application, exactly as
// `deeplab train -c CONFIG` runs it: the run directory (config.yaml, log.txt,
// metrics.jsonl, checkpoints/, best.pth, final.pth, curves.png), periodic
// evaluation, exact resume, data parallel when a launcher started several
// processes.  See docs/training.md.
//
//   #include <deeplab/training.h>
//   deeplab::TrainingOptions options;
//   options.overrides = {"train.max_iters=2000"};
//   deeplab::TrainingSummary summary = deeplab::train_experiment("configs/voc/deeplabv3plus_resnet101_os16_voc.yaml",
//   options);
//
// Errors are thrown as std::runtime_error subclasses naming the file, key or
// value at fault; a resume that fails changes no file of the run directory.

#include <cstdint>
#include <string>
#include <vector>

namespace deeplab {

struct TrainingOptions {
  /// Config overrides as `--set` takes them ("train.lr=0.01", "data.crop_size=[321,321]").
  std::vector<std::string> overrides;
  std::string work_dir;  ///< the run directory; "" keeps runtime.work_dir
  /// Continue from this checkpoint; with resume_newest and no path, from the
  /// newest readable checkpoint of the run directory.
  std::string resume;
  bool resume_newest = false;
  /// SIGINT/SIGTERM finish the step, write a checkpoint and return
  /// (TrainingSummary::interrupted); off leaves the application's own handlers.
  bool graceful_stop = true;
};

struct TrainingSummary {
  std::string work_dir;
  int64_t iterations = 0;    ///< where the run ended
  bool interrupted = false;  ///< stopped by SIGINT/SIGTERM; resumable
  double images_per_second = 0;
  std::string best_metric;  ///< eval.best_metric: "mIoU" or "PQ"
  double best_score = -1;   ///< in [0, 1]; -1 when the run never evaluated
  int64_t best_iteration = -1;
  std::string best_weights;   ///< <work_dir>/best.pth, "" without an evaluation
  std::string final_weights;  ///< <work_dir>/final.pth, "" when interrupted
};

/// Trains the experiment `config_path` describes (YAML with its _base_ files).
TrainingSummary train_experiment(const std::string& config_path, const TrainingOptions& options = {});

}  // namespace deeplab
