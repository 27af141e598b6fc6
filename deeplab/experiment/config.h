#pragma once
// The typed experiment config: every area's section composed into one.  It
// sits above the areas (docs/design.md), so no library area sees the
// whole config: each takes its own section.  Loading, overrides, validation
// and printing use core's YAML machinery.

#include <string>
#include <vector>

#include "deeplab/core/config_tree.h"
#include "deeplab/core/runtime_config.h"
#include "deeplab/data/data_config.h"
#include "deeplab/eval/eval_config.h"
#include "deeplab/export/export_config.h"
#include "deeplab/models/model_config.h"
#include "deeplab/train/train_config.h"

namespace deeplab::experiment {

/// A whole experiment: every section with its defaults, then the YAML on top.
struct Config {
  models::ModelConfig model;
  data::DataConfig data;
  train::TrainConfig train;
  eval::EvalConfig eval;
  exporting::ExportConfig export_;
  core::RuntimeConfig runtime;

  template <class V>
  void fields(V& v) {
    v.section("model", model);
    v.section("data", data);
    v.section("train", train);
    v.section("eval", eval);
    v.section("export", export_);
    v.section("runtime", runtime);
  }
};

/// Loads `path` (with `_base_` files), applies `overrides` ("k=v"), validates.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});
/// Validates an already merged tree into a typed config; the retired key
/// train.freeze_bn (true) is read as model.norm: frozen_bn, with a warning.
Config config_from_tree(const core::ConfigTree& tree);
/// The effective config as YAML text (every key, defaults included).
std::string config_to_yaml(const Config& config);
/// Writes the effective config to `<dir>/config.yaml` atomically.
void write_effective_config(const Config& config, const std::string& dir);

}  // namespace deeplab::experiment
