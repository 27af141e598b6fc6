#pragma once
// deeplab2's Axial-ResNet encoder family (model/encoder/axial_resnet.py and
// axial_resnet_instances.py): ResNets and SWideRNets whose units switch from
// convolution to position-sensitive axial attention from a given stride on.
//
// Three stem and unit kinds (deeplab2's backbone_type):
//   resnet        7x7 conv stem (BN, no max-pool: the first unit of res2 is
//                 strided instead); stages res2..res5 of bottleneck units.
//   resnet_beta   the same with an inception stem: three 3x3 convs
//                 (64, 64, 128 wide; the first strided).
//   wider_resnet  a 3x3 conv stem, then five stages (res1 at stride 2 with 3
//                 units); basic units (two 3x3 convs, 4 x filters wide)
//                 below stride 32, [f, 2f, 4f] bottlenecks at it (SWideRNet).
// Stage k has filters 2^(k-1) x 32 x width_multiplier and ends on 4x that.
// A unit at ResNet stride >= axial_beyond_stride is an axial-attention
// bottleneck.  Past the output stride a stage keeps stride 1 and dilates its
// convs (attention is global along each axis and needs none).  Features:
// res1 (/2: the activated stem, or stage 1 of a SWideRNet), res2 (/4,
// low_level), res3 (/8, mid_level), res4 (aux) and res5 (out), each the
// activated stage output.
//
// deeplab2's named instances are axial_resnet_instance(name).
//
// With transformer_beyond_stride (MaX-DeepLab's encoder: 32), every unit at
// ResNet stride >= it is followed by a dual-path transformer layer
// (layers/dual_path_transformer.h) between the pixels and a learned memory
// of mask slots.  With decoder_stacks (MaX-DeepLab-L's backbone) the
// backbone part of deeplab2's stacked decoder follows the last stage
// (stacked_decoder.h); its activated output is "backbone_output".  With
// either, forward() also returns what MaX-DeepLab's decoder continues from:
// "memory" [B, N, D] (when built), "decoder/current" and the features seen
// at each stride, "decoder/history/<stride>/<k>" (stage sums before their
// activation, then the decoder's stages).

#include <torch/nn/modules/container/sequential.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "deeplab/models/backbones/backbone.h"
#include "deeplab/models/layers/axial_block.h"
#include "deeplab/models/layers/conv_bn_act.h"
#include "deeplab/models/layers/dual_path_transformer.h"

namespace deeplab::models {

struct AxialResNetOptions {
  TORCH_ARG(std::string, type) = "resnet";  // resnet | resnet_beta | wider_resnet
  /// Units of res2..res5 (a SWideRNet's res1 always has 3).
  TORCH_ARG(std::vector<int64_t>, blocks) = std::vector<int64_t>{3, 4, 6, 3};
  /// Scales `blocks`, rounding down (SWideRNet-(1, 1, 4.5): 13, 27, 13, 13).
  TORCH_ARG(double, layer_multiplier) = 1.0;
  TORCH_ARG(double, width_multiplier) = 1.0;  // axial_resnet_s: 0.5
  TORCH_ARG(double, stem_width_multiplier) = 1.0;
  /// Units at ResNet stride >= this use axial attention; 0: none.
  TORCH_ARG(int64_t, axial_beyond_stride) = 2;
  TORCH_ARG(int64_t, attention_expansion) = 2;  // attention input = filters x this
  TORCH_ARG(int64_t, key_expansion) = 1;
  TORCH_ARG(int64_t, value_expansion) = 2;
  TORCH_ARG(int64_t, output_stride) = 32;
  /// Keep probability of the residual branches (drop path) of the last
  /// stage; `linear` keeps more in earlier stages (1 - (1 - keep) x
  /// (log2(stride) - 1) / 4), `constant` the same everywhere.  Units below
  /// drop_path_beyond_stride are always kept.
  TORCH_ARG(double, drop_path_keep) = 1.0;
  TORCH_ARG(std::string, drop_path_schedule) = "linear";
  TORCH_ARG(int64_t, drop_path_beyond_stride) = 16;
  /// MaX-DeepLab's memory path: 0 for none.
  TORCH_ARG(int64_t, transformer_beyond_stride) = 0;
  TORCH_ARG(int64_t, memory_slots) = 128;
  TORCH_ARG(int64_t, memory_channels) = 256;
  /// The dual-path layers' filters are 128 x this x (stage input stride / 16).
  TORCH_ARG(double, transformer_expansion) = 1.0;
  TORCH_ARG(int64_t, transformer_ffn_channels) = 2048;
  /// Stacks of deeplab2's stacked decoder inside the backbone (MaX-DeepLab-L: 1).
  TORCH_ARG(int64_t, decoder_stacks) = 0;
  TORCH_ARG(int64_t, decoder_blocks) = 1;  // units per decoder stage
};

/// deeplab2's drop-path keep probability of a unit at ResNet stride `stride`.
double axial_unit_keep(const AxialResNetOptions& options, int64_t stride);

class StackedDecoderImpl;

/// deeplab2's instance of `name` (axial_resnet_s, axial_resnet_l,
/// axial_deeplab_s, axial_deeplab_l, resnet50_beta, swidernet,
/// axial_swidernet, max_deeplab_s_backbone, max_deeplab_l_backbone); throws
/// naming it when unknown.
AxialResNetOptions axial_resnet_instance(const std::string& name);
const std::vector<std::string>& axial_resnet_instance_names();

class AxialResNetImpl : public BackboneImpl {
 public:
  explicit AxialResNetImpl(const AxialResNetOptions& options);
  std::vector<FeatureSpec> feature_specs() const override { return specs_; }
  Features forward(const torch::Tensor& x) override;
  std::string out_name() const override { return "res5"; }
  std::string low_level_name() const override { return "res2"; }
  std::string mid_level_name() const override { return "res3"; }
  std::string aux_name() const override { return "res4"; }
  const AxialResNetOptions& options() const { return options_; }
  bool has_memory() const { return memory_.defined(); }
  /// Whether forward() returns the decoder state (memory or stacked decoder).
  bool exports_decoder_state() const { return has_memory() || decoder_ != nullptr; }
  /// Widths of the stage sums by stride as the stacked decoder starts from
  /// them (deeplab2's stride_to_features; the stride-32 stage's sum at the
  /// output stride).
  std::map<int64_t, int64_t> decoder_channels() const;

 private:
  void build_stem();
  void build_stage(int stage, int64_t units);
  DualPathTransformer make_transformer(int stage, int64_t unit, double keep);

  AxialResNetOptions options_;
  Chain stem_{nullptr};
  std::vector<std::vector<AxialBlock>> units_;
  std::vector<std::vector<DualPathTransformer>> transformers_;  // per unit; empty where none
  torch::Tensor memory_;                                        // [slots, channels] when transformers exist
  std::shared_ptr<StackedDecoderImpl> decoder_;                 // decoder_stacks > 0
  std::vector<FeatureSpec> specs_;                              // res1 first
  int64_t in_channels_ = 0;                                     // of the next unit
  int64_t stride_ = 1;                                          // the running output stride
};
TORCH_MODULE(AxialResNet);

}  // namespace deeplab::models
