#pragma once
// torchvision weights -> our models.  Full segmentation state dicts
// (deeplabv3_resnet50/101, deeplabv3_mobilenet_v3_large) share our names;
// ImageNet backbone files (resnet50/101, mobilenet_v2/v3, vgg16) are renamed
// to `backbone.*`, and VGG's fc6/fc7 are subsampled into the LargeFOV head as
// DeepLab-LargeFOV did (fc6 4096x512x7x7 -> 1024x512x3x3).

#include <string>

#include "deeplab/models/deeplab.h"
#include "deeplab/models/model_config.h"
#include "deeplab/weights/pth_reader.h"
#include "deeplab/weights/state_dict.h"

namespace deeplab::weights {

/// What a torchvision file holds.
enum class TorchvisionKind { kSegmentation, kResNet, kMobileNet, kVgg, kConvNeXt };

/// Classifies a torchvision state dict by its keys; throws naming `source`.
TorchvisionKind torchvision_kind(const StateDict& entries, const std::string& source);

/// The model config that reproduces a torchvision segmentation model
/// ("deeplabv3_resnet50", "deeplabv3_resnet101", "deeplabv3_mobilenet_v3_large")
/// or, for a backbone name ("resnet50", "vgg16" ...), a DeepLab on it.
models::ModelConfig torchvision_model_config(const std::string& arch, int num_classes, bool aux);

/// `entries` (a torchvision state dict) in our names for `model`.
StateDict torchvision_to_ours(const StateDict& entries, TorchvisionKind kind, const models::DeepLabImpl& model);

/// Loads a torchvision file into `model`.  Whole-model files must match
/// exactly (strict); backbone files (ImageNet weights, or ours with only
/// `backbone.*` keys) must fill the whole backbone (the head stays as
/// initialised and is listed as missing).  Errors name the file and keys.
/// `backbone` is the configured `model.backbone.name` (checked against the
/// entries, read from `source` by read_state_dict).
LoadReport import_torchvision(models::DeepLabImpl& model, const StateDict& entries, const std::string& source,
                              const std::string& backbone);

}  // namespace deeplab::weights
