// `deeplab data synth --layout voc|cityscapes|ade20k|coco_stuff|pascal_context --out DIR --num N --size HxW --seed S`:
// a synthetic dataset in the official on-disk layout, for offline demos and tests.

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/core/error.h"
#include "deeplab/data/synth/synth_writer.h"
#include "tools/commands.h"

namespace deeplab::tools {

namespace {
void parse_size(const std::string& text, int& height, int& width) {
  const auto x = text.find('x');
  try {
    if (x == std::string::npos) throw std::invalid_argument(text);
    height = std::stoi(text.substr(0, x));
    width = std::stoi(text.substr(x + 1));
  } catch (const std::exception&) {
    throw ConfigError("--size: expected HEIGHTxWIDTH, e.g. 128x128, got '" + text + "'");
  }
}
}  // namespace

void add_data_synth(CLI::App& data) {
  struct Args {
    data::synth::SynthOptions options;
    std::string size = "128x128";
  };
  auto args = std::make_shared<Args>();
  auto* cmd = data.add_subcommand(
      "synth", "write a synthetic dataset in an official layout (VOC, Cityscapes, ADE20K, COCO-Stuff, PASCAL-Context)");
  cmd->add_option("--layout", args->options.layout, "voc, cityscapes, ade20k, coco_stuff or pascal_context")
      ->capture_default_str();
  cmd->add_option("--out", args->options.out, "output directory (the dataset root)")->required();
  cmd->add_option("--num", args->options.num, "images in total (train + val)")->capture_default_str();
  cmd->add_option("--size", args->size, "HEIGHTxWIDTH")->capture_default_str();
  cmd->add_option("--seed", args->options.seed, "random seed (image i depends only on seed and i)")
      ->capture_default_str();
  cmd->add_option("--val-fraction", args->options.val_fraction, "share of images in val")->capture_default_str();
  cmd->add_option("--classes", args->options.num_classes, "VOC layout: object classes 1..K (K <= 6)")
      ->capture_default_str();
  cmd->add_flag("--force", args->options.force, "rewrite the dataset even if its synth.yaml says it is up to date");
  cmd->callback([args] {
    parse_size(args->size, args->options.height, args->options.width);
    const auto report = data::synth::write_synthetic_dataset(args->options);
    if (report.up_to_date) {
      std::cout << args->options.out << " is up to date (generator version " << data::synth::kGeneratorVersion
                << ", same options): nothing written; --force rewrites it\n";
      return;
    }
    std::cout << "wrote " << args->options.layout << "-layout dataset to " << args->options.out << ": " << report.train
              << " train, " << report.val << " val images of " << args->size << "\n";
  });
}

}  // namespace deeplab::tools
