#pragma once
// deeplab2's stacked decoder of the Axial-ResNet encoder (axial_resnet.py's
// call_stacked_decoder), which MaX-DeepLab continues after the encoder's
// stride-32 stage: from the output stride down to high_resolution_stride,
// back up to the output stride (one "stack"), and down again, each stage
// fusing the current feature with the last two features seen at its stride
// (resized_fuse below) and refining the sum with a group of units (axial
// from axial_beyond_stride, dual-path transformer layers from the
// transformer stride).  A stage at the output stride counts as ResNet
// stride 32 (width 2048 x width multiplier), the others as their own.
//
// The stages split in two parts.  The backbone part (backbone_stacks > 0:
// MaX-DeepLab-L's backbone) ends at the output stride after its stacks; its
// last sum, activated, is the backbone's output.  The extra part (the MaX
// head's) runs the remaining stacks and ends at high_resolution_stride; with
// no backbone stacks it starts with one more unit group at the output
// stride (deeplab2's stage5_extra).  Each part is its own module; a
// DecoderState carries the features from one to the other.

#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

#include "deeplab/models/backbones/axial_resnet.h"

namespace deeplab::models {

/// What the decoder reads and writes: the features seen at each stride (the
/// encoder's stage sums first), the current feature, the memory, and the
/// activated outputs of each visit of high_resolution_stride.
struct DecoderState {
  std::map<int64_t, std::vector<torch::Tensor>> history;
  torch::Tensor current, memory;
  std::vector<torch::Tensor> high_resolution;
  torch::Tensor backbone_output;  // set by the backbone part
};

/// Writes `state` into `features` as "decoder/current",
/// "decoder/history/<stride>/<k>" and "memory" (when defined).
void export_decoder_state(const DecoderState& state, Features& features);
/// Reads what export_decoder_state wrote; throws naming what is missing.
DecoderState import_decoder_state(const Features& features);

struct StackedDecoderOptions {
  /// The encoder the decoder continues (widths, unit kinds, attention,
  /// drop path and transformer settings, output stride).
  TORCH_ARG(AxialResNetOptions, encoder) = AxialResNetOptions();
  TORCH_ARG(int64_t, backbone_stacks) = 0;
  TORCH_ARG(int64_t, backbone_blocks) = 1;  // units per backbone stage
  TORCH_ARG(int64_t, extra_stacks) = 0;
  TORCH_ARG(int64_t, extra_blocks) = 1;
  /// Dual-path layers from this ResNet stride on in the extra part (0: none).
  TORCH_ARG(int64_t, extra_transformer_beyond_stride) = 32;
  TORCH_ARG(int64_t, high_resolution_stride) = 4;
  /// "backbone" or "extra": which part this module builds and runs.
  TORCH_ARG(std::string, part) = "extra";
  /// Channels of the encoder's stage sums by stride (deeplab2's
  /// stride_to_features before the decoder: strides 2, 4, 8 and the output
  /// stride, where the stride-32 stage's sum replaces the stride-16 one).
  using ChannelsByStride = std::map<int64_t, int64_t>;
  TORCH_ARG(ChannelsByStride, encoder_channels);
};

/// deeplab2's ResizedFuse: the sum of its inputs brought to one stride and
/// width.  An input of that width is only resized; one at half the stride
/// is activated and projected by a strided 1x1 conv-BN; any other is
/// activated, projected by a 1x1 conv-BN and resized (aligned corners).
class ResizedFuseImpl : public torch::nn::Module {
 public:
  /// (channels, stride) of each input, in order.
  ResizedFuseImpl(const std::vector<std::pair<int64_t, int64_t>>& inputs, int64_t channels, int64_t stride);
  /// Resizes to height x width (the size of a feature at the target stride).
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs, int64_t height, int64_t width);

 private:
  std::vector<Chain> projections_;  // empty holders for inputs of the target width
  std::vector<bool> strided_;
};
TORCH_MODULE(ResizedFuse);

class StackedDecoderImpl : public torch::nn::Module {
 public:
  explicit StackedDecoderImpl(const StackedDecoderOptions& options);
  /// Runs this part's stages on `state`.
  void forward(DecoderState& state);
  /// Width of the last feature this part leaves in state.current.
  int64_t out_channels() const { return out_channels_; }

 private:
  struct UnitGroup {
    std::vector<AxialBlock> units;
    std::vector<DualPathTransformer> transformers;  // empty holders where none
  };
  struct Stage {
    int64_t stride = 0;
    ResizedFuse fuse{nullptr};  // this part's, or none
    UnitGroup backbone_units, extra_units;
    bool ends_backbone = false;
  };
  UnitGroup unit_group(const std::string& name, int64_t in, int64_t channels, int64_t input_stride,
                       int64_t decoder_stride, int64_t blocks, int64_t transformer_beyond);
  void run(UnitGroup& group, DecoderState& state);

  StackedDecoderOptions options_;
  std::vector<Stage> stages_;
  UnitGroup stage5_extra_;
  int64_t out_channels_ = 0;
};
TORCH_MODULE(StackedDecoder);

}  // namespace deeplab::models
