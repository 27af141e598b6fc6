// `deeplab data show -c CONFIG --split S --out DIR --num K`: K augmented
// samples as image | colourised label PNGs, to eyeball the pipeline.

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/core/logging.h"
#include "deeplab/data/inspect.h"
#include "deeplab/experiment/config.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_data_show(CLI::App& data) {
  struct Args {
    std::string config, split, out;
    std::vector<std::string> sets;
    int num = 8;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = data.add_subcommand("show", "write augmented samples as image | label PNGs");
  cmd->add_option("-c,--config", args->config, "experiment YAML")->required();
  cmd->add_option("--split", args->split, "split to read (default: data.train_split)");
  cmd->add_option("--out", args->out, "output directory")->required();
  cmd->add_option("--num", args->num, "number of samples")->capture_default_str()->check(at_least(1));
  cmd->add_option("--set", args->sets, "override a key (repeatable)");
  cmd->callback([args] {
    const experiment::Config config = experiment::load_config(args->config, args->sets);
    core::set_config_log_level(config.runtime.log_level);
    const auto paths =
        data::write_show_samples(config.data, static_cast<uint64_t>(config.runtime.seed),
                                 args->split.empty() ? config.data.train_split : args->split, args->out, args->num);
    std::cout << "wrote " << paths.size() << " samples to " << args->out << "\n";
  });
}

}  // namespace deeplab::tools
