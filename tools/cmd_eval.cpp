// `deeplab eval -c CONFIG --weights W [--split S] [--json OUT] [--save-pred DIR]
//  [--save-vis DIR] [--rank r --world-size n] [--set k=v ...]`: scores a model on
// a dataset split with the `eval:` section's test-time augmentation.
// `deeplab eval-merge SHARD.json... [--json OUT]`: sums the shards of a sharded run.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "deeplab/core/config_check.h"
#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/logging.h"
#include "deeplab/core/process_env.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/eval/shard_merge.h"
#include "deeplab/experiment/config.h"
#include "deeplab/experiment/distributed_run.h"
#include "deeplab/experiment/inference_session.h"
#include "deeplab/inference/panoptic_writer.h"
#include "deeplab/weights/model_io.h"
#include "tools/commands.h"

namespace fs = std::filesystem;

namespace deeplab::tools {
namespace {

struct EvalArgs {
  std::string config, weights, split, json, save_pred, save_vis;
  std::vector<std::string> sets, flag_sets;  // flag_sets: --fold-bn & co, applied after --set
  int rank = -1, world_size = -1;
  bool no_progress = false;
};

// eval.json beside the weights; eval.crf.json for a run with the dense CRF,
// so that scoring a model with and without it keeps both results; shards
// add their rank (eval.rank0-of-2.json).
std::string default_json_path(const EvalArgs& args, const eval::EvalOptions& options) {
  const fs::path dir = fs::path(args.weights).parent_path();
  std::string name = options.crf ? "eval.crf" : "eval";
  if (options.world_size > 1)
    name += ".rank" + std::to_string(options.rank) + "-of-" + std::to_string(options.world_size);
  return (dir / (name + ".json")).string();
}

// A config section as a JSON object, from the same fields() list that reads
// and writes it as YAML (core/config_io.h), so the record names every key.
struct JsonFields {
  nlohmann::json object = nlohmann::json::object();
  template <class T>
  void operator()(const char* key, const T& value, const core::Check& = {}) {
    object[key] = value;
  }
};

template <class Section>
nlohmann::json section_json(const Section& section) {
  JsonFields fields;
  const_cast<Section&>(section).fields(fields);  // fields() is shared with the reader; this only reads
  return fields.object;
}

nlohmann::json run_description(const experiment::Config& config, const EvalArgs& args, const std::string& split,
                               const eval::EvalOptions& options) {
  const auto& p = options.predictor;
  return {{"weights", args.weights},
          {"config", args.config},
          {"arch", weights::describe_arch(config.model)},
          {"dataset", config.data.dataset},
          {"root", config.data.root},
          {"split", split},
          {"mode", p.mode},
          {"scales", p.scales},
          {"flip", p.flip},
          {"window", {p.window_h, p.window_w}},
          {"overlap", p.overlap},
          {"pad_multiple", p.pad_multiple},
          {"output_stride", config.model.backbone.output_stride},
          {"crf", options.crf ? section_json(config.eval.crf) : nullptr},
          {"inference", section_json(config.eval.inference)},
          {"rank", options.rank},
          {"world_size", options.world_size}};
}

void run_eval(const EvalArgs& args) {
  core::ProcessPlace place = core::resolve_process_place(args.rank, args.world_size, "eval");
  experiment::Config config = experiment::load_config(args.config, with_flag_overrides(args.sets, args.flag_sets));
  // Under a launcher (torchrun, srun, deeplab launch) without --rank flags the
  // ranks sum their shards in memory and rank 0 writes one merged result;
  // with --rank/--world-size each shard writes its own file (eval-merge).
  std::shared_ptr<core::ProcessGroup> group;
  if (args.rank < 0 && core::rendezvous_from_env().distributed()) {
    group = experiment::join_distributed_run(config, core::resolve_device(config.runtime.device)).group;
    if (group->rank() != 0) core::set_console_logging(false);
  }
  experiment::InferenceSession session = experiment::open_session(std::move(config), args.weights);
  const experiment::Config& used = session.config;
  models::DeepLab& model = *session.model;
  const std::string split = args.split.empty() ? used.eval.split : args.split;
  const auto dataset = data::make_dataset(used.data, split, data::DatasetUse::kEvaluation);

  eval::EvalOptions options = session.eval_options;
  options.rank = place.rank;
  options.world_size = place.world_size;
  options.outputs.pred_dir = args.save_pred;
  options.outputs.vis_dir = args.save_vis;
  options.progress = !args.no_progress;
  spdlog::info("eval: {} on {} '{}' ({} images, shard {}/{}), mode {}, {} scale(s){}, {} thread(s), {}",
               session.model_name, used.data.dataset, split, dataset->size(), options.rank, options.world_size,
               options.predictor.mode, options.predictor.scales.size(), options.predictor.flip ? " + flip" : "",
               at::get_num_threads(), session.device.str());

  eval::EvalResult result = eval::evaluate(*model, *dataset, options);
  if (group) {
    eval::sum_across_ranks(result, *group);
    group->barrier();  // every shard's files are written
    if (group->rank() != 0) return;
    if (options.panoptic && !args.save_pred.empty())
      inference::merge_panoptic_json_shards(args.save_pred, group->world_size());
    options.rank = 0;
    options.world_size = 1;  // the JSON describes the whole split
  }
  std::cout << eval::format_eval_report(result);
  nlohmann::json out = eval::eval_result_json(result);
  out["run"] = run_description(used, args, split, options);
  const std::string path = args.json.empty() ? default_json_path(args, options) : args.json;
  core::write_file_atomic(path, out.dump(2) + "\n");
  std::cout << "wrote " << path << "\n";
}

void run_merge(const std::vector<std::string>& files, const std::string& json_path) {
  const eval::MergedEval merged = eval::merge_eval_shards(files);
  std::cout << eval::format_eval_report(merged.result);
  if (!json_path.empty()) {
    core::write_file_atomic(json_path, merged.json.dump(2) + "\n");
    std::cout << "wrote " << json_path << "\n";
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval",
                                 "score a model on a dataset split: mIoU, iIoU, PQ (whole image, sliding window, "
                                 "multi-scale + flip, dense CRF)");
  cmd->add_option("-c,--config", args->config, "experiment YAML")->required();
  cmd->add_option("--weights", args->weights, "model weights (from deeplab train or deeplab import)")->required();
  cmd->add_option("--split", args->split, "dataset split (default: eval.split)");
  cmd->add_option("--json", args->json,
                  "scores as JSON (default: eval.json beside the weights, eval.crf.json with eval.crf)");
  cmd->add_option("--save-pred", args->save_pred,
                  "write predictions in the official format (VOC palette PNGs, "
                  "Cityscapes *_labelIds.png)");
  cmd->add_option("--save-vis", args->save_vis, "write image | ground truth | prediction, colourised");
  cmd->add_option("--rank", args->rank, "this shard (default: $RANK or 0)")->check(at_least(0));
  cmd->add_option("--world-size", args->world_size, "number of shards (default: $WORLD_SIZE or 1)")->check(at_least(1));
  cmd->add_option("--set", args->sets, "override a key: --set eval.flip=true (repeatable)");
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar or progress lines");
  add_inference_flags(*cmd, args->flag_sets);
  cmd->callback([args] { run_eval(*args); });

  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<std::string>();
  auto* merge = app.add_subcommand("eval-merge", "sum the shards of a sharded `deeplab eval` run into one result");
  merge->add_option("shards", *files, "the shards' JSON files (every rank once)")->required()->check(CLI::ExistingFile);
  merge->add_option("--json", *json, "write the merged scores as JSON to this file");
  merge->callback([files, json] { run_merge(*files, *json); });
}

}  // namespace deeplab::tools
