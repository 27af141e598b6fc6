#pragma once
// One entry point for ImageNet (or other pretrained) backbone files: told
// apart by their keys, not their names — timm's aligned Xception, torchvision
// (ImageNet backbones and whole segmentation models), or a file already in
// our names — each read from .pth (torch.save) or .safetensors.

#include <string>

#include "deeplab/models/deeplab.h"
#include "deeplab/weights/state_dict.h"

namespace deeplab::weights {

/// Loads `path` into `model` by its family's rules (torchvision_import.h,
/// timm_import.h); `backbone` is the configured model.backbone.name.  Errors
/// name the file and the keys at fault.
LoadReport import_pretrained(models::DeepLabImpl& model, const std::string& path, const std::string& backbone);

}  // namespace deeplab::weights
