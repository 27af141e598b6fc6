// `deeplab data make-trainaug --voc-root VOC2012 --sbd-root SBD/dataset [--png]`:
// the standard 10,582-image VOC "trainaug" list (and optionally its label PNGs).

#include <CLI/CLI.hpp>

#include <iostream>

#include "deeplab/data/sbd.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_data_make_trainaug(CLI::App& data) {
  struct Args {
    std::string voc_root, sbd_root;
    bool png = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = data.add_subcommand("make-trainaug", "merge SBD with VOC train (minus VOC val) into train_aug.txt");
  cmd->add_option("--voc-root", args->voc_root, "VOC2012 directory (JPEGImages/, ImageSets/ ...)")->required();
  cmd->add_option("--sbd-root", args->sbd_root, "SBD dataset/ directory (cls/, train.txt, val.txt)")->required();
  cmd->add_flag("--png", args->png, "also write VOC-palette label PNGs to SegmentationClassAug/");
  cmd->callback([args] {
    const auto report = data::make_trainaug(args->voc_root, args->sbd_root, args->png);
    std::cout << "wrote " << report.list_path << " (" << report.num_ids << " ids)";
    if (args->png) std::cout << " and " << report.num_pngs << " label PNGs";
    std::cout << "\n";
  });
}

}  // namespace deeplab::tools
