// `deeplab data <subcommand>`: dataset preparation.  This file creates the
// group and registers each subcommand with one call; subcommands live in
// their own cmd_data_<name>.cpp, except the small cityscapes-panoptic below.
//
// `deeplab data cityscapes-panoptic --root R --split S [--output DIR] [--train-ids]`:
// Cityscapes panoptic ground truth in the COCO format, as cityscapesScripts'
// createPanopticImgs makes it.

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/data/cityscapes_panoptic.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_data_command(CLI::App& app) {
  auto* data = app.add_subcommand("data", "prepare datasets (conversions, label files)");
  data->require_subcommand(1);
  add_data_cityscapes_panoptic(*data);
  add_data_synth(*data);
  add_data_make_trainaug(*data);
  add_data_stats(*data);
  add_data_show(*data);
}

void add_data_cityscapes_panoptic(CLI::App& data) {
  struct Args {
    std::string root, split = "val", output;
    bool train_ids = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd =
      data.add_subcommand("cityscapes-panoptic", "build COCO-format panoptic ground truth from *_instanceIds.png");
  cmd->add_option("--root", args->root, "Cityscapes root (holds gtFine/)")->required();
  cmd->add_option("--split", args->split, "train, val or test")->capture_default_str();
  cmd->add_option("--output", args->output, "output folder (default: <root>/gtFine)");
  cmd->add_flag("--train-ids", args->train_ids, "category ids are train ids (0..18) instead of label ids");
  cmd->callback([args] {
    const auto summary = data::convert_cityscapes_panoptic(args->root, args->split, args->output, args->train_ids);
    std::cout << "converted " << summary.images << " images (" << summary.segments << " segments)\n"
              << "json: " << summary.json_path << "\npngs: " << summary.png_dir << "\n";
  });
}

}  // namespace deeplab::tools
