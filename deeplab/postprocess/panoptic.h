#pragma once
// Panoptic-DeepLab post-processing (Cheng et al., CVPR 2020) with deeplab2's
// rules: semantic argmax; instance centers = thresholded center heatmap kept
// where it equals its max-pooled value, then top-k; every thing pixel joins
// the center nearest to itself moved by its offset; an instance takes the
// majority class of its pixels; stuff classes smaller than `stuff_area` (per
// class, over the image) become void.
//
// Inputs are one image's raw head outputs on the CPU (other devices and
// dtypes are converted): semantic logits or probabilities [C, H, W], center
// heatmap [1, H, W] (regressed, no sigmoid), offsets [2, H, W] = (dy, dx) in
// pixels from the pixel to its center.  The work is single-threaded raw loops
// (the batch function spreads images over ATen's intra-op threads).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace deeplab::postprocess {

/// The post-processing of mask transformers (mask_panoptic.h), mask-wise
/// (kMaX-DeepLab) or pixel-wise (MaX-DeepLab; evaluator.proto's default).
/// deeplab2's defaults are its Cityscapes kMaX config's (evaluator.proto's
/// names); COCO: thresholds 0.7 / 0.5, overlap 0.8, areas 400 / 6400, mask
/// weight 1; MaX-DeepLab on COCO: pixel-wise, class 0.7, pixel 0.4, areas
/// 100 / 1600.
struct MaskPanopticOptions {
  std::vector<int> thing_ids;
  int label_divisor = 1000;
  /// "maskwise" or "pixelwise" (deeplab2's transformer_post_processing).
  std::string mode = "maskwise";
  /// Pixel-wise: a slot takes part where its class confidence reaches this.
  double class_threshold = 0.7;
  double pixel_confidence_threshold = 0.4;
  double class_threshold_thing = 0.5;
  double class_threshold_stuff = 0.3;
  double overlap_threshold = 0.9;
  int64_t thing_area_limit = 256;
  int64_t stuff_area_limit = 2048;
  double reorder_class_weight = 1.0;
  double reorder_mask_weight = 0.0;
};

/// deeplab2's PanopticDeepLab post-processor settings (defaults: Cityscapes).
struct PanopticOptions {
  std::vector<int> thing_ids;     // train ids of the thing classes; the rest are stuff
  int label_divisor = 1000;       // panoptic id = class * label_divisor + instance
  double center_threshold = 0.1;  // a center scores strictly above this (compared in float)
  int nms_kernel = 13;            // max-pool window, odd, stride 1, zero padding
  int top_k = 400;                // keep centers strictly above the top_k-th best; <= 0 keeps all
  int64_t stuff_area = 2048;      // a stuff class with fewer pixels in the image becomes void
  /// Set for a mask transformer (kmax_deeplab): its mask and class logits
  /// are merged mask-wise instead (the center settings above do not apply).
  std::optional<MaskPanopticOptions> mask_wise;
};

/// One image's result; every tensor is on the CPU.
struct PanopticPrediction {
  /// int32 [H, W]: stuff class*divisor, thing class*divisor + k (k = 1, 2 ... per class in
  /// center order), void -1 (never 0: stuff class 0 has id 0).
  at::Tensor panoptic;
  at::Tensor semantic;       ///< int64 [H, W], argmax of the semantic input (ties: lower class)
  at::Tensor centers;        ///< int64 [K, 2], (y, x) of the kept centers in raster order
  at::Tensor center_scores;  ///< float [K]; centers whose instance got no pixel stay listed
};

/// Kept centers of a [1, H, W] (or [H, W]) heatmap, (y, x) int64 [K, 2] in raster order;
/// their heatmap values go to `scores` (float [K]) when given.
at::Tensor find_instance_centers(const at::Tensor& center_heatmap, const PanopticOptions& options,
                                 at::Tensor* scores = nullptr);

/// int32 [H, W]: 1 + index of the center nearest to (y + dy, x + dx) for pixels of the bool
/// [H, W] `thing_mask` (ties: the earlier center), 0 elsewhere or when there is no center.
at::Tensor group_pixels(const at::Tensor& offsets, const at::Tensor& centers, const at::Tensor& thing_mask);

/// The whole post-processing of one image.
PanopticPrediction panoptic_from_outputs(const at::Tensor& semantic, const at::Tensor& center_heatmap,
                                         const at::Tensor& offsets, const PanopticOptions& options);

/// The same for a batch: [N, C, H, W], [N, 1, H, W], [N, 2, H, W] -> N predictions.
std::vector<PanopticPrediction> panoptic_from_batch(const at::Tensor& semantic, const at::Tensor& center_heatmap,
                                                    const at::Tensor& offsets, const PanopticOptions& options);

}  // namespace deeplab::postprocess
