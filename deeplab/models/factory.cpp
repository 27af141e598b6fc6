#include "deeplab/models/factory.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"
#include "deeplab/models/backbones/mobilenet.h"
#include "deeplab/models/backbones/resnet.h"
#include "deeplab/models/backbones/vgg.h"
#include "deeplab/models/backbones/xception.h"
#include "deeplab/models/heads/heads.h"

namespace deeplab::models {

namespace {

std::vector<int64_t> to_int64(const std::vector<int>& values) { return {values.begin(), values.end()}; }

std::vector<int64_t> multi_grid_or(const BackboneConfig& c, std::vector<int64_t> fallback) {
  return c.multi_grid.empty() ? fallback : to_int64(c.multi_grid);
}

double resolve_dropout(const HeadConfig& head) {
  if (head.dropout >= 0) return head.dropout;
  return head.style == "torchvision" ? 0.5 : 0.1;
}

}  // namespace

std::shared_ptr<BackboneImpl> build_backbone(const BackboneConfig& c) {
  const int64_t os = c.output_stride;
  if (c.name == "resnet50" || c.name == "resnet101") {
    return std::make_shared<ResNetImpl>(ResNetOptions(c.name == "resnet50" ? 50 : 101)
                                            .output_stride(os)
                                            .dilation_rule(c.dilation_rule)
                                            .multi_grid(multi_grid_or(c, {1, 2, 4}))
                                            .deep_stem(c.deep_stem)
                                            .cascade_blocks(c.cascade_blocks));
  }
  if (c.name == "xception65" || c.name == "xception71") {
    return std::make_shared<XceptionImpl>(
        XceptionOptions(c.name == "xception65" ? 65 : 71).output_stride(os).multi_grid(multi_grid_or(c, {1, 1, 1})));
  }
  if (c.name == "mobilenet_v2" || c.name == "mobilenet_v3_large" || c.name == "mobilenet_v3_small") {
    const std::string variant = c.name == "mobilenet_v2" ? "v2" : c.name.substr(std::string("mobilenet_").size());
    return std::make_shared<MobileNetImpl>(MobileNetOptions(variant).width_mult(c.width_mult).output_stride(os));
  }
  if (c.name == "vgg16") {
    return std::make_shared<VggImpl>(VggOptions().layout(c.layout).output_stride(os));
  }
  throw ConfigError("model.backbone.name: '" + c.name + "' is not a known backbone");
}

std::vector<int64_t> resolve_atrous_rates(const ModelConfig& c) {
  if (!c.head.atrous_rates.empty()) return to_int64(c.head.atrous_rates);
  if (c.arch == "deeplabv2") return {6, 12, 18, 24};
  if (c.head.style == "torchvision") return {12, 24, 36};
  const int64_t factor = 16 / std::min(16, c.backbone.output_stride);  // OS8 doubles, OS32 keeps
  return {6 * factor, 12 * factor, 18 * factor};
}

DeepLab build_model(const ModelConfig& c) {
  auto backbone = build_backbone(c.backbone);
  const FeatureSpec out = backbone->spec(backbone->out_name());
  const auto rates = resolve_atrous_rates(c);
  std::shared_ptr<HeadImpl> head;
  auto v3_options = DeepLabV3HeadOptions(out, c.num_classes)
                        .rates(rates)
                        .channels(c.head.channels)
                        .dropout(resolve_dropout(c.head))
                        .separable(c.head.separable)
                        .torchvision_style(c.head.style == "torchvision");
  if (c.arch == "deeplabv1") {
    head = std::make_shared<LargeFovHeadImpl>(out, c.num_classes);
  } else if (c.arch == "deeplabv2") {
    // VGG's ASPP-L branches carry fc6/fc7 (1024); ResNet's are a 3x3 classifier each.
    head = std::make_shared<AsppSumHeadImpl>(out, c.num_classes, rates, c.backbone.name == "vgg16" ? 1024 : 0);
  } else if (c.arch == "deeplabv3") {
    head = std::make_shared<DeepLabV3HeadImpl>(v3_options);
  } else if (c.arch == "deeplabv3plus") {
    head = std::make_shared<DecoderHeadImpl>(v3_options, backbone->spec(backbone->low_level_name()), c.align_corners);
  } else {
    throw ConfigError("model.arch: '" + c.arch + "' is not a known architecture");
  }
  torch::nn::Sequential aux = nullptr;
  if (c.aux_loss) aux = make_fcn_head(backbone->spec(backbone->aux_name()).channels, c.num_classes);

  std::vector<double> msc = c.msc_scales;
  if (msc.empty() && c.arch == "deeplabv2") msc = {1.0, 0.75, 0.5};
  auto options = DeepLabOptions().arch(c.arch).num_classes(c.num_classes).align_corners(c.align_corners).msc_scales(msc);
  return DeepLab(options, std::move(backbone), std::move(head), aux);
}

}  // namespace deeplab::models
