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
// The class head predicts train ids (its last output is void); the thing
// ids say which are countable.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "deeplab/postprocess/panoptic.h"

namespace deeplab::postprocess {

/// deeplab2's defaults are its Cityscapes kMaX config's (evaluator.proto's
/// names); COCO: thresholds 0.7 / 0.5, overlap 0.8, areas 400 / 6400, mask weight 1.
struct MaskPanopticOptions {
  std::vector<int> thing_ids;
  int label_divisor = 1000;
  double pixel_confidence_threshold = 0.4;
  double class_threshold_thing = 0.5;
  double class_threshold_stuff = 0.3;
  double overlap_threshold = 0.9;
  int64_t thing_area_limit = 256;
  int64_t stuff_area_limit = 2048;
  double reorder_class_weight = 1.0;
  double reorder_mask_weight = 0.0;
};

/// One image: `mask_logits` [S, H, W] (S slots), `class_logits` [S, K + 1]
/// (K classes, then void).  `panoptic` follows PanopticPrediction's ids
/// (stuff class * divisor, thing class * divisor + k with k >= 1, void -1);
/// `semantic` is the class of each pixel's slot (-1 where void).
PanopticPrediction mask_panoptic(const at::Tensor& mask_logits, const at::Tensor& class_logits,
                                 const MaskPanopticOptions& options);

}  // namespace deeplab::postprocess
