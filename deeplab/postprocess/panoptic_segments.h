#pragma once
// Panoptic evaluation of a model on a dataset held in memory: the ground
// truth of each sample as panopticapi segments (built from the train-id
// label and the canonical instance map by cityscapesScripts'
// createPanopticImgs rules), the prediction's segments from the
// post-processed panoptic map, and the settings `deeplab eval` takes from
// the config.  What a run accumulates is a PanopticQuality (PQ/SQ/RQ exactly
// as panopticapi computes them).

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "deeplab/data/data_config.h"
#include "deeplab/data/descriptor.h"
#include "deeplab/postprocess/panoptic.h"

namespace deeplab::postprocess {

/// A category of the COCO panoptic `categories` list.
struct PanopticCategory {
  int id = 0;
  std::string name;
  bool isthing = false;
};

/// One entry of `segments_info`.
struct PanopticSegment {
  uint32_t id = 0;
  int category_id = 0;
  int64_t area = 0;
  bool iscrowd = false;
};

/// One image as panopticapi reads it: a segment id per pixel (0 = VOID) and
/// the segments' category, area and crowd flag.
struct PanopticSegmentation {
  std::vector<uint32_t> ids;
  std::vector<PanopticSegment> segments;
};

/// Ground truth of one sample (label int64 [H, W] of train ids, instances
/// int32 [H, W] in Sample::instances' encoding): ignore -> VOID; a thing
/// pixel with an instance value >= 1000 -> that instance; one below 1000 ->
/// its class's crowd segment; stuff -> one segment per class.  Category ids
/// are train ids.
PanopticSegmentation ground_truth_segmentation(const at::Tensor& label, const at::Tensor& instances,
                                               const std::vector<int>& thing_ids, int ignore_label);

/// Segments of a post-processed panoptic map (int32 [H, W], void -1): one per
/// value, category value / label_divisor.  Segment ids are 1, 2, ... in order
/// of first appearance, never 0.
PanopticSegmentation predicted_segmentation(const at::Tensor& panoptic, int label_divisor);

/// What evaluating a panoptic model needs besides the semantic settings.
struct PanopticEvalOptions {
  postprocess::PanopticOptions postprocess;
  std::vector<PanopticCategory> categories;  // ids = train ids
  int ignore_label = 255;
};

/// From `data.panoptic` and the dataset's classes and things.
PanopticEvalOptions panoptic_eval_options(const data::DataConfig& config, const data::DatasetDescriptor& descriptor);
/// The same; with `mask_wise` (a mask transformer) the post-processing
/// merges masks by `data.panoptic.mask` instead of grouping pixels to centers.
PanopticEvalOptions panoptic_eval_options(const data::DataConfig& config, const data::DatasetDescriptor& descriptor,
                                          bool mask_wise);

/// One category per class of `descriptor` (ids = train ids), things marked.
std::vector<PanopticCategory> panoptic_categories(const data::DatasetDescriptor& descriptor);

}  // namespace deeplab::postprocess
