#pragma once
// The mask-wise panoptic post-processing of MaX- and kMaX-DeepLab, with the
// settings deeplab2's evaluator.proto names, at the model's output size:
//   1. each mask slot's class: the softmax over the classes and void, void
//      dropped; its confidence is the top probability;
//   2. a pixel belongs to a slot's binary mask where the slot's softmax
//      (over the slots) exceeds pixel_confidence_threshold; the slot's mask
//      score is the mean probability over that mask;
//   3. slots are visited by class_confidence^reorder_class_weight x
//      mask_score^reorder_mask_weight, best first (ties keep slot order);
//      a slot paints the pixels of its mask not painted yet, if its class
//      confidence reaches the thing or stuff threshold and more than
//      overlap_threshold of its mask is still unpainted;
//   4. a thing instance with fewer than thing_area_limit pixels, and a stuff
//      class with fewer than stuff_area_limit, become void.
// The pixel-wise post-processing of MaX-DeepLab (mode "pixelwise"), at the
// input size (the mask logits resized bilinearly, aligned corners):
//   1. as above, each slot's class and confidence; a slot is detected when
//      its confidence reaches class_threshold; none detected: all void;
//   2. each pixel takes its best detected slot (by mask logit); it is
//      confident when the softmax over the detected slots gives that slot
//      more than pixel_confidence_threshold and no undetected slot has a
//      higher logit there; other pixels are void;
//   3. area limits as in 4. above.
// The class head predicts train ids (its last output is void); the thing
// ids say which are countable.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "deeplab/postprocess/panoptic.h"

namespace deeplab::postprocess {

/// One image: `mask_logits` [S, H, W] (S slots), `class_logits` [S, K + 1]
/// (K classes, then void).  `panoptic` follows PanopticPrediction's ids
/// (stuff class * divisor, thing class * divisor + k with k >= 1, void -1);
/// `semantic` is the class of each pixel's slot (-1 where void).
PanopticPrediction mask_panoptic(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                 const MaskPanopticOptions& options);

/// One image, pixel-wise, at the mask logits' size.
PanopticPrediction pixel_panoptic(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                  const MaskPanopticOptions& options);

/// A batch at the model's output stride: `mask_logits` [N, S, h, w],
/// `class_logits` [N, S, K + 1] -> N predictions at height x width (the
/// input size).  Each image is merged at h x w with the area limits scaled
/// from input pixels by (h w) / (height width), then brought to the input
/// size by nearest neighbour (input pixel y reads row y h / height): the
/// full-size logits of 256 slots would be 2 GB per Cityscapes image.
/// Pixel-wise (options.mode), each image is merged at the input size from
/// bilinearly resized logits, as deeplab2 does.  Void pixels of `semantic`
/// get the class of their most likely slot, so a semantic score sees a class
/// everywhere.
std::vector<PanopticPrediction> mask_panoptic_batch(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                                    const MaskPanopticOptions& options, int64_t height, int64_t width);

}  // namespace deeplab::postprocess
