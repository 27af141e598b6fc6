// `deeplab model summary -c CONFIG [--set ...] [--input-size H W] [--depth N]`:
// module tree, parameter counts, output stride and convolution MACs.

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/core/logging.h"
#include "deeplab/experiment/config.h"
#include "deeplab/models/factory.h"
#include "deeplab/models/summary.h"
#include "deeplab/weights/model_io.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_model_command(CLI::App& app) {
  auto* model = app.add_subcommand("model", "inspect model architectures");
  model->require_subcommand(1);
  struct Args {
    std::string config;
    std::vector<std::string> sets;
    std::vector<int64_t> size{513, 513};
    int depth = 2;
  };
  auto args = std::make_shared<Args>();
  auto* summary =
      model->add_subcommand("summary", "layer tree, parameters, output stride and MACs of a config's model");
  summary->add_option("-c,--config", args->config, "experiment YAML")->required();
  summary->add_option("--set", args->sets, "override a key: --set model.backbone.name=resnet101");
  summary->add_option("--input-size", args->size, "input height and width for the MAC count")->expected(2);
  summary->add_option("--depth", args->depth, "levels of the module tree to list")->check(CLI::Range(1, 10));
  summary->callback([args] {
    const experiment::Config config = experiment::load_config(args->config, args->sets);
    core::set_config_log_level(config.runtime.log_level);
    models::DeepLab net = models::build_model(config.model);
    const auto s = models::summarize(*net, args->size[0], args->size[1], args->depth);
    std::cout << models::format_summary(
        s, weights::describe_arch(config.model) + ", " + std::to_string(config.model.num_classes) + " classes");
  });
}

}  // namespace deeplab::tools
