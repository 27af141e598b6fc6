// `deeplab eval-panoptic --gt-json F --gt-dir D --pred-json F --pred-dir D
//  [--json OUT]`: PQ/SQ/RQ of COCO-format panoptic predictions, as panopticapi.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "deeplab/core/fs_util.h"
#include "deeplab/eval/coco_panoptic.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_eval_panoptic_command(CLI::App& app) {
  struct Args {
    std::string gt_json, gt_dir, pred_json, pred_dir, json;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval-panoptic", "panoptic quality of COCO-format predictions (panopticapi rules)");
  cmd->add_option("--gt-json", args->gt_json, "ground-truth COCO panoptic JSON")->required();
  cmd->add_option("--gt-dir", args->gt_dir, "folder of the ground-truth PNGs")->required();
  cmd->add_option("--pred-json", args->pred_json, "prediction COCO panoptic JSON")->required();
  cmd->add_option("--pred-dir", args->pred_dir, "folder of the prediction PNGs")->required();
  cmd->add_option("--json", args->json, "write All/Things/Stuff and per_class (fractions) to this file");
  cmd->callback([args] {
    const eval::PanopticQuality pq =
        eval::evaluate_coco_panoptic(args->gt_json, args->gt_dir, args->pred_json, args->pred_dir);
    const eval::PanopticResult result = pq.result();
    std::cout << eval::format_panoptic_table(result);
    if (!args->json.empty()) core::write_file_atomic(args->json, eval::panoptic_result_json(result).dump(2) + "\n");
  });
}

}  // namespace deeplab::tools
