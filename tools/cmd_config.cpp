// `deeplab config print -c FILE [--set k=v ...] [-o OUT]`: the merged,
// validated config with every default filled in.

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/core/fs_util.h"
#include "deeplab/experiment/config.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_config_command(CLI::App& app) {
  auto* config = app.add_subcommand("config", "inspect experiment configs");
  config->require_subcommand(1);

  struct Args {
    std::string file;
    std::vector<std::string> sets;
    std::string output;
  };
  auto args = std::make_shared<Args>();
  auto* print = config->add_subcommand("print", "print the merged config (bases, overrides and defaults applied)");
  print->add_option("-c,--config", args->file, "experiment YAML")->required();
  print->add_option("--set", args->sets, "override a key: --set train.lr=0.01 (repeatable)");
  print->add_option("-o,--output", args->output, "write to this file instead of standard output");
  print->callback([args] {
    const std::string yaml = experiment::config_to_yaml(experiment::load_config(args->file, args->sets));
    if (args->output.empty()) {
      std::cout << yaml;
    } else {
      core::write_file_atomic(args->output, yaml);
    }
  });
}

}  // namespace deeplab::tools
