#pragma once
// The COCO panoptic format: a JSON file (`annotations[].segments_info`,
// `categories[].isthing`) beside a folder of PNGs whose pixels hold segment
// ids as R + 256 G + 256^2 B.  Reading it, and scoring a prediction set
// against a ground-truth set as panopticapi's pq_compute does.

#include <string>
#include <vector>

#include "deeplab/eval/panoptic_quality.h"

namespace deeplab::eval {

/// One entry of `annotations`.
struct PanopticAnnotation {
  std::string image_id;  // the JSON value as text (COCO uses numbers, Cityscapes strings)
  std::string file_name;
  std::vector<postprocess::PanopticSegment> segments;
};

/// A COCO panoptic JSON file; `categories` is empty when the file has none.
struct PanopticJson {
  std::vector<postprocess::PanopticCategory> categories;
  std::vector<PanopticAnnotation> annotations;
};

/// Reads a COCO panoptic JSON; throws IoError naming the file and the missing or malformed key.
PanopticJson read_panoptic_json(const std::string& path);

/// Scores every ground-truth image against the prediction with the same image_id
/// (categories from the ground truth).  Errors name the image and segment at fault.
PanopticQuality evaluate_coco_panoptic(const std::string& gt_json, const std::string& gt_dir,
                                       const std::string& pred_json, const std::string& pred_dir);

}  // namespace deeplab::eval
