#pragma once
// PASCAL-Context (Mottaghi et al., CVPR 2014): VOC 2010 photos with every
// pixel labelled in 459 classes, trained and scored on the 59 most frequent
// plus background (DeepLab v2's 60 labels) through the descriptor's
// context_459_ids.

#include <string>
#include <vector>

#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// The raw labels' range: LabelMap values are 1..459 (0 would be unlabelled).
constexpr int kContextRawClasses = 459;

/// <root>/JPEGImages/<id>.jpg (root: VOCdevkit/VOC2010), labels from
/// <root>/trainval/<id>.mat (variable `LabelMap`, as trainval.tar.gz
/// unpacks into the root), split lists ImageSets/Main/<split>.txt (train:
/// 4,998 ids, val: 5,105).
class PascalContextDataset : public ListedDataset {
 public:
  /// ConfigError naming the descriptor when it has no context_459_ids.
  PascalContextDataset(std::string root, const std::string& split, DatasetDescriptor descriptor);

  Sample get(size_t index) const override;

  std::string image_path(const std::string& id) const;
  std::string label_path(const std::string& id) const;

 private:
  std::string root_;
  std::vector<uint8_t> to_train_id_;  // 460 entries: 459-class id -> train id
};

/// The 460-entry table from a descriptor's context_459_ids: listed ids to
/// their train ids, every other id to the class listed as 0 (or to the
/// ignore label when none is).
std::vector<uint8_t> context_label_table(const DatasetDescriptor& descriptor);

}  // namespace deeplab::data
