#include "deeplab/weights/torchvision_import.h"

#include <torch/torch.h>

#include <set>

#include "deeplab/core/error.h"

namespace deeplab::weights {
namespace {

bool has_prefix(const StateDict& entries, const std::string& prefix) {
  for (const auto& entry : entries) {
    if (entry.first.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

const torch::Tensor* find(const StateDict& entries, const std::string& key) {
  for (const auto& entry : entries) {
    if (entry.first == key) return &entry.second;
  }
  return nullptr;
}

// DeepLab-LargeFOV's decimation of VGG's fully connected layers: every k-th
// output (4096 -> the target's width, 1024 in the papers: k = 4), and for fc6
// every 3rd tap of the 7x7 window (the 3x3 dilated kernel covers it with
// rate 12 at stride 8).  The targets are the layers the model says start
// from ImageNet's fc6/fc7.
void add_subsampled_fc(const StateDict& entries, const models::DeepLabImpl& model, StateDict& out) {
  using torch::indexing::Slice;
  const torch::Tensor* w6 = find(entries, "classifier.0.weight");
  const torch::Tensor* b6 = find(entries, "classifier.0.bias");
  const torch::Tensor* w7 = find(entries, "classifier.3.weight");
  const torch::Tensor* b7 = find(entries, "classifier.3.bias");
  if (!w6 || !b6 || !w7 || !b7) return;  // a features-only file: the head stays random
  const auto params = model.named_parameters();
  for (const auto& [fc6, fc7] : model.imagenet_fc_layers()) {
    const int64_t width = params[fc6 + ".weight"].size(0);
    if (width <= 0 || 4096 % width != 0) {
      throw IoError("VGG fc6/fc7 import: " + fc6 + " has " + std::to_string(width) +
                    " channels, which does not divide ImageNet's 4096");
    }
    const auto taps = Slice(0, 7, 3), every_kth = Slice(0, 4096, 4096 / width);
    out.emplace_back(fc6 + ".weight", w6->view({4096, 512, 7, 7}).index({every_kth, Slice(), taps, taps}).contiguous());
    out.emplace_back(fc6 + ".bias", b6->index({every_kth}).contiguous());
    out.emplace_back(fc7 + ".weight", w7->index({every_kth, every_kth}).reshape({width, width, 1, 1}).contiguous());
    out.emplace_back(fc7 + ".bias", b7->index({every_kth}).contiguous());
  }
}

const char* kind_name(TorchvisionKind kind) {
  switch (kind) {
    case TorchvisionKind::kResNet: return "ResNet";
    case TorchvisionKind::kMobileNet: return "MobileNet";
    case TorchvisionKind::kVgg: return "VGG";
    case TorchvisionKind::kConvNeXt: return "ConvNeXt";
    default: return "segmentation";
  }
}

// One clear line before any per-key report when the file is another family.
void check_family(TorchvisionKind kind, const std::string& backbone, const std::string& source) {
  if (kind == TorchvisionKind::kSegmentation) return;
  const bool fits = (kind == TorchvisionKind::kResNet && backbone.rfind("resnet", 0) == 0) ||
                    (kind == TorchvisionKind::kMobileNet && backbone.rfind("mobilenet", 0) == 0) ||
                    (kind == TorchvisionKind::kVgg && backbone == "vgg16") ||
                    (kind == TorchvisionKind::kConvNeXt && backbone.rfind("convnext", 0) == 0);
  if (!fits) {
    throw IoError(source + ": holds " + kind_name(kind) + " ImageNet weights, but the backbone is " + backbone);
  }
}

}  // namespace

TorchvisionKind torchvision_kind(const StateDict& entries, const std::string& source) {
  if (has_prefix(entries, "backbone.")) return TorchvisionKind::kSegmentation;
  if (has_prefix(entries, "layer1.")) return TorchvisionKind::kResNet;
  if (has_prefix(entries, "features.")) {
    // VGG's features hold bare convs (features.0.weight); MobileNets' and
    // ConvNeXts' hold blocks, ConvNeXt's with layer scales.
    if (find(entries, "features.0.weight")) return TorchvisionKind::kVgg;
    return find(entries, "features.1.0.layer_scale") ? TorchvisionKind::kConvNeXt : TorchvisionKind::kMobileNet;
  }
  throw IoError(source + ": not a torchvision state dict (no backbone.*, layer1.* or features.* keys)");
}

models::ModelConfig torchvision_model_config(const std::string& arch, int num_classes, bool aux) {
  models::ModelConfig c;
  c.num_classes = num_classes;
  c.aux_loss = aux;
  c.arch = "deeplabv3";
  c.head.style = "torchvision";
  c.backbone.dilation_rule = "torchvision";
  const std::string prefix = "deeplabv3_";
  c.backbone.name = arch.rfind(prefix, 0) == 0 ? arch.substr(prefix.size()) : arch;
  // torchvision dilates ResNets to stride 8 and MobileNet-V3 to 16;
  // ConvNeXt stays at 32.
  c.backbone.output_stride = c.backbone.name.rfind("resnet", 0) == 0 ? 8 : 16;
  if (c.backbone.name.rfind("convnext", 0) == 0) c.backbone.output_stride = 32;
  if (c.backbone.name == "vgg16") {
    c.arch = "deeplabv1";
    c.backbone.output_stride = 8;
  }
  return c;
}

// MobileNet with `final_conv: false` (TF DeepLab's layout) has no module for
// torchvision's closing conv: entries of "backbone.<i>." layers the model
// does not have are left out (every other mismatch is still reported).
namespace {
void drop_layers_left_out(const models::DeepLabImpl& model, StateDict& entries) {
  std::set<std::string> layers;
  const auto layer_of = [](const std::string& key) {
    return key.substr(0, key.find('.', std::string("backbone.").size()));
  };
  for (const auto& p : model.named_parameters()) layers.insert(layer_of(p.key()));
  for (const auto& b : model.named_buffers()) layers.insert(layer_of(b.key()));
  StateDict kept;
  for (auto& [key, tensor] : entries) {
    if (key.rfind("backbone.", 0) != 0 || layers.count(layer_of(key))) kept.emplace_back(key, tensor);
  }
  entries = std::move(kept);
}
}  // namespace

StateDict torchvision_to_ours(const StateDict& entries, TorchvisionKind kind, const models::DeepLabImpl& model) {
  if (kind == TorchvisionKind::kSegmentation) return entries;
  StateDict out;
  const std::string dropped = kind == TorchvisionKind::kResNet ? "fc." : "classifier.";
  for (const auto& [key, tensor] : entries) {
    if (key.rfind(dropped, 0) == 0) continue;
    const std::string rest = kind == TorchvisionKind::kResNet ? key : key.substr(std::string("features.").size());
    out.emplace_back("backbone." + rest, tensor);
  }
  if (kind == TorchvisionKind::kVgg) add_subsampled_fc(entries, model, out);
  if (kind == TorchvisionKind::kMobileNet) drop_layers_left_out(model, out);
  return out;
}

LoadReport import_torchvision(models::DeepLabImpl& model, const StateDict& entries, const std::string& source,
                              const std::string& backbone) {
  const TorchvisionKind kind = torchvision_kind(entries, source);
  check_family(kind, backbone, source);
  LoadOptions options;
  options.source = source;
  options.target = "the configured backbone (" + backbone + " in " + model.options().arch() + ")";
  // A whole model must match exactly; a backbone-only file (torchvision's
  // ImageNet weights, or `deeplab import` of one) must fill the backbone and
  // leaves the head as it is.
  options.strict = kind == TorchvisionKind::kSegmentation && has_prefix(entries, "classifier.");
  options.complete_prefix = "backbone.";
  return load_state_dict(model, torchvision_to_ours(entries, kind, model), options);
}

}  // namespace deeplab::weights
