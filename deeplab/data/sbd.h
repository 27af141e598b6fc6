#pragma once
// SBD (Hariharan et al.) semantic boundaries dataset: `cls/<id>.mat` label
// files and the standard VOC "trainaug" list built from it.

#include <opencv2/core.hpp>

#include <string>
#include <vector>

namespace deeplab::data {

/// Reads `GTcls.Segmentation` (class indices, 0 = background) from an SBD
/// .mat file as CV_8UC1; IoError naming the file when missing or malformed.
cv::Mat read_sbd_segmentation(const std::string& path);

/// What `make_trainaug` did.
struct TrainAugReport {
  std::string list_path;
  size_t num_ids = 0;
  size_t num_pngs = 0;  // labels written to SegmentationClassAug
};

/// (SBD train ∪ SBD val ∪ VOC train) minus VOC val -> ImageSets/Segmentation/train_aug.txt
/// under `voc_root` (10,582 ids for the real datasets). With `write_pngs`, also writes a
/// VOC-palette PNG per id to SegmentationClassAug (VOC's own label when present, else SBD's).
TrainAugReport make_trainaug(const std::string& voc_root, const std::string& sbd_root, bool write_pngs);

}  // namespace deeplab::data
