#include "deeplab/experiment/training_run.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/runtime.h"
#include "deeplab/core/stop_signal.h"
#include "deeplab/experiment/distributed_run.h"
#include "deeplab/experiment/make_trainer.h"
#include "deeplab/experiment/run_dir.h"
#include "deeplab/models/factory.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/weights/model_io.h"

namespace deeplab::experiment {
namespace {

// The newest checkpoint of the run that can be read, applied to `trainer`.
// A newer one that cannot (cut short, damaged) is skipped with a warning that
// names it and why, and stays where it is: nothing is ever deleted.  A
// checkpoint of another model is an error, not a reason to fall back.
std::string resume_newest_readable(train::Trainer& trainer, const std::string& work_dir) {
  const std::string dir = work_dir + "/checkpoints";
  const std::vector<std::string> candidates = train::checkpoints_newest_first(dir);
  if (candidates.empty()) throw IoError("--resume: no checkpoint in " + dir);
  std::string skipped;
  for (const std::string& path : candidates) {
    try {
      trainer.resume(path);
      return path;
    } catch (const train::UnreadableCheckpoint& e) {
      spdlog::warn("--resume skips {} (kept as it is): {}", path, e.what());
      skipped += std::string(skipped.empty() ? "" : "; ") + e.what();
    }
  }
  throw IoError("--resume: none of the " + std::to_string(candidates.size()) + " checkpoint(s) in " + dir +
                " can be read: " + skipped);
}

// Applies the checkpoint a resume starts from (the one given, or the newest
// readable one) to `trainer` and returns its path.
std::string resume_trainer(train::Trainer& trainer, const TrainingRunOptions& options, const std::string& work_dir) {
  try {
    if (options.resume.empty()) return resume_newest_readable(trainer, work_dir);
    trainer.resume(options.resume);
    return options.resume;
  } catch (const ConfigError& e) {  // another model saved it: point at the config that trained the run
    const std::string saved = work_dir + "/config.yaml";
    throw ConfigError(std::string(e.what()) + (std::filesystem::exists(saved) ? ", as in " + saved : ""));
  }
}

// A run killed while writing a checkpoint leaves its temporary file (the
// previous checkpoint is whole): removed, so a crashed run costs no disk.
void remove_files_of_killed_writes(const std::string& dir) {
  for (const std::string& sub : {dir, dir + "/checkpoints"}) {
    for (const std::string& path : core::remove_stale_temporaries(sub)) {
      spdlog::info("removed {}: what a killed run left of a write", path);
    }
  }
}

}  // namespace

// A resume is checked completely (the checkpoint read and loaded into the
// model and optimizer) before the run directory is touched: until then the
// log lines are held in memory, and config.yaml is written only after, the
// previous one kept beside it when it differs.  A failed resume changes nothing.
TrainingRunResult run_training(const Config& config, const TrainingRunOptions& options) {
  core::set_config_log_level(config.runtime.log_level);
  core::hold_log_lines();
  const DistributedRun run = join_distributed_run(config, core::apply_runtime(config.runtime));
  if (!run.is_main_process()) core::set_console_logging(false);
  const std::string dir = config.runtime.work_dir;
  spdlog::info("train {} -> {}: {} on {}", options.config_path, dir, weights::describe_arch(config.model),
               run.device.str());

  models::DeepLab model = models::build_model(config.model);
  // After an elastic restart torchrun starts the workers again with the same
  // command: they continue from the newest checkpoint by themselves.
  const bool elastic_resume = run.elastic_restart() && !train::latest_checkpoint(dir + "/checkpoints").empty();
  const bool resuming = options.resume_newest || !options.resume.empty() || elastic_resume;
  if (!resuming) {
    const std::string init = weights::initialise_model(*model, config.model);
    if (!init.empty()) spdlog::info("initial weights: {}", init);
  }
  train::Trainer trainer = make_trainer(config, model, run.device, dir, run.group);
  const std::string checkpoint = resuming ? resume_trainer(trainer, options, dir) : "";
  prepare_rank_dir(config, run, dir);
  if (run.is_main_process()) remove_files_of_killed_writes(dir);
  if (run.rendezvous.distributed()) spdlog::info("data parallel: {}", describe_data_parallel(config, run));
  if (resuming) {
    spdlog::info("resumed from {} at iteration {}{}", checkpoint, trainer.state().iteration,
                 elastic_resume ? " (elastic restart " + std::to_string(run.rendezvous.restart_count) + ")" : "");
  }
  const StandardHooks hooks = add_standard_hooks(trainer, config);
  if (options.graceful_stop) core::enable_graceful_stop();

  TrainingRunResult result;
  result.interrupted = trainer.run();
  result.work_dir = trainer.work_dir();
  result.iterations = trainer.state().iteration;
  result.main_process = run.is_main_process();
  result.images_per_second = hooks.progress->images_per_second();
  result.best_metric = hooks.best->score_name();
  result.best_score = hooks.best->best_score();
  result.best_iteration = hooks.best->best_iteration();
  return result;
}

}  // namespace deeplab::experiment
