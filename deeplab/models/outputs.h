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
  kStrided,  // per-pixel values kept at the model's output stride (N, C, h, w): a
             // mask transformer's mask logits and pixel embeddings (full-size mask
             // logits of 256 slots would be 2 GB per Cityscapes image); never
             // resized, mirrored under a flip; consumers downsample the ground truth
  kPerSlot,  // one row per mask slot (N, slots, C), not spatial: class logits
};

/// False for the kinds that stay at the model's stride or are not spatial
/// (kStrided, kPerSlot): test-time resizing and averaging does not apply.
bool follows_input_size(OutputKind kind);

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
/// Mask transformers (kMaX-DeepLab): mask logits (N, slots, h, w) and the
/// L2-normalised pixel embeddings (N, E, h, w) at the output stride, class
/// logits (N, slots, classes + 1) with void last.
inline const std::string kMaskLogits = "mask_logits";
inline const std::string kClassLogits = "class_logits";
inline const std::string kPixelEmbedding = "pixel_embedding";
/// "layer3/mask_logits": transformer layer `layer`'s auxiliary prediction
/// `name` (training outputs, resized to the final prediction's stride).
std::string layer(int layer, const std::string& name);
}  // namespace output_name

/// The kind of a named output (exported models return names only):
/// center, offset, the mask transformers' outputs, logits otherwise.
OutputKind output_kind_of(const std::string& name);

/// `output` resized to height x width by its kind's rule (unchanged for the
/// kinds that do not follow the input size).
at::Tensor resize_output(const ModelOutput& output, int64_t height, int64_t width, bool align_corners);
/// `output` resized to `like`'s height and width (its last two dims) by its
/// kind's rule; traced graphs read the sizes, and the offset scale, from
/// `like` at run time, so an exported model runs at any input size.
at::Tensor resize_output_like(const ModelOutput& output, const at::Tensor& like, bool align_corners);
/// `output` of an input padded at the bottom and right to `padded_height`
/// rows, cropped to what the unpadded height x width give: outputs at the
/// input size to height x width, stride-kept ones to the rows and columns
/// that see the image (the last partly), per-slot ones unchanged.
void crop_padded_output(ModelOutput& output, int64_t padded_height, int64_t height, int64_t width);

/// `output` mirrored left-right by its kind's rule.
at::Tensor flip_output(const ModelOutput& output);

}  // namespace deeplab::models
