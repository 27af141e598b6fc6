#pragma once
// Panoptic-DeepLab (Cheng et al., CVPR 2020; deeplab2's panoptic_deeplab.py):
// two multi-level decoders on one backbone.
//   semantic_decoder  ASPP 256, levels /8 (projection 64) and /4 (32), fused
//                     to 256 by a 5x5 separable conv; head 5x5 separable 256
//                     -> 1x1 classes ("semantic", logits);
//   instance_decoder  its own ASPP 256, projections 32 / 16, fused to 128;
//                     center head 5x5 separable 32 -> 1x1 1 ("center", a raw
//                     regression of the Gaussian heatmap, no sigmoid) and
//                     offset head 5x5 separable 32 -> 1x1 2 ("offset", (dy, dx)).

#include "deeplab/models/heads/multi_level_decoder.h"

namespace deeplab::models {

class PanopticHeadImpl : public HeadImpl {
 public:
  PanopticHeadImpl(const MultiLevelDecoderOptions& semantic, const MultiLevelDecoderOptions& instance);
  /// The semantic logits.
  torch::Tensor forward(const Features& features) override;
  /// "semantic", "center" and "offset".
  ModelOutputs forward_outputs(const Features& features) override;

 private:
  MultiLevelDecoder semantic_{nullptr}, instance_{nullptr};
};
TORCH_MODULE(PanopticHead);

/// Widths of a Panoptic-DeepLab model (the paper's, deeplab2's defaults).
struct PanopticWidths {
  int64_t aspp = 256;
  std::vector<int64_t> semantic_projections = {64, 32};
  int64_t semantic_decoder = 256, semantic_head = 256;
  std::vector<int64_t> instance_projections = {32, 16};
  int64_t instance_decoder = 128, instance_head = 32;
  int64_t fuse_kernel = 5, head_kernel = 5;
};

/// The two decoders' options for `levels` (coarse to fine, e.g. the /8 and
/// /4 features) on `in` (the ASPP input).
PanopticHead make_panoptic_head(const FeatureSpec& in, const std::vector<FeatureSpec>& levels, int64_t num_classes,
                                const AsppOptions& aspp, const PanopticWidths& widths, bool align_corners);

}  // namespace deeplab::models
