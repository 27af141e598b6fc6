#pragma once
// A whole `deeplab train` run from an experiment config: the process group
// when a launcher started several, the model and its initial weights, the
// trainer with the standard hooks, a resume checked completely before the
// run directory is touched, and the run itself.  The tool and
// deeplab::train_experiment (the public API) both call run_training.

#include <cstdint>
#include <string>

#include "deeplab/experiment/config.h"

namespace deeplab::experiment {

struct TrainingRunOptions {
  /// Continue from this checkpoint; with resume_newest and no path, from the
  /// newest readable one in <work_dir>/checkpoints (newer unreadable ones are
  /// skipped with a warning naming each and kept).
  std::string resume;
  bool resume_newest = false;
  /// The config file, for the log and the "resume with" hint.
  std::string config_path;
  /// SIGINT/SIGTERM finish the step, write a checkpoint and stop the run.
  bool graceful_stop = true;
};

struct TrainingRunResult {
  std::string work_dir;
  int64_t iterations = 0;    ///< the iteration the run ended at
  bool interrupted = false;  ///< stopped by a signal; resumable
  bool main_process = true;  ///< rank 0 (it wrote the files)
  double images_per_second = 0;
  std::string best_metric;  ///< eval.best_metric
  double best_score = -1;   ///< fraction in [0, 1]; -1 without an evaluation
  int64_t best_iteration = -1;
};

/// Trains `config` into config.runtime.work_dir.  A resume that fails (a
/// checkpoint cut short, damaged, or of another model) throws before any
/// file of the run directory changes.
TrainingRunResult run_training(const Config& config, const TrainingRunOptions& options = {});

}  // namespace deeplab::experiment
