#include "deeplab/training.h"

#include "deeplab/core/logging.h"
#include "deeplab/experiment/config.h"
#include "deeplab/experiment/training_run.h"

namespace deeplab {

TrainingSummary train_experiment(const std::string& config_path, const TrainingOptions& options) {
  std::vector<std::string> sets = options.overrides;
  if (!options.work_dir.empty()) sets.push_back("runtime.work_dir=" + options.work_dir);
  experiment::TrainingRunOptions run;
  run.resume = options.resume;
  run.resume_newest = options.resume_newest;
  run.config_path = config_path;
  run.graceful_stop = options.graceful_stop;
  // Held lines and log files end with the run, failed or not, so that the
  // application's next run logs only to its own directory.
  struct EndLogging {
    ~EndLogging() { core::end_run_logging(); }
  } end_logging;
  const experiment::TrainingRunResult r = experiment::run_training(experiment::load_config(config_path, sets), run);

  TrainingSummary summary;
  summary.work_dir = r.work_dir;
  summary.iterations = r.iterations;
  summary.interrupted = r.interrupted;
  summary.images_per_second = r.images_per_second;
  summary.best_metric = r.best_metric;
  summary.best_score = r.best_score;
  summary.best_iteration = r.best_iteration;
  if (r.best_iteration >= 0) summary.best_weights = r.work_dir + "/best.pth";
  if (!r.interrupted) summary.final_weights = r.work_dir + "/final.pth";
  return summary;
}

}  // namespace deeplab
