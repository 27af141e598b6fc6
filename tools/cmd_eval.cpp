// `deeplab eval -c CONFIG --weights W [--split S] [--json OUT] [--save-pred DIR]
//  [--save-vis DIR] [--rank r --world-size n] [--set k=v ...]`: scores a model on
// a dataset split with the `eval:` section's test-time augmentation.
// `deeplab eval-merge SHARD.json... [--json OUT]`: sums the shards of a sharded run.

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <set>

#include "deeplab/core/config.h"
#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/runtime.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/eval/evaluator.h"
#include "deeplab/export/model_io.h"
#include "tools/commands.h"

namespace fs = std::filesystem;

namespace deeplab::tools {
namespace {

struct EvalArgs {
  std::string config, weights, split, json, save_pred, save_vis;
  std::vector<std::string> sets;
  int rank = -1, world_size = -1;
  bool no_progress = false;
};

int env_int(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  try {
    return std::stoi(value);
  } catch (const std::exception&) {
    throw ConfigError(std::string("environment variable ") + name + "='" + value + "' is not an integer");
  }
}

// Flags win; otherwise the launcher's RANK / WORLD_SIZE (torchrun's names).
std::pair<int, int> resolve_shard(const EvalArgs& args) {
  if ((args.rank >= 0) != (args.world_size >= 0)) throw ConfigError("eval: give --rank and --world-size together");
  return {args.rank >= 0 ? args.rank : env_int("RANK", 0),
          args.world_size >= 0 ? args.world_size : env_int("WORLD_SIZE", 1)};
}

std::string default_json_path(const EvalArgs& args, const eval::EvalOptions& options) {
  const fs::path dir = fs::path(args.weights).parent_path();
  const std::string name = options.world_size > 1 ? "eval.rank" + std::to_string(options.rank) + "-of-" +
                                                        std::to_string(options.world_size) + ".json"
                                                  : "eval.json";
  return (dir / name).string();
}

nlohmann::json run_description(const core::Config& config, const EvalArgs& args, const std::string& split,
                               const eval::EvalOptions& options) {
  const auto& p = options.predictor;
  return {{"weights", args.weights},          {"config", args.config},
          {"arch", exporting::describe_arch(config.model)},
          {"dataset", config.data.dataset},   {"root", config.data.root},
          {"split", split},                   {"mode", p.mode},
          {"scales", p.scales},               {"flip", p.flip},
          {"window", {p.window_h, p.window_w}}, {"overlap", p.overlap},
          {"pad_multiple", p.pad_multiple},   {"output_stride", config.model.backbone.output_stride},
          {"rank", options.rank},             {"world_size", options.world_size}};
}

void run_eval(const EvalArgs& args) {
  const auto [rank, world_size] = resolve_shard(args);
  core::Config config = core::load_config(args.config, args.sets);
  // Same weights, another output stride: only the dilations change.
  if (config.eval.output_stride != 0) config.model.backbone.output_stride = config.eval.output_stride;
  const c10::Device device = core::apply_runtime(config.runtime);
  models::DeepLab model = exporting::load_model(config, args.weights);
  model->to(device);
  const std::string split = args.split.empty() ? config.eval.split : args.split;
  const auto dataset = data::make_dataset(config.data, split);

  eval::EvalOptions options = eval::EvalOptions::from_config(config, eval::model_output_stride(*model));
  options.rank = rank;
  options.world_size = world_size;
  options.outputs.pred_dir = args.save_pred;
  options.outputs.vis_dir = args.save_vis;
  options.progress = !args.no_progress;
  spdlog::info("eval: {} on {} '{}' ({} images, shard {}/{}), mode {}, {} scale(s){}, {} thread(s), {}",
               exporting::describe_arch(config.model), config.data.dataset, split, dataset->size(), options.rank,
               options.world_size, options.predictor.mode, options.predictor.scales.size(),
               options.predictor.flip ? " + flip" : "", at::get_num_threads(), device.str());

  const eval::EvalResult result = eval::evaluate(*model, *dataset, options);
  std::cout << eval::format_eval_report(result, options.class_names);
  nlohmann::json out = eval::eval_result_json(result, options.class_names);
  out["run"] = run_description(config, args, split, options);
  const std::string path = args.json.empty() ? default_json_path(args, options) : args.json;
  core::write_file_atomic(path, out.dump(2) + "\n");
  std::cout << "wrote " << path << "\n";
}

std::vector<std::string> class_names_of(const nlohmann::json& json) {
  std::vector<std::string> names;
  for (const auto& c : json.value("per_class", nlohmann::json::array())) names.push_back(c.value("name", ""));
  return names;
}

// Every rank 0..n-1 exactly once, so every image counts exactly once.
void check_shards_complete(const std::vector<nlohmann::json>& shards, const std::vector<std::string>& files) {
  std::set<int> ranks;
  const int world = shards.front().value("/run/world_size"_json_pointer, 1);
  for (size_t i = 0; i < shards.size(); ++i) {
    const int w = shards[i].value("/run/world_size"_json_pointer, 1);
    const int r = shards[i].value("/run/rank"_json_pointer, 0);
    if (w != world) throw DataError(files[i] + ": world size " + std::to_string(w) + ", but " + files[0] + " says " +
                                    std::to_string(world));
    if (!ranks.insert(r).second) throw DataError(files[i] + ": rank " + std::to_string(r) + " given twice");
  }
  if (static_cast<int>(ranks.size()) != world) {
    throw DataError("eval-merge: " + std::to_string(ranks.size()) + " shard(s) of a world size of " +
                    std::to_string(world) + "; every rank must be given once");
  }
}

void run_merge(const std::vector<std::string>& files, const std::string& json_path) {
  std::vector<nlohmann::json> shards;
  for (const auto& f : files) {
    try {
      shards.push_back(nlohmann::json::parse(core::read_file(f)));
    } catch (const nlohmann::json::exception& e) {
      throw DataError(f + ": not valid JSON (" + e.what() + ")");
    }
  }
  check_shards_complete(shards, files);
  eval::EvalResult merged = eval::eval_result_from_json(shards[0], files[0]);
  for (size_t i = 1; i < shards.size(); ++i) merged.merge(eval::eval_result_from_json(shards[i], files[i]));
  const auto names = class_names_of(shards[0]);
  std::cout << eval::format_eval_report(merged, names);
  nlohmann::json out = eval::eval_result_json(merged, names);
  out["run"] = shards[0].value("run", nlohmann::json::object());
  out["run"].erase("rank");
  out["merged_from"] = files;
  if (!json_path.empty()) {
    core::write_file_atomic(json_path, out.dump(2) + "\n");
    std::cout << "wrote " << json_path << "\n";
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto args = std::make_shared<EvalArgs>();
  auto* cmd = app.add_subcommand("eval", "score a model on a dataset split (whole image, sliding window, multi-scale + flip)");
  cmd->add_option("-c,--config", args->config, "experiment YAML")->required();
  cmd->add_option("--weights", args->weights, "model weights (from deeplab train or deeplab import)")->required();
  cmd->add_option("--split", args->split, "dataset split (default: eval.split)");
  cmd->add_option("--json", args->json, "scores as JSON (default: eval.json beside the weights)");
  cmd->add_option("--save-pred", args->save_pred, "write predictions in the official format (VOC palette PNGs, "
                                                  "Cityscapes *_labelIds.png)");
  cmd->add_option("--save-vis", args->save_vis, "write image | ground truth | prediction, colourised");
  cmd->add_option("--rank", args->rank, "this shard (default: $RANK or 0)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--world-size", args->world_size, "number of shards (default: $WORLD_SIZE or 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--set", args->sets, "override a key: --set eval.flip=true (repeatable)");
  cmd->add_flag("--no-progress", args->no_progress, "no progress bar or progress lines");
  cmd->callback([args] { run_eval(*args); });

  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<std::string>();
  auto* merge = app.add_subcommand("eval-merge", "sum the shards of a sharded `deeplab eval` run into one result");
  merge->add_option("shards", *files, "the shards' JSON files (every rank once)")->required()->check(CLI::ExistingFile);
  merge->add_option("--json", *json, "write the merged scores as JSON to this file");
  merge->callback([files, json] { run_merge(*files, *json); });
}

}  // namespace deeplab::tools
