// `deeplab data stats -c CONFIG --split S [--json]`: image count and per-class
// pixel counts, read through the training loader without augmentation.

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/core/logging.h"
#include "deeplab/data/inspect.h"
#include "deeplab/experiment/config.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_data_stats(CLI::App& data) {
  struct Args {
    std::string config, split;
    std::vector<std::string> sets;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = data.add_subcommand("stats", "count images and per-class pixels of a split");
  cmd->add_option("-c,--config", args->config, "experiment YAML")->required();
  cmd->add_option("--split", args->split, "split to read (default: data.val_split)");
  cmd->add_option("--set", args->sets, "override a key: --set data.root=DIR (repeatable)");
  cmd->add_flag("--json", args->json, "print JSON instead of a table");
  cmd->callback([args] {
    const experiment::Config config = experiment::load_config(args->config, args->sets);
    core::set_config_log_level(config.runtime.log_level);
    const auto stats = data::compute_stats(config.data, static_cast<uint64_t>(config.runtime.seed),
                                           args->split.empty() ? config.data.val_split : args->split);
    std::cout << (args->json ? data::stats_to_json(stats) : data::stats_to_text(stats));
  });
}

}  // namespace deeplab::tools
