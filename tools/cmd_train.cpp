// `deeplab train -c CONFIG [--set k=v ...] [--work-dir DIR] [--resume [CKPT]]`:
// config -> model (+ initial weights) -> Trainer with the standard hooks.

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "deeplab/core/config.h"
#include "deeplab/core/error.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/run_dir.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/export/model_io.h"
#include "deeplab/models/factory.h"
#include "deeplab/train/checkpoint.h"
#include "deeplab/train/hooks.h"
#include "deeplab/core/stop_signal.h"
#include "deeplab/train/trainer.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

struct TrainArgs {
  std::string config, work_dir, resume;
  std::vector<std::string> sets;
  bool resume_flag = false;
};

std::string resume_path(const TrainArgs& args, const std::string& work_dir) {
  if (!args.resume.empty()) return args.resume;
  const std::string latest = train::latest_checkpoint(work_dir + "/checkpoints");
  if (latest.empty()) throw IoError("--resume: no checkpoint in " + work_dir + "/checkpoints");
  return latest;
}

void print_summary(train::Trainer& trainer, const train::ProgressHook& progress, bool interrupted,
                   const TrainArgs& args) {
  const auto& state = trainer.state();
  const std::string dir = trainer.work_dir();
  if (interrupted) {
    std::cout << "stopped at iteration " << state.iteration << "; resume with:\n  deeplab train -c " << args.config
              << " --work-dir " << dir << " --resume\n";
    return;
  }
  std::cout << "done: " << state.iteration << " iterations, " << progress.images_per_second()
            << " images/s, peak memory " << static_cast<int>(train::peak_rss_mib()) << " MiB\n";
  if (state.best_iteration >= 0) {
    std::cout << "best val mIoU " << 100 * state.best_miou << " % at iteration " << state.best_iteration << " -> "
              << dir << "/best.pth\n";
  }
  std::cout << "final weights " << dir << "/final.pth; curves " << dir << "/curves.png; samples " << dir
            << "/val_samples.png; metrics " << dir << "/metrics.jsonl\n";
}

void run_training(const TrainArgs& args) {
  std::vector<std::string> sets = args.sets;
  if (!args.work_dir.empty()) sets.push_back("runtime.work_dir=" + args.work_dir);
  const core::Config config = core::load_config(args.config, sets);
  core::set_log_level(config.runtime.log_level);
  const c10::Device device = core::apply_runtime(config.runtime);
  const std::string dir = config.runtime.work_dir;
  core::prepare_run_dir(config, dir);

  models::DeepLab model = models::build_model(config.model);
  const bool resuming = args.resume_flag || !args.resume.empty();
  if (!resuming) {
    const std::string init = exporting::initialise_model(*model, config.model);
    if (!init.empty()) spdlog::info("initial weights: {}", init);
  }
  train::Trainer trainer(config, model, device, {dir, 0, 1});
  std::string checkpoint;
  if (resuming) {
    checkpoint = resume_path(args, dir);
    trainer.resume(checkpoint);
    spdlog::info("resumed from {} at iteration {}", checkpoint, trainer.state().iteration);
  }
  auto log = std::make_shared<train::MetricsLog>(dir, trainer.state().iteration);
  auto progress = std::make_shared<train::ProgressHook>(log);
  auto val = data::make_dataset(config.data, config.data.val_split);
  auto eval_options = eval::EvalOptions::from_config(config, eval::model_output_stride(*model));
  trainer.add_hook(progress);
  trainer.add_hook(std::make_shared<train::CheckpointHook>());
  trainer.add_hook(
      std::make_shared<train::EvalHook>(log, val, eval_options, data::load_config_descriptor(config.data)));
  core::enable_graceful_stop();
  const bool interrupted = trainer.run();
  print_summary(trainer, *progress, interrupted, args);
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
