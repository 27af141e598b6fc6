#include "deeplab/models/heads/panoptic_head.h"

#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::models {

PanopticHeadImpl::PanopticHeadImpl(const MultiLevelDecoderOptions& semantic, const MultiLevelDecoderOptions& instance) {
  semantic_ = register_module("semantic_decoder", MultiLevelDecoder(semantic));
  instance_ = register_module("instance_decoder", MultiLevelDecoder(instance));
}

torch::Tensor PanopticHeadImpl::forward(const Features& features) { return semantic_->forward(features); }

ModelOutputs PanopticHeadImpl::forward_outputs(const Features& features) {
  ModelOutputs outputs = semantic_->forward_outputs(features);
  for (auto& [name, output] : instance_->forward_outputs(features)) outputs[name] = output;
  return outputs;
}

namespace {

// Levels named by their stride: project_s8 / fuse_s8, project_s4 / fuse_s4.
std::vector<DecoderLevel> panoptic_levels(const std::vector<FeatureSpec>& levels,
                                          const std::vector<int64_t>& projections, int64_t channels) {
  if (projections.size() != levels.size()) {
    throw ConfigError("panoptic decoder: " + std::to_string(projections.size()) + " projection widths for " +
                      std::to_string(levels.size()) + " levels");
  }
  std::vector<DecoderLevel> out;
  for (size_t i = 0; i < levels.size(); ++i) {
    const std::string stride = "s" + std::to_string(levels[i].stride);
    out.push_back({levels[i], projections[i], channels, "project_" + stride, "fuse_" + stride});
  }
  return out;
}

}  // namespace

PanopticHead make_panoptic_head(const FeatureSpec& in, const std::vector<FeatureSpec>& levels, int64_t num_classes,
                                const AsppOptions& aspp, const PanopticWidths& w, bool align_corners) {
  const FuseConvOptions fuse{/*separable=*/true, w.fuse_kernel, /*count=*/1};
  const AsppOptions aspp_options = AsppOptions(aspp).channels(w.aspp);
  auto semantic = MultiLevelDecoderOptions(in, aspp_options)
                      .levels(panoptic_levels(levels, w.semantic_projections, w.semantic_decoder))
                      .fuse(fuse)
                      .heads({{"semantic_head", output_name::kSemantic, OutputKind::kLogits, num_classes,
                               w.semantic_head, w.head_kernel}})
                      .align_corners(align_corners);
  auto instance =
      MultiLevelDecoderOptions(in, aspp_options)
          .levels(panoptic_levels(levels, w.instance_projections, w.instance_decoder))
          .fuse(fuse)
          .heads({{"center_head", output_name::kCenter, OutputKind::kHeatmap, 1, w.instance_head, w.head_kernel},
                  {"offset_head", output_name::kOffset, OutputKind::kOffsets, 2, w.instance_head, w.head_kernel}})
          .align_corners(align_corners);
  return PanopticHead(semantic, instance);
}

}  // namespace deeplab::models
