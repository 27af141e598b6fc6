#include "deeplab/experiment/config.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "deeplab/core/config_io.h"
#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/pretraining_normalization.h"

namespace deeplab::experiment {

using core::ConfigReader;
using core::ConfigTree;
using core::ConfigWriter;

namespace {
// train.freeze_bn was the switch before model.norm existed (checkpoints of format 1).
void apply_retired_keys(Config& config) {
  if (!config.train.freeze_bn) return;
  spdlog::warn("train.freeze_bn is retired; reading it as model.norm: frozen_bn (write that instead)");
  config.model.norm = "frozen_bn";
  config.train.freeze_bn = false;
}

// Unless the config says otherwise, images are normalised as the backbone's
// pretrained weights expect ([-1, 1] for the TF-trained Xceptions).
void apply_backbone_normalization(const ConfigTree& tree, Config& config) {
  const data::MeanStd pretraining = data::pretraining_normalization(config.model.backbone.name);
  if (!tree.origins.count("data.mean")) config.data.mean = pretraining.mean;
  if (!tree.origins.count("data.std")) config.data.std = pretraining.std;
}

// Keys of different sections that must agree; each error names both.
void check_across_sections(const Config& config) {
  const bool panoptic = models::is_panoptic(config.model);
  const std::string& dataset = config.data.dataset;
  if (panoptic && dataset != "cityscapes_panoptic" && dataset != "coco_panoptic") {
    throw ConfigError("model.arch: " + config.model.arch + " needs instance maps, which data.dataset: " + dataset +
                      " does not give; expected cityscapes_panoptic or coco_panoptic");
  }
  if (!panoptic && config.eval.best_metric == "PQ") {
    throw ConfigError(
        "eval.best_metric: PQ needs a panoptic model.arch, panoptic_deeplab, kmax_deeplab or max_deeplab (model.arch "
        "is " +
        config.model.arch + ")");
  }
}
}  // namespace

Config config_from_tree(const ConfigTree& tree) {
  Config config;
  ConfigReader reader(tree.root, "", tree);
  config.fields(reader);
  reader.reject_unknown_keys();
  apply_retired_keys(config);
  apply_backbone_normalization(tree, config);
  check_across_sections(config);
  return config;
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  ConfigTree tree = core::load_config_tree(path);
  for (const auto& assignment : overrides) core::apply_override(tree, assignment);
  return config_from_tree(tree);
}

std::string config_to_yaml(const Config& config) {
  ConfigWriter writer;
  const_cast<Config&>(config).fields(writer);
  YAML::Emitter out;
  out << writer.node;
  return std::string(out.c_str()) + "\n";
}

void write_effective_config(const Config& config, const std::string& dir) {
  std::filesystem::create_directories(dir);
  core::write_file_atomic((std::filesystem::path(dir) / "config.yaml").string(), config_to_yaml(config));
}

}  // namespace deeplab::experiment
