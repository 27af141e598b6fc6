// `deeplab train -c CONFIG [--set k=v ...] [--work-dir DIR] [--resume [CKPT]]`:
// config -> experiment::run_training (process group, model, initial weights or
// resume, trainer with the standard hooks) -> a summary.

#include <CLI/CLI.hpp>

#include <iostream>
#include <vector>

#include "deeplab/core/bench_stats.h"
#include "deeplab/experiment/config.h"
#include "deeplab/experiment/training_run.h"
#include "tools/commands.h"

namespace deeplab::tools {
namespace {

struct TrainArgs {
  std::string config, work_dir, resume;
  std::vector<std::string> sets;
  bool resume_flag = false;
};

void print_summary(const experiment::TrainingRunResult& r, const TrainArgs& args) {
  if (r.interrupted) {
    std::cout << "stopped at iteration " << r.iterations << "; resume with:\n  deeplab train -c " << args.config
              << " --work-dir " << r.work_dir << " --resume\n";
    return;
  }
  std::cout << "done: " << r.iterations << " iterations, " << r.images_per_second << " images/s, peak memory "
            << static_cast<int>(core::peak_rss_mib()) << " MiB\n";
  if (r.best_iteration >= 0) {
    std::cout << "best val " << r.best_metric << " " << 100 * r.best_score << " % at iteration " << r.best_iteration
              << " -> " << r.work_dir << "/best.pth\n";
  }
  std::cout << "final weights " << r.work_dir << "/final.pth; curves " << r.work_dir << "/curves.png; samples "
            << r.work_dir << "/val_samples.png; metrics " << r.work_dir << "/metrics.jsonl\n";
}

void run_training(const TrainArgs& args) {
  std::vector<std::string> sets = args.sets;
  if (!args.work_dir.empty()) sets.push_back("runtime.work_dir=" + args.work_dir);
  experiment::TrainingRunOptions options;
  options.resume = args.resume;
  options.resume_newest = args.resume_flag;
  options.config_path = args.config;
  const experiment::TrainingRunResult result =
      experiment::run_training(experiment::load_config(args.config, sets), options);
  if (result.main_process) print_summary(result, args);
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
