// `deeplab bench loader [-c CONFIG] [--set k=v ...] [--batches N] [--warmup W]`:
// images/s of the training input pipeline (scripts/bench/loader.py compares it
// with a torchvision DataLoader doing the same work).

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "deeplab/core/logging.h"
#include "deeplab/experiment/config.h"
#include "deeplab/data/loader_bench.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "measure throughput");
  bench->require_subcommand(1);
  struct Args {
    std::string config, split;
    std::vector<std::string> sets;
    size_t batches = 20, warmup = 3;
  };
  auto args = std::make_shared<Args>();
  auto* loader = bench->add_subcommand("loader", "images/s of decode + training augmentation + collation");
  loader->add_option("-c,--config", args->config, "experiment YAML (default: built-in data defaults)");
  loader->add_option("--split", args->split, "split (default: data.train_split)");
  loader->add_option("--set", args->sets, "override a key: --set data.root=DIR (repeatable)");
  loader->add_option("--batches", args->batches, "timed batches")->capture_default_str();
  loader->add_option("--warmup", args->warmup, "untimed batches first")->capture_default_str();
  loader->callback([args] {
    experiment::Config config;
    if (!args->config.empty()) {
      config = experiment::load_config(args->config, args->sets);
    } else {
      core::ConfigTree tree;
      for (const auto& s : args->sets) core::apply_override(tree, s);
      config = experiment::config_from_tree(tree);
    }
    core::set_config_log_level(config.runtime.log_level);
    const auto r = data::benchmark_loader(config.data, static_cast<uint64_t>(config.runtime.seed), args->split.empty() ? config.data.train_split : args->split,
                                          args->batches, args->warmup);
    char line[256];
    std::snprintf(line, sizeof line, "loader: %zu images in %.3f s = %.1f images/s (workers %d, batch %d, crop %dx%d)\n",
                  r.images, r.seconds, r.images_per_second(), r.workers, config.data.batch_size,
                  config.data.crop_size[0], config.data.crop_size[1]);
    std::cout << line;
  });
}

}  // namespace deeplab::tools
