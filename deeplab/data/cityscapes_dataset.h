#pragma once
// Cityscapes fine annotations in the official layout.

#include <string>
#include <utility>
#include <vector>

#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// leftImg8bit/<split>/<city>/*_leftImg8bit.png with gtFine *_labelIds.png
/// mapped to the 19 train ids (unmapped ids -> 255) and, when `instances` is
/// set, the 16-bit *_instanceIds.png kept intact in Sample::instances.
class CityscapesDataset : public Dataset {
 public:
  /// What to do with *_instanceIds.png: kRequired (panoptic: a missing file is
  /// an error), kIfPresent (plain Cityscapes: read for iIoU when it is there).
  enum class Instances { kNone, kIfPresent, kRequired };
  CityscapesDataset(std::string root, std::string split, DatasetDescriptor descriptor, Instances instances);
  CityscapesDataset(std::string root, std::string split, DatasetDescriptor descriptor, bool instances)
      : CityscapesDataset(std::move(root), std::move(split), std::move(descriptor),
                          instances ? Instances::kRequired : Instances::kNone) {}

  size_t size() const override { return stems_.size(); }
  Sample get(size_t index) const override;
  std::string id(size_t index) const override;
  int num_classes() const override { return descriptor_.num_classes(); }
  int ignore_label() const override { return descriptor_.ignore_label; }

  std::string image_path(size_t index) const;
  std::string label_path(size_t index) const;
  std::string instance_path(size_t index) const;

 private:
  std::string root_, split_;
  DatasetDescriptor descriptor_;
  Instances instances_;
  std::vector<std::string> stems_;  // "<city>/<city>_<seq>_<frame>", sorted
};

}  // namespace deeplab::data
