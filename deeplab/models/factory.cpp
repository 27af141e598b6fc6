#include "deeplab/models/factory.h"

#include <torch/torch.h>

#include <algorithm>

#include "deeplab/core/error.h"
#include "deeplab/core/named_table.h"
#include "deeplab/models/backbones/axial_resnet.h"
#include "deeplab/models/backbones/convnext.h"
#include "deeplab/models/backbones/mobilenet.h"
#include "deeplab/models/backbones/resnet.h"
#include "deeplab/models/backbones/vgg.h"
#include "deeplab/models/backbones/xception.h"
#include "deeplab/models/heads/heads.h"
#include "deeplab/models/heads/kmax_head.h"
#include "deeplab/models/heads/max_deeplab_head.h"
#include "deeplab/models/heads/multi_level_decoder.h"
#include "deeplab/models/heads/panoptic_head.h"
#include "deeplab/models/layers/norm.h"

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

// `arch` is model.arch where one backbone differs by architecture (VGG's pool5a); "" otherwise.
using BackboneBuilder = std::shared_ptr<BackboneImpl> (*)(const BackboneConfig&, const std::string& arch);

std::shared_ptr<BackboneImpl> make_resnet(const BackboneConfig& c, const std::string& /*arch*/) {
  return std::make_shared<ResNetImpl>(ResNetOptions(c.name == "resnet50" ? 50 : 101)
                                          .output_stride(c.output_stride)
                                          .dilation_rule(c.dilation_rule)
                                          .multi_grid(multi_grid_or(c, {1, 2, 4}))
                                          .deep_stem(c.deep_stem)
                                          .stem_pool(c.stem_pool)
                                          .cascade_blocks(c.cascade_blocks));
}

// deeplab2's instance, with the config's multipliers (width_mult scales the
// instance's own width: axial_resnet_s stays half as wide as axial_resnet_l).
AxialResNetOptions axial_resnet_options(const BackboneConfig& c) {
  AxialResNetOptions options = axial_resnet_instance(c.name);
  return options.output_stride(c.output_stride)
      .width_multiplier(options.width_multiplier() * c.width_mult)
      .stem_width_multiplier(c.stem_width_mult)
      .layer_multiplier(c.layer_mult)
      .drop_path_keep(c.drop_path_keep)
      .drop_path_schedule(c.drop_path_schedule);
}

// Outside MaX-DeepLab nothing reads a decoder stacked inside the backbone
// (deeplab2's Axial-DeepLab on max_deeplab_l_backbone decodes res5): it is
// left out rather than carried untrained.
std::shared_ptr<BackboneImpl> make_axial_resnet(const BackboneConfig& c, const std::string& /*arch*/) {
  return std::make_shared<AxialResNetImpl>(axial_resnet_options(c).decoder_stacks(0));
}

// MaX-DeepLab's encoder: the Axial-ResNet of model.backbone with dual-path
// transformer layers and a memory from model.max (max_deeplab_s_backbone
// becomes deeplab2's max_deeplab_s).
std::shared_ptr<BackboneImpl> make_max_encoder(const ModelConfig& c) {
  const auto& names = axial_resnet_instance_names();
  if (std::find(names.begin(), names.end(), c.backbone.name) == names.end()) {
    throw ConfigError(
        "model.backbone.name: max_deeplab builds its memory path into an Axial-ResNet "
        "(max_deeplab_s_backbone for MaX-DeepLab-S); '" +
        c.backbone.name + "' is not one");
  }
  const MaXModelConfig& m = c.max;
  return std::make_shared<AxialResNetImpl>(axial_resnet_options(c.backbone)
                                               .transformer_beyond_stride(m.transformer_beyond_stride)
                                               .memory_slots(m.slots)
                                               .memory_channels(m.memory_channels)
                                               .transformer_expansion(m.transformer_expansion)
                                               .transformer_ffn_channels(m.ffn_channels));
}

// ConvNeXt runs at stride 32 only: its 2x2 downsampling convs have no
// dilated form.
std::shared_ptr<BackboneImpl> make_convnext(const BackboneConfig& c, const std::string& /*arch*/) {
  if (c.output_stride != 32) {
    throw ConfigError("model.backbone.output_stride: " + c.name + " runs at stride 32 only; got " +
                      std::to_string(c.output_stride));
  }
  return std::make_shared<ConvNeXtImpl>(
      ConvNeXtOptions(c.name.substr(std::string("convnext_").size())).drop_path_keep(c.drop_path_keep));
}

std::shared_ptr<BackboneImpl> make_xception(const BackboneConfig& c, const std::string& /*arch*/) {
  return std::make_shared<XceptionImpl>(XceptionOptions(c.name == "xception65" ? 65 : 71)
                                            .output_stride(c.output_stride)
                                            .multi_grid(multi_grid_or(c, {1, 1, 1})));
}

std::shared_ptr<BackboneImpl> make_mobilenet(const BackboneConfig& c, const std::string& /*arch*/) {
  const std::string variant = c.name == "mobilenet_v2" ? "v2" : c.name.substr(std::string("mobilenet_").size());
  return std::make_shared<MobileNetImpl>(
      MobileNetOptions(variant).width_mult(c.width_mult).output_stride(c.output_stride).final_conv(c.final_conv));
}

std::shared_ptr<BackboneImpl> make_vgg(const BackboneConfig& c, const std::string& arch) {
  // pool5a is DeepLab-LargeFOV's (v1); the v2 prototxt has none.
  return std::make_shared<VggImpl>(
      VggOptions().layout(c.layout).output_stride(c.output_stride).pool5a(arch != "deeplabv2"));
}

// The one list of backbones: model.backbone.name validation reads its names.
const core::NamedTable<BackboneBuilder>& backbone_table() {
  static const core::NamedTable<BackboneBuilder> table = {
      {"vgg16", make_vgg},
      {"resnet50", make_resnet},
      {"resnet101", make_resnet},
      {"xception65", make_xception},
      {"xception71", make_xception},
      {"mobilenet_v2", make_mobilenet},
      {"mobilenet_v3_large", make_mobilenet},
      {"mobilenet_v3_small", make_mobilenet},
      {"convnext_tiny", make_convnext},
      {"convnext_small", make_convnext},
      {"convnext_base", make_convnext},
      {"convnext_large", make_convnext},
      {"axial_resnet_s", make_axial_resnet},
      {"axial_resnet_l", make_axial_resnet},
      {"axial_deeplab_s", make_axial_resnet},
      {"axial_deeplab_l", make_axial_resnet},
      {"resnet50_beta", make_axial_resnet},
      {"swidernet", make_axial_resnet},
      {"axial_swidernet", make_axial_resnet},
      {"max_deeplab_s_backbone", make_axial_resnet},
      {"max_deeplab_l_backbone", make_axial_resnet},
  };
  return table;
}

using HeadBuilder = std::shared_ptr<HeadImpl> (*)(const ModelConfig&, BackboneImpl&);

DeepLabV3HeadOptions v3_options(const ModelConfig& c, BackboneImpl& backbone) {
  return DeepLabV3HeadOptions(backbone.spec(backbone.out_name()), c.num_classes)
      .rates(resolve_atrous_rates(c))
      .channels(c.head.channels)
      .dropout(resolve_dropout(c.head))
      .separable(c.head.separable)
      .torchvision_style(c.head.style == "torchvision");
}

std::shared_ptr<HeadImpl> make_largefov(const ModelConfig& c, BackboneImpl& backbone) {
  // On a backbone without ImageNet fc layers, fc6/fc7 are new, LargeFOV's 1024 wide.
  const int64_t fc = backbone.fc_channels();
  return std::make_shared<LargeFovHeadImpl>(backbone.spec(backbone.out_name()), c.num_classes, fc > 0 ? fc : 1024,
                                            /*fc_from_imagenet=*/fc > 0);
}

std::shared_ptr<HeadImpl> make_aspp_sum(const ModelConfig& c, BackboneImpl& backbone) {
  if (!c.head.atrous) {
    throw ConfigError(
        "model.head.atrous: false leaves DeepLab v2's ASPP-L without branches; it is for the ASPP "
        "with image pooling (deeplabv3, deeplabv3plus, panoptic_deeplab)");
  }
  // VGG's ASPP-L branches carry fc6/fc7; ResNet's are a 3x3 classifier each.
  return std::make_shared<AsppSumHeadImpl>(backbone.spec(backbone.out_name()), c.num_classes, resolve_atrous_rates(c),
                                           backbone.fc_channels());
}

std::shared_ptr<HeadImpl> make_v3(const ModelConfig& c, BackboneImpl& backbone) {
  return std::make_shared<DeepLabV3HeadImpl>(v3_options(c, backbone));
}

AsppOptions aspp_options(const ModelConfig& c, BackboneImpl& backbone) {
  return AsppOptions(backbone.spec(backbone.out_name()).channels, resolve_atrous_rates(c))
      .channels(c.head.channels)
      .dropout(resolve_dropout(c.head))
      .separable(c.head.separable)
      .projection_only(c.head.aspp_projection_only);
}

// v3+: one stride-4 level (projection 48), two 3x3 fuse convs, a 1x1 classifier.
std::shared_ptr<HeadImpl> make_v3plus(const ModelConfig& c, BackboneImpl& backbone) {
  DecoderLevel low_level{backbone.spec(backbone.low_level_name()), 48, c.head.channels, "low_level_project", "fuse"};
  PredictionHead classifier{"classifier", output_name::kSemantic, OutputKind::kLogits, c.num_classes, 0, 1};
  return std::make_shared<MultiLevelDecoderImpl>(
      MultiLevelDecoderOptions(backbone.spec(backbone.out_name()), aspp_options(c, backbone))
          .levels({low_level})
          .fuse(FuseConvOptions{c.head.separable, 3, 2})
          .heads({classifier})
          .align_corners(c.align_corners));
}

std::shared_ptr<HeadImpl> make_panoptic(const ModelConfig& c, BackboneImpl& backbone) {
  const PanopticModelConfig& p = c.panoptic;
  PanopticWidths widths;
  widths.aspp = c.head.channels;
  widths.semantic_projections = to_int64(p.semantic_projections);
  widths.instance_projections = to_int64(p.instance_projections);
  widths.semantic_decoder = p.semantic_decoder_channels;
  widths.instance_decoder = p.instance_decoder_channels;
  widths.semantic_head = p.semantic_head_channels;
  widths.instance_head = p.instance_head_channels;
  widths.fuse_kernel = widths.head_kernel = p.kernel;
  const std::vector<FeatureSpec> levels = {backbone.spec(backbone.mid_level_name()),
                                           backbone.spec(backbone.low_level_name())};
  return make_panoptic_head(backbone.spec(backbone.out_name()), levels, c.num_classes, aspp_options(c, backbone),
                            widths, c.align_corners)
      .ptr();
}

// kMaX-DeepLab on the encoder's stride-32, 16, 8, 4 (and stride-2 stem)
// features; the choices deeplab2 makes by dataset come from model.kmax.
std::shared_ptr<HeadImpl> make_kmax(const ModelConfig& c, BackboneImpl& backbone) {
  if (c.backbone.output_stride != 32) {
    throw ConfigError("model.backbone.output_stride: kmax_deeplab decodes from the stride-32 feature; got " +
                      std::to_string(c.backbone.output_stride) + ", expected 32");
  }
  const KMaXModelConfig& k = c.kmax;
  std::vector<FeatureSpec> levels = {backbone.spec(backbone.out_name()), backbone.spec(backbone.aux_name()),
                                     backbone.spec(backbone.mid_level_name()),
                                     backbone.spec(backbone.low_level_name())};
  if (k.high_resolution_stride == 2) {
    const auto specs = backbone.feature_specs();
    auto stem = std::find_if(specs.begin(), specs.end(), [](const FeatureSpec& s) { return s.stride == 2; });
    // deeplab2 reads its encoder's "stage1" endpoint there; ConvNeXt's is the
    // stem output at stride 4, so the last decoder stage stays at stride 4.
    if (stem == specs.end() && c.backbone.name.rfind("convnext", 0) == 0) {
      stem = std::find_if(specs.begin(), specs.end(), [](const FeatureSpec& s) { return s.name == "res1"; });
    }
    if (stem == specs.end()) {
      throw ConfigError("model.kmax.high_resolution_stride: 2 needs a stride-2 backbone feature; model.backbone '" +
                        c.backbone.name + "' has none (ResNet: set model.backbone.stem_pool: false)");
    }
    levels.push_back(*stem);
  }
  auto options = KMaXHeadOptions(levels, c.num_classes)
                     .high_resolution_stride(k.high_resolution_stride)
                     .slots(k.slots)
                     .drop_path_keep(k.drop_path_keep)
                     .embedding_channels(k.embedding_channels)
                     .head_channels(k.head_channels)
                     .decoder_dims(to_int64(k.decoder_dims))
                     .decoder_blocks(to_int64(k.decoder_blocks));
  if (k.semantic_decoder) {
    options.semantic_decoder(kmax_semantic_decoder_options(levels[0], levels[2], levels[3], c.num_classes,
                                                           to_int64(k.semantic_projections), k.head_channels));
  }
  return std::make_shared<KMaXHeadImpl>(options);
}

// MaX-DeepLab's decoder on its encoder: the extra part of the stacked
// decoder, the slot features, the predictor, and the semantic branch.
std::shared_ptr<HeadImpl> make_max(const ModelConfig& c, BackboneImpl& backbone) {
  const auto* encoder = dynamic_cast<const AxialResNetImpl*>(&backbone);
  if (encoder == nullptr || !encoder->has_memory()) {
    throw ConfigError("model.arch: max_deeplab needs its encoder's memory path (built by the factory)");
  }
  const MaXModelConfig& m = c.max;
  auto options = MaXDeepLabHeadOptions(encoder->options(), encoder->decoder_channels(), c.num_classes)
                     .extra_stacks(m.extra_decoder_stacks)
                     .extra_blocks(m.extra_decoder_blocks)
                     .slot_feature_channels(m.slot_feature_channels)
                     .head_channels(m.head_channels)
                     .embedding_channels(m.embedding_channels);
  if (m.extra_decoder_stacks == 0) {
    options.semantic_decoder(kmax_semantic_decoder_options(
        backbone.spec(backbone.out_name()), backbone.spec(backbone.mid_level_name()),
        backbone.spec(backbone.low_level_name()), c.num_classes, to_int64(m.semantic_projections), m.head_channels));
  }
  return std::make_shared<MaXDeepLabHeadImpl>(options);
}

// The one list of architectures: model.arch validation reads its names.
const core::NamedTable<HeadBuilder>& arch_table() {
  static const core::NamedTable<HeadBuilder> table = {
      {"deeplabv1", make_largefov},   {"deeplabv2", make_aspp_sum},        {"deeplabv3", make_v3},
      {"deeplabv3plus", make_v3plus}, {"panoptic_deeplab", make_panoptic}, {"kmax_deeplab", make_kmax},
      {"max_deeplab", make_max},
  };
  return table;
}

}  // namespace

std::vector<std::string> backbone_names() { return core::table_names(backbone_table()); }
std::vector<std::string> arch_names() { return core::table_names(arch_table()); }

namespace {
std::shared_ptr<BackboneImpl> build_backbone_for(const BackboneConfig& c, const std::string& arch) {
  if (const BackboneBuilder* build = core::table_find(backbone_table(), c.name)) return (*build)(c, arch);
  throw ConfigError("model.backbone.name: '" + c.name + "' is not a known backbone");
}
}  // namespace

std::shared_ptr<BackboneImpl> build_backbone(const BackboneConfig& c) { return build_backbone_for(c, ""); }

std::vector<int64_t> resolve_atrous_rates(const ModelConfig& c) {
  if (!c.head.atrous) return {};  // 1x1 + image pooling only
  std::vector<int64_t> rates;
  int64_t reference = c.head.rates_stride;
  if (!c.head.atrous_rates.empty()) {
    rates = to_int64(c.head.atrous_rates);
    if (reference == 0) reference = c.backbone.output_stride;  // stated for the configured stride
  } else if (c.arch == "deeplabv2") {
    rates = {6, 12, 18, 24};  // DeepLab v2's ASPP-L at output stride 8
    if (reference == 0) reference = 8;
  } else if (c.head.style == "torchvision") {
    return {12, 24, 36};  // torchvision's DeepLabHead, whatever the stride
  } else {
    rates = {6, 12, 18};  // DeepLab v3's ASPP at output stride 16
    if (reference == 0) reference = 16;
  }
  for (auto& r : rates) r = std::max<int64_t>(1, std::llround(double(r) * reference / c.backbone.output_stride));
  return rates;
}

ModelConfig at_output_stride(ModelConfig config, int output_stride) {
  // Explicit rates without a stated stride are for the configured one; the
  // defaults carry their own reference stride.
  if (config.head.rates_stride == 0 && !config.head.atrous_rates.empty()) {
    config.head.rates_stride = config.backbone.output_stride;
  }
  config.backbone.output_stride = output_stride;
  return config;
}

DeepLab build_model(const ModelConfig& c) {
  auto backbone = c.arch == "max_deeplab" ? make_max_encoder(c) : build_backbone_for(c.backbone, c.arch);
  const HeadBuilder* build_head = core::table_find(arch_table(), c.arch);
  if (!build_head) throw ConfigError("model.arch: '" + c.arch + "' is not a known architecture");
  if (c.head.aspp_projection_only && c.arch != "deeplabv3plus" && c.arch != "panoptic_deeplab") {
    throw ConfigError("model.head.aspp_projection_only: true is for deeplabv3plus and panoptic_deeplab; model.arch '" +
                      c.arch + "' has no such ASPP");
  }
  std::shared_ptr<HeadImpl> head = (*build_head)(c, *backbone);
  torch::nn::Sequential aux = nullptr;
  if (c.aux_loss) aux = make_fcn_head(backbone->spec(backbone->aux_name()).channels, c.num_classes);

  std::vector<double> msc = c.msc_scales;
  if (msc.empty() && c.arch == "deeplabv2") msc = {1.0, 0.75, 0.5};
  auto options =
      DeepLabOptions().arch(c.arch).num_classes(c.num_classes).align_corners(c.align_corners).msc_scales(msc);
  DeepLab model(options, std::move(backbone), std::move(head), aux);
  if (c.bn_eps > 0 || c.bn_momentum > 0) set_norm_hyperparameters(*model, c.bn_eps, c.bn_momentum);
  set_norm_mode(*model, parse_norm_mode(c.norm));
  return model;
}

}  // namespace deeplab::models
