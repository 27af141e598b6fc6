// `deeplab eval-semantic --gt DIR --pred DIR --num-classes N [--ignore 255]
//  [--label-map cityscapes-ids] [--json OUT] [--threads T]`: mIoU and friends
// of prediction PNGs against ground-truth PNGs.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <iostream>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/eval/semantic_eval.h"
#include "deeplab/eval/semantic_metrics.h"
#include "tools/commands.h"

namespace deeplab::tools {

void add_eval_semantic_command(CLI::App& app) {
  struct Args {
    std::string gt, pred, label_map, json;
    int num_classes = 0;
    int ignore = 255;
    int threads = 1;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval-semantic", "score semantic prediction PNGs against ground-truth PNGs");
  cmd->add_option("--gt", args->gt, "ground-truth folder (searched recursively)")->required();
  cmd->add_option("--pred", args->pred, "prediction folder (searched recursively)")->required();
  cmd->add_option("--num-classes", args->num_classes, "number of classes (not used with --label-map)");
  cmd->add_option("--ignore", args->ignore, "ground-truth value left out of the scores")->capture_default_str();
  cmd->add_option("--label-map", args->label_map,
                  "cityscapes-ids: gtFine tree, label-id predictions, cityscapesScripts rules with iIoU")
      ->check(CLI::IsMember({"cityscapes-ids"}));
  cmd->add_option("--json", args->json, "write the scores as JSON to this file");
  cmd->add_option("--threads", args->threads, "worker threads")->capture_default_str()->check(CLI::Range(1, 256));
  cmd->callback([args] {
    nlohmann::json out;
    if (args->label_map == "cityscapes-ids") {
      const auto evaluator =
          eval::evaluate_cityscapes_files(eval::match_cityscapes(args->gt, args->pred), args->threads);
      const auto scores = evaluator.scores();
      std::cout << eval::format_cityscapes_table(scores);
      out = eval::cityscapes_scores_json(scores, evaluator.matrix());
    } else {
      if (args->num_classes < 1) throw ConfigError("eval-semantic: --num-classes N (>= 1) is required");
      const auto matrix = eval::evaluate_semantic_files(eval::match_by_stem(args->gt, args->pred), args->num_classes,
                                                        args->ignore, args->threads);
      const auto scores = eval::semantic_scores(matrix);
      std::cout << eval::format_semantic_table(scores, {});
      out = eval::semantic_scores_json(scores, {}, matrix);
      out["ignore_index"] = args->ignore;
    }
    if (!args->json.empty()) core::write_file_atomic(args->json, out.dump(2) + "\n");
  });
}

}  // namespace deeplab::tools
