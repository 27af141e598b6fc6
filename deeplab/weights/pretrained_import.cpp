#include "deeplab/weights/pretrained_import.h"

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/weights/timm_import.h"
#include "deeplab/weights/torchvision_import.h"

namespace deeplab::weights {

namespace {

// The file a user would fetch for each backbone (torchvision's names; timm's
// model for the Xceptions), for the message of a missing file.
std::string expected_file(const std::string& backbone) {
  if (backbone == "resnet50") return "torchvision's resnet50-0676ba61.pth";
  if (backbone == "resnet101") return "torchvision's resnet101-63fe2227.pth";
  if (backbone == "mobilenet_v2") return "torchvision's mobilenet_v2-b0353104.pth";
  if (backbone == "mobilenet_v3_large") return "torchvision's mobilenet_v3_large-8738ca79.pth";
  if (backbone == "mobilenet_v3_small") return "torchvision's mobilenet_v3_small-047dcff4.pth";
  if (backbone == "vgg16") return "torchvision's vgg16-397923af.pth";
  if (backbone == "convnext_tiny") return "torchvision's convnext_tiny-983f1562.pth";
  if (backbone == "convnext_small") return "torchvision's convnext_small-0c510722.pth";
  if (backbone == "convnext_base") return "torchvision's convnext_base-6075fbad.pth";
  if (backbone == "convnext_large") return "torchvision's convnext_large-ea097f82.pth";
  if (backbone.rfind("xception", 0) == 0) return "timm's " + backbone + ".tf_in1k (model.safetensors)";
  return "ImageNet weights of " + backbone + " in torchvision's names";
}

[[noreturn]] void missing_pretrained(const std::string& path, const std::string& backbone) {
  std::string timm_or_tv = backbone.rfind("xception", 0) == 0 ? "timm" : "torchvision";
  throw IoError("model.backbone.pretrained: '" + path + "' does not exist. It should hold the ImageNet weights of '" +
                backbone + "' (" + expected_file(backbone) +
                "), read as it is or converted once with `deeplab import --from " + timm_or_tv + " --arch " + backbone +
                " IN OUT.pth`; nothing is downloaded. To train from scratch instead, set model.backbone.pretrained: "
                "null (or \"\").");
}

}  // namespace

LoadReport import_pretrained(models::DeepLabImpl& model, const std::string& path, const std::string& backbone) {
  if (!std::filesystem::exists(path)) missing_pretrained(path, backbone);
  const StateDict entries = read_state_dict(path);
  if (is_timm_xception(entries)) {
    return import_timm_xception(model, entries, path, backbone);
  }
  return import_torchvision(model, entries, path, backbone);
}

}  // namespace deeplab::weights
