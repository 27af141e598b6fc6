#pragma once
// PASCAL VOC 2012 segmentation, and the SBD-augmented "trainaug" variant.

#include <string>
#include <vector>

#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// Where a VOC-layout dataset finds its files.
struct VocOptions {
  std::string root;             // .../VOC2012
  std::string split = "train";  // ImageSets/Segmentation/<split>.txt
  /// trainaug: labels from SegmentationClassAug/<id>.png, then SegmentationClass,
  /// then `sbd_root`/cls/<id>.mat (GTcls.Segmentation).
  bool augmented = false;
  std::string sbd_root;
};

/// JPEGImages/<id>.jpg + palette PNG labels (indices read, not colours).
class VocDataset : public ListedDataset {
 public:
  VocDataset(VocOptions options, DatasetDescriptor descriptor);

  Sample get(size_t index) const override;

  std::string image_path(const std::string& id) const;
  /// The label file used for `id` (PNG or SBD .mat), per the lookup order above.
  std::string label_path(const std::string& id) const;

 private:
  VocOptions options_;
};

}  // namespace deeplab::data
