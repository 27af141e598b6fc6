#pragma once
// Named model outputs, as torchvision's result dict and deeplab2's result
// keys: "semantic" (class logits), "aux" (auxiliary head logits), "msc/<s>"
// (DeepLabv2's per-scale logits), "center" and "offset" (Panoptic-DeepLab).  Each output
// says how it follows its image through a resize or a horizontal flip, so
// test-time augmentation (inference/predictor) handles every head alike.

#include <ATen/core/Tensor.h>

#include <map>
#include <string>

namespace deeplab::models {

enum class OutputKind {
  kLogits,   // per-class scores (N, C, H, W): bilinear resize; averaged as probabilities
  kHeatmap,  // a per-pixel score (instance centers): bilinear resize
  kOffsets,  // (dy, dx) in pixels (N, 2, H, W): bilinear resize with the values scaled
             // by the size ratio; dx changes sign under a horizontal flip
};

struct ModelOutput {
  at::Tensor value;
  OutputKind kind = OutputKind::kLogits;
};

using ModelOutputs = std::map<std::string, ModelOutput>;

namespace output_name {
inline const std::string kSemantic = "semantic";
inline const std::string kAux = "aux";
/// Panoptic-DeepLab: instance center heatmap (N, 1, H, W) and offsets to the
/// center (N, 2, H, W) as (dy, dx) in pixels.
inline const std::string kCenter = "center";
inline const std::string kOffset = "offset";
/// "msc/0.75": DeepLabv2's logits of the input at `scale`, at input size.
std::string msc(double scale);
}  // namespace output_name

/// `output` resized to height x width by its kind's rule.
at::Tensor resize_output(const ModelOutput& output, int64_t height, int64_t width, bool align_corners);
/// `output` resized to `like`'s height and width (its last two dims) by its
/// kind's rule; traced graphs read the sizes, and the offset scale, from
/// `like` at run time, so an exported model runs at any input size.
at::Tensor resize_output_like(const ModelOutput& output, const at::Tensor& like, bool align_corners);
/// `output` mirrored left-right by its kind's rule.
at::Tensor flip_output(const ModelOutput& output);

}  // namespace deeplab::models
