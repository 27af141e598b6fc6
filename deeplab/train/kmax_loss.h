#pragma once
// kMaX-DeepLab's training loss as deeplab2's MaXDeepLabLoss computes it from
// a batch, as named terms:
//   semantic                  x semantic_weight: the auxiliary semantic head's
//                             cross-entropy at the input size, with the loader's
//                             small-instance weights and top_k_percent (as
//                             Panoptic-DeepLab's semantic term);
//   pq_class, pq_mask_dice,   the MaX-DeepLab terms of the final prediction
//   mask_id_ce, instance_disc (train/max_loss.h) and "aux<i>/..." of each
//                             transformer layer's, at the model's output stride.
// The ground truth comes to the output stride by strided subsampling (pixel
// y reads row y x stride), as deeplab2's strided_downsample.  Thing instances
// are numbered per image in order of their instance value; crowd pixels (a
// thing class without an instance) belong to no segment.  The instance term's
// pixels are drawn with each image's Batch::seeds, so a data-parallel run
// draws what one process draws.

#include <vector>

#include "deeplab/train/losses.h"
#include "deeplab/train/max_loss.h"

namespace deeplab::train {

/// A batch's ground truth at h x w (the output stride) for the MaX losses:
/// semantic, thing-instance map and the instances' classes; DataError naming
/// the sample when an image has more than `max_things` instances.
MaXTargets max_targets_from_batch(const data::Batch& batch, int64_t height, int64_t width,
                                  const MaXLossOptions& options);

class KMaXLoss {
 public:
  KMaXLoss(LossConfig config, int num_classes, int ignore_label, std::vector<int> thing_ids, GlobalSum global_sum = {});

  /// The terms of the outputs "semantic", "mask_logits", "class_logits",
  /// "pixel_embedding" and "layer<i>/..." against the batch; ConfigError
  /// naming what is missing.
  LossTerms terms(const models::ModelOutputs& outputs, const data::Batch& batch) const;

  static LossFn as_function(LossConfig config, int num_classes, int ignore_label, std::vector<int> thing_ids,
                            GlobalSum global_sum = {});

 private:
  LossConfig config_;
  MaXLossOptions options_;
  SegmentationLoss semantic_;
  GlobalSum global_sum_;
};

}  // namespace deeplab::train
