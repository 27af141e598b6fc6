// `deeplab train -c CONFIG [--set k=v ...] [--work-dir DIR] [--resume [CKPT]]`:
// config -> [process group, when a launcher started several] -> model (+
// initial weights) -> Trainer with the standard hooks.

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <vector>

#include "deeplab/experiment/config.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"
#include "deeplab/experiment/run_dir.h"
#include "deeplab/core/runtime.h"
#include "deeplab/export/model_io.h"
#include "deeplab/models/factory.h"
#include "deeplab/core/stop_signal.h"
#include "deeplab/experiment/distributed_run.h"
#include "deeplab/experiment/make_trainer.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/core/bench_stats.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

struct TrainArgs {
  std::string config, work_dir, resume;
  std::vector<std::string> sets;
  bool resume_flag = false;
};

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
std::string resume_trainer(train::Trainer& trainer, const TrainArgs& args, const std::string& work_dir) {
  try {
    if (args.resume.empty()) return resume_newest_readable(trainer, work_dir);
    trainer.resume(args.resume);
    return args.resume;
  } catch (const ConfigError& e) {  // another model saved it: point at the config that trained the run
    const std::string saved = work_dir + "/config.yaml";
    throw ConfigError(std::string(e.what()) + (std::filesystem::exists(saved) ? ", as in " + saved : ""));
  }
}

void print_summary(train::Trainer& trainer, const experiment::StandardHooks& hooks, bool interrupted,
                   const TrainArgs& args) {
  const auto& state = trainer.state();
  const std::string dir = trainer.work_dir();
  if (interrupted) {
    std::cout << "stopped at iteration " << state.iteration << "; resume with:\n  deeplab train -c " << args.config
              << " --work-dir " << dir << " --resume\n";
    return;
  }
  std::cout << "done: " << state.iteration << " iterations, " << hooks.progress->images_per_second()
            << " images/s, peak memory " << static_cast<int>(core::peak_rss_mib()) << " MiB\n";
  if (hooks.eval->best_iteration() >= 0) {
    std::cout << "best val " << hooks.eval->best_metric() << " " << 100 * hooks.eval->best_score() << " % at iteration " << hooks.eval->best_iteration() << " -> "
              << dir << "/best.pth\n";
  }
  std::cout << "final weights " << dir << "/final.pth; curves " << dir << "/curves.png; samples " << dir
            << "/val_samples.png; metrics " << dir << "/metrics.jsonl\n";
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

// A resume is checked completely (the checkpoint read and loaded into the
// model and optimizer) before the run directory is touched: until then the
// log lines are held in memory, and config.yaml is written only after, the
// previous one kept beside it when it differs.  A failed resume changes nothing.
void run_training(const TrainArgs& args) {
  std::vector<std::string> sets = args.sets;
  if (!args.work_dir.empty()) sets.push_back("runtime.work_dir=" + args.work_dir);
  const experiment::Config config = experiment::load_config(args.config, sets);
  core::set_config_log_level(config.runtime.log_level);
  core::hold_log_lines();
  const experiment::DistributedRun run = experiment::join_distributed_run(config, core::apply_runtime(config.runtime));
  if (!run.is_main_process()) core::set_console_logging(false);
  const std::string dir = config.runtime.work_dir;
  spdlog::info("train {} -> {}: {} on {}", args.config, dir, exporting::describe_arch(config.model), run.device.str());

  models::DeepLab model = models::build_model(config.model);
  // After an elastic restart torchrun starts the workers again with the same
  // command: they continue from the newest checkpoint by themselves.
  const bool elastic_resume =
      run.elastic_restart() && !train::latest_checkpoint(dir + "/checkpoints").empty();
  const bool resuming = args.resume_flag || !args.resume.empty() || elastic_resume;
  if (!resuming) {
    const std::string init = exporting::initialise_model(*model, config.model);
    if (!init.empty()) spdlog::info("initial weights: {}", init);
  }
  train::Trainer trainer = experiment::make_trainer(config, model, run.device, dir, run.group);
  const std::string checkpoint = resuming ? resume_trainer(trainer, args, dir) : "";
  experiment::prepare_rank_dir(config, run, dir);
  if (run.is_main_process()) remove_files_of_killed_writes(dir);
  if (run.rendezvous.distributed()) spdlog::info("data parallel: {}", experiment::describe_data_parallel(config, run));
  if (resuming) {
    spdlog::info("resumed from {} at iteration {}{}", checkpoint, trainer.state().iteration,
                 elastic_resume ? " (elastic restart " + std::to_string(run.rendezvous.restart_count) + ")" : "");
  }
  const experiment::StandardHooks hooks = experiment::add_standard_hooks(trainer, config);
  core::enable_graceful_stop();
  const bool interrupted = trainer.run();
  if (run.is_main_process()) print_summary(trainer, hooks, interrupted, args);
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* cmd = app.add_subcommand("train", "train a model from an experiment config");
  cmd->add_option("-c,--config", args->config, "experiment YAML")->required();
  cmd->add_option("--set", args->sets, "override a key: --set train.lr=0.01 (repeatable)");
  cmd->add_option("--work-dir", args->work_dir, "run directory (default: runtime.work_dir)");
  auto* resume = cmd->add_option("--resume", args->resume,
                                 "continue from a checkpoint (default: the newest in <work-dir>/checkpoints)");
  resume->expected(0, 1);
  cmd->callback([args, resume] {
    args->resume_flag = resume->count() > 0;
    run_training(*args);
  });
}

}  // namespace deeplab::tools
