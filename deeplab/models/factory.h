#pragma once
// Config -> modules: one readable switch, no global registries.

#include <memory>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/deeplab.h"
#include "deeplab/models/model_config.h"

namespace deeplab::models {

/// The backbone `model.backbone` names, at its output stride.
std::shared_ptr<BackboneImpl> build_backbone(const BackboneConfig& config);

/// The whole model of `model:`; throws naming the key of an invalid combination.
DeepLab build_model(const ModelConfig& config);

/// The ASPP rates the config implies (explicit, or by arch/style/stride).
std::vector<int64_t> resolve_atrous_rates(const ModelConfig& config);

}  // namespace deeplab::models
