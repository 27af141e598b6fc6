#pragma once
// Cityscapes panoptic ground truth in the COCO panoptic format, built from
// `gtFine/<split>/<city>/*_gtFine_instanceIds.png` by the rules of
// cityscapesScripts' createPanopticImgs:
//
// - a value >= 1000 is an instance of label value / 1000 (not crowd);
// - a value < 1000 is the label itself; crowd when that label has instances;
// - labels ignored in evaluation stay VOID (id 0 in the PNG, no segment);
// - the segment id is the raw instanceIds value; category ids are label ids
//   (or train ids with `use_train_ids`); `isthing` = the label has instances.
//
// Output: `<out>/cityscapes_panoptic_<split>[_trainId].json` and PNGs named
// `*_gtFine_panoptic.png` in the folder of the same name.

#include <string>

namespace deeplab::data {

/// What a conversion wrote.
struct CityscapesPanopticSummary {
  int images = 0;
  int segments = 0;
  std::string json_path;
  std::string png_dir;
};

/// Converts one split; `output_dir` empty means `<root>/gtFine`.  Throws
/// DataError naming the file and value for an instance id of an unknown label.
CityscapesPanopticSummary convert_cityscapes_panoptic(const std::string& root, const std::string& split,
                                                      const std::string& output_dir = "", bool use_train_ids = false);

}  // namespace deeplab::data
