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

/// The ASPP rates the config implies at its backbone's output stride: the
/// explicit or default rates scaled by (their reference stride / output
/// stride); torchvision style without explicit rates is fixed at 12/24/36.
std::vector<int64_t> resolve_atrous_rates(const ModelConfig& config);

/// The same model at another output stride (eval.output_stride): the rates'
/// reference stride is pinned first, so the ASPP follows the dilations.
ModelConfig at_output_stride(ModelConfig config, int output_stride);

}  // namespace deeplab::models
