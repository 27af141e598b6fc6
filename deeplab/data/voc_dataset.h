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
class VocDataset : public Dataset {
 public:
  VocDataset(VocOptions options, DatasetDescriptor descriptor);

  size_t size() const override { return ids_.size(); }
  Sample get(size_t index) const override;
  std::string id(size_t index) const override { return ids_.at(index); }
  int num_classes() const override { return descriptor_.num_classes(); }
  int ignore_label() const override { return descriptor_.ignore_label; }

  std::string image_path(const std::string& id) const;
  /// The label file used for `id` (PNG or SBD .mat), per the lookup order above.
  std::string label_path(const std::string& id) const;

 private:
  VocOptions options_;
  DatasetDescriptor descriptor_;
  std::vector<std::string> ids_;
};

}  // namespace deeplab::data
