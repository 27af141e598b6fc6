#pragma once
// `model:` section of an experiment config: which DeepLab, which backbone.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"
#include "deeplab/models/layers/norm_mode.h"

namespace deeplab::models {

/// The model.backbone.name and model.arch values build_model can build, read
/// from its tables (models/factory.cpp), so validation and construction cannot drift.
std::vector<std::string> backbone_names();
std::vector<std::string> arch_names();

/// `model.backbone`: feature extractor and its output stride.
struct BackboneConfig {
  std::string name = "resnet50";
  int output_stride = 16;
  /// `torchvision` (first block of a dilated stage keeps the previous
  /// dilation) or `paper` (every unit uses rate x multi_grid).
  std::string dilation_rule = "torchvision";
  /// Rates of the last stage's units; empty: the backbone's default
  /// (ResNet paper rule (1, 2, 4), Xception (1, 1, 1)).
  std::vector<int> multi_grid;
  bool deep_stem = false;
  /// ResNet: false drops the max-pool after the stem and strides layer1's
  /// first unit instead (kMaX-DeepLab's ResNet, deeplab2's "resnet").
  bool stem_pool = true;
  int cascade_blocks = 0;           // DeepLabv3 cascaded copies of ResNet block4
  std::string layout = "largefov";  // VGG: largefov (DeepLab) or torchvision
  /// MobileNet's width; on deeplab2's Axial-ResNets and SWideRNets a factor
  /// on the instance's own width.
  double width_mult = 1.0;
  /// Axial-ResNets and SWideRNets (deeplab2's stem_width_multiplier and
  /// backbone_layer_multiplier: SWideRNet-(1, 1, 3) has layer_mult 3).
  double stem_width_mult = 1.0;
  double layer_mult = 1.0;
  /// Axial-ResNets and SWideRNets: the last stage's drop-path keep
  /// probability and how earlier stages follow it (linear: keep more).
  double drop_path_keep = 1.0;
  std::string drop_path_schedule = "linear";
  /// MobileNet: end with the closing 1x1 conv (V2: 1280 channels, torchvision's
  /// `features`); false stops at the last block (V2: 320 channels, TF DeepLab's
  /// mobilenet_v2 feature extractor, `layer_18`).
  bool final_conv = true;
  /// ImageNet weights as a torchvision `.pth` file; never downloaded.
  std::string pretrained;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("name", name, one_of(backbone_names()));
    v("output_stride", output_stride, one_of({"8", "16", "32"}));
    v("dilation_rule", dilation_rule, one_of({"torchvision", "paper"}));
    v("multi_grid", multi_grid, at_least(1));
    v("deep_stem", deep_stem);
    v("stem_pool", stem_pool);
    v("cascade_blocks", cascade_blocks, in_range(0, 3));
    v("layout", layout, one_of({"largefov", "torchvision"}));
    v("width_mult", width_mult, positive());
    v("stem_width_mult", stem_width_mult, positive());
    v("layer_mult", layer_mult, positive());
    v("drop_path_keep", drop_path_keep, in_range(0.01, 1));
    v("drop_path_schedule", drop_path_schedule, one_of({"linear", "constant"}));
    v("final_conv", final_conv);
    v("pretrained", pretrained);
  }
};

/// `model.head`: ASPP / LargeFOV / decoder settings.
struct HeadConfig {
  /// `paper` (TF reference) or `torchvision` (torchvision's DeepLabHead).
  std::string style = "paper";
  /// Empty: by arch and style (v2: 6/12/18/24 at OS8; v3/v3+ paper: 6/12/18
  /// at OS16; torchvision: 12/24/36 at any stride).  Rates follow the output
  /// stride: they are scaled by rates_stride / the backbone's output stride.
  std::vector<int> atrous_rates;
  /// The output stride the rates are stated for; 0: the backbone's
  /// output_stride as configured (at_output_stride() pins it before changing
  /// the stride, so OS16-trained 6/12/18 become 12/24/36 at OS8).
  int rates_stride = 0;
  /// false: ASPP keeps only its 1x1 and image-pooling branches (TF DeepLab's
  /// published MobileNet-V2 models: "do not employ ASPP"); v3, v3+, Panoptic.
  bool atrous = true;
  int channels = 256;
  /// Dropout after the ASPP projection; -1: by style (paper 0.1, torchvision 0.5).
  double dropout = -1.0;
  bool separable = false;
  /// The ASPP is one 1x1 conv + BN + ReLU (deeplab2's
  /// aspp_use_only_1x1_proj_conv, which Axial-DeepLab's configs set).
  bool aspp_projection_only = false;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("style", style, one_of({"paper", "torchvision"}));
    v("atrous_rates", atrous_rates, at_least(1));
    v("rates_stride", rates_stride, one_of({"0", "8", "16", "32"}));
    v("atrous", atrous);
    v("channels", channels, at_least(1));
    v("dropout", dropout, in_half_open(-1, 1));
    v("separable", separable);
    v("aspp_projection_only", aspp_projection_only);
  }
};

/// `model.panoptic`: Panoptic-DeepLab's decoder widths (the paper's and
/// deeplab2's defaults); the ASPP width is model.head.channels.
struct PanopticModelConfig {
  std::vector<int> semantic_projections = {64, 32};  // 1x1 projections of the /8 and /4 features
  std::vector<int> instance_projections = {32, 16};
  int semantic_decoder_channels = 256;
  int instance_decoder_channels = 128;
  int semantic_head_channels = 256;
  int instance_head_channels = 32;
  int kernel = 5;  // of the separable fuse and head convs

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("semantic_projections", semantic_projections, with_length(at_least(1), 2));
    v("instance_projections", instance_projections, with_length(at_least(1), 2));
    v("semantic_decoder_channels", semantic_decoder_channels, at_least(1));
    v("instance_decoder_channels", instance_decoder_channels, at_least(1));
    v("semantic_head_channels", semantic_head_channels, at_least(1));
    v("instance_head_channels", instance_head_channels, at_least(1));
    v("kernel", kernel, one_of({"1", "3", "5", "7"}));
  }
};

/// `model.kmax`: kMaX-DeepLab's per-dataset choices, which deeplab2's
/// kmax_deeplab.py takes from the dataset's name.  Defaults: COCO's (also
/// deeplab2's choice for other datasets); Cityscapes: slots 256,
/// high_resolution_stride 2, semantic_decoder false; ADE20K: drop_path_keep 1.
struct KMaXModelConfig {
  int slots = 128;                 // mask slots (cluster centers)
  int high_resolution_stride = 4;  // the pixel decoder's last stage: 4, or 2 (a stride-2 stem feature)
  bool semantic_decoder = true;    // the auxiliary semantic head reads an ASPP decoder (res3 64, res2 32
                                   // projections) instead of the stride-32 feature
  double drop_path_keep = 0.8;     // the transformer decoder's drop-path keep probability
  int embedding_channels = 128;    // pixel and mask embeddings
  int head_channels = 256;         // the pixel head's and the semantic head's hidden width
  std::vector<int> semantic_projections = {64, 32};  // of the res3 and res2 features (semantic_decoder)
  /// The pixel decoder's stage widths and units, stride 32 down; empty:
  /// deeplab2's (512, 256, 128, 64 [, 32]) and (1, 5, 1, 1 [, 1]).
  std::vector<int> decoder_dims;
  std::vector<int> decoder_blocks;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("slots", slots, at_least(1));
    v("high_resolution_stride", high_resolution_stride, one_of({"2", "4"}));
    v("semantic_decoder", semantic_decoder);
    v("drop_path_keep", drop_path_keep, in_range(0.01, 1));
    v("embedding_channels", embedding_channels, at_least(1));
    v("head_channels", head_channels, at_least(1));
    v("semantic_projections", semantic_projections, with_length(at_least(1), 2));
    v("decoder_dims", decoder_dims, at_least(1));
    v("decoder_blocks", decoder_blocks, at_least(1));
  }
};

/// `model.max`: MaX-DeepLab's memory path and heads (deeplab2's MaX-DeepLab-S
/// defaults; MaX-DeepLab-L, on max_deeplab_l_backbone, has memory_channels
/// 512, transformer_expansion 2, slot_feature_channels 512,
/// transformer_beyond_stride 16, extra_decoder_stacks 1, extra_decoder_blocks 3).  The encoder is model.backbone (an
/// Axial-ResNet family member, max_deeplab_s_backbone for MaX-DeepLab-S)
/// with dual-path transformer layers added from transformer_beyond_stride.
struct MaXModelConfig {
  int slots = 128;            // memory slots (mask slots)
  int memory_channels = 256;  // width of the memory
  int transformer_beyond_stride = 32;
  double transformer_expansion = 1.0;                // dual-path filters: 128 x this at stride 16's stage
  int ffn_channels = 2048;                           // the memory's feed-forward width
  int slot_feature_channels = 256;                   // class and mask features of the slots
  int embedding_channels = 128;                      // pixel and mask embeddings
  int head_channels = 256;                           // the pixel head's and the semantic head's hidden width
  std::vector<int> semantic_projections = {64, 32};  // the semantic decoder's res3 and res2 projections
  /// Stacks of the decoder after the encoder (and its stacks) and units per
  /// stage: MaX-DeepLab-S 0 and 1, MaX-DeepLab-L 1 and 3.
  int extra_decoder_stacks = 0;
  int extra_decoder_blocks = 1;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("slots", slots, at_least(1));
    v("memory_channels", memory_channels, at_least(1));
    v("transformer_beyond_stride", transformer_beyond_stride, one_of({"4", "8", "16", "32"}));
    v("transformer_expansion", transformer_expansion, positive());
    v("ffn_channels", ffn_channels, at_least(1));
    v("slot_feature_channels", slot_feature_channels, at_least(1));
    v("embedding_channels", embedding_channels, at_least(1));
    v("head_channels", head_channels, at_least(1));
    v("semantic_projections", semantic_projections, with_length(at_least(1), 2));
    v("extra_decoder_stacks", extra_decoder_stacks, in_range(0, 4));
    v("extra_decoder_blocks", extra_decoder_blocks, at_least(1));
  }
};

struct ModelConfig {
  std::string arch = "deeplabv3";
  int num_classes = 21;
  BackboneConfig backbone;
  HeadConfig head;
  /// Normalisation layers: bn, frozen_bn (running statistics, affine frozen:
  /// DeepLab's fine_tune_batch_norm: false) or sync_bn (multi-process).
  std::string norm = "bn";
  /// Every norm layer's eps / momentum (PyTorch convention: momentum 0.01 is
  /// TF's decay 0.99); 0: each layer keeps its own (torchvision's 1e-5 / 0.1,
  /// MobileNetV3's 1e-3 / 0.01).
  double bn_eps = 0;
  double bn_momentum = 0;
  PanopticModelConfig panoptic;
  KMaXModelConfig kmax;
  MaXModelConfig max;
  bool aux_loss = false;
  bool align_corners = false;
  /// DeepLabv2 multi-scale inputs (max-fused); empty: v2 uses (1, 0.75, 0.5), others none.
  std::vector<double> msc_scales;
  /// Full-model weights to start from (a checkpoint or exported state dict).
  std::string init;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("arch", arch, one_of(arch_names()));
    v("num_classes", num_classes, at_least(1));
    v.section("backbone", backbone);
    v.section("head", head);
    v("norm", norm, one_of(norm_mode_names()));
    v("bn_eps", bn_eps, in_half_open(0, 1));
    v("bn_momentum", bn_momentum, in_half_open(0, 1));
    v.section("panoptic", panoptic);
    v.section("kmax", kmax);
    v.section("max", max);
    v("aux_loss", aux_loss);
    v("align_corners", align_corners);
    v("msc_scales", msc_scales, positive());
    v("init", init);
  }
};

/// True for model.arch kmax_deeplab and max_deeplab: a mask transformer with
/// mask and class logits per slot, MaX-DeepLab's losses and mask-based
/// panoptic post-processing (data.panoptic.mask).
inline bool is_mask_transformer(const ModelConfig& config) {
  return config.arch == "kmax_deeplab" || config.arch == "max_deeplab";
}

/// True for the panoptic models (panoptic_deeplab: semantic, center and
/// offset outputs; kmax_deeplab): instance targets, panoptic evaluation.
inline bool is_panoptic(const ModelConfig& config) {
  return config.arch == "panoptic_deeplab" || is_mask_transformer(config);
}

}  // namespace deeplab::models
