#pragma once
// MaX-DeepLab's losses (Wang et al., CVPR 2021), as deeplab2's
// MaXDeepLabLoss computes them for kMaX- and MaX-DeepLab, as named terms:
//   pq_class       x pq_weight: the slots' class cross-entropy, a matched slot
//                  towards its segment's class weighted by its mask dice, an
//                  unmatched one towards void weighted by the share of its
//                  mask on void pixels; alpha 0.75 / 0.25 (positive / void);
//   pq_mask_dice   x pq_weight x alpha / slots: the dice loss of each matched
//                  slot's mask with its segment, weighted by the slot's
//                  probability of the segment's class;
//   mask_id_ce     x mask_id_weight: per pixel, the cross-entropy over the
//                  slots towards the slot matched to the pixel's segment;
//   instance_disc  x instance_weight: over sampled pixels, the contrastive
//                  loss of the pixel embeddings' similarities (temperature
//                  0.3) against "same segment" (each row normalised).
// Slots are matched to segments by the final output's PQ-style similarity
// (dice x class probability), a minimum-cost assignment (core/
// linear_assignment.h); the same matching, dice and void shares weigh the
// auxiliary outputs' terms ("aux<i>/<term>", deep supervision).
// Segments, as deeplab2 numbers them: thing instances 0..max_things-1 from
// the thing-id map, then one per stuff class present.  Classes are train
// ids, the class logits' last channel void.  Each term is a per-image value
// (cross-entropies: the sum over the count of non-zero entries), averaged
// over the global batch (GlobalSum), so data parallelism equals one process.

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "deeplab/train/losses.h"

namespace deeplab::train {

struct MaXLossOptions {
  int64_t num_classes = 19;  // K: the class logits have K + 1 channels
  int64_t ignore_label = 255;
  std::vector<int64_t> thing_ids;  // train ids of countable classes
  int64_t max_things = 256;        // columns of thing instances (thing ids 0..max_things-1)
  double pq_weight = 3.0;
  double mask_id_weight = 0.3;
  double instance_weight = 1.0;
  double focal_alpha = 0.75;
  double instance_temperature = 0.3;
};

/// One set of predictions at the loss resolution H x W.
struct MaXPrediction {
  torch::Tensor pixel_embedding;  // [B, E, H, W]
  torch::Tensor mask_logits;      // [B, N, H, W]
  torch::Tensor class_logits;     // [B, N, K + 1]
};

/// Ground truth at the loss resolution.
struct MaXTargets {
  torch::Tensor semantic;       // [B, H, W] train ids, ignore_label for void
  torch::Tensor thing_ids;      // [B, H, W] instance index in [0, max_things), -1 elsewhere
  torch::Tensor thing_classes;  // [B, max_things] train id of each instance (read where present)
  torch::Tensor samples;        // [B, k] pixel indices (row-major) for instance_disc; undefined: no term
};

/// The terms for the final predictions and, as "aux<i>/...", each auxiliary
/// set (deep supervision).
LossTerms max_deeplab_loss(const MaXPrediction& final_prediction, const std::vector<MaXPrediction>& auxiliary,
                           const MaXTargets& targets, const MaXLossOptions& options, const GlobalSum& global_sum = {});

/// deeplab2's pixel sampling for the instance term: per image, k pixels by
/// Gumbel top-k of log(H*W / area of the pixel's segment) x temperature,
/// never void pixels (unless fewer are not void); every pixel, in random
/// order, when the image has fewer than k.  `seeds` gives each image its own stream (seed it by
/// the image's global index, so the samples do not depend on the rank).
torch::Tensor sample_instance_pixels(const MaXTargets& targets, const MaXLossOptions& options, int64_t k,
                                     double temperature, const std::vector<uint64_t>& seeds);

}  // namespace deeplab::train
