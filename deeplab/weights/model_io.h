#pragma once
// A model from a config, with its weights: the one path `eval`, `export`,
// `predict` and `train` use, so they agree on how weights are found.
// (export/model_metadata.h describes a config's model for an export.)

#include <string>

#include "deeplab/models/deeplab.h"
#include "deeplab/models/model_config.h"
#include "deeplab/weights/state_dict.h"

namespace deeplab::weights {

/// Builds `config.model` and loads `weights` (our names, as `deeplab import`
/// and the trainer write them; strict: every key and shape must match).
models::DeepLab load_model(const models::ModelConfig& config, const std::string& weights);

/// Start-of-training weights: `model.init` (full model, strict) when set,
/// else `model.backbone.pretrained` (torchvision or timm ImageNet weights,
/// .pth or .safetensors: pretrained_import.h) when set;
/// returns what was loaded ("" when nothing).
std::string initialise_model(models::DeepLabImpl& model, const models::ModelConfig& config);

/// "deeplabv3plus/resnet101/os16": the architecture in one line.
std::string describe_arch(const models::ModelConfig& config);

}  // namespace deeplab::weights
