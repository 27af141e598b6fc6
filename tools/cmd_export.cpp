// `deeplab export -c CONFIG --weights W --output model.pt [--input-size H W]`:
// a TorchScript file (traced in eval mode, runs at any input size) with the
// class names and normalisation stored beside the graph.

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <iostream>

#include "deeplab/core/logging.h"
#include "deeplab/core/runtime.h"
#include "deeplab/experiment/config.h"
#include "deeplab/export/model_metadata.h"
#include "deeplab/export/panoptic_export.h"
#include "deeplab/export/torchscript.h"
#include "deeplab/models/fold_batch_norm.h"
#include "deeplab/weights/model_io.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_export_command(CLI::App& app) {
  struct Args {
    std::string config, weights, output;
    std::vector<std::string> sets;
    std::vector<int64_t> size;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("export", "write a TorchScript model (Python torch.jit.load and C++ load it)");
  cmd->add_option("-c,--config", args->config, "experiment YAML")->required();
  cmd->add_option("--weights", args->weights, "model weights (from deeplab train or deeplab import)")->required();
  cmd->add_option("-o,--output", args->output,
                  "TorchScript file to write (default: export.output, else <work_dir>/model.pt)");
  cmd->add_option("--set", args->sets, "override a key");
  cmd->add_option("--input-size", args->size, "example input height and width for tracing (default: export.input_size)")
      ->expected(2);
  cmd->callback([args] {
    const experiment::Config config = experiment::load_config(args->config, args->sets);
    core::set_config_log_level(config.runtime.log_level);
    core::apply_threads(config.runtime.threads);
    models::DeepLab model = weights::load_model(config.model, args->weights);
    model->eval();
    const int folded = config.export_.fold_bn ? models::fold_batch_norms(*model).folded : 0;
    const auto size = args->size.empty()
                          ? std::vector<int64_t>(config.export_.input_size.begin(), config.export_.input_size.end())
                          : args->size;
    std::string output = args->output.empty() ? config.export_.output : args->output;
    if (output.empty()) output = config.runtime.work_dir + "/model.pt";
    auto meta = exporting::export_metadata(config.model, config.data, size[0], size[1]);
    // What predict --model needs to run the file as `deeplab eval` runs the weights.
    meta.extra["pad_to_stride"] = config.eval.pad_to_stride ? "true" : "false";
    exporting::export_torchscript(*model, exporting::export_forward(config.model, model),
                                  torch::zeros({1, 3, size[0], size[1]}), meta, output);
    std::cout << "exported " << meta.arch << " (" << meta.class_names.size() << " classes"
              << (folded ? ", " + std::to_string(folded) + " BN layers folded" : std::string()) << ") to " << output
              << "\n";
  });
}

}  // namespace deeplab::tools
