#pragma once
// Custom data: an images/ folder and a masks/ folder of index PNGs.

#include <string>
#include <vector>

#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// <root>/images/<id>.{jpg,jpeg,png} with <root>/masks/<id>.png (single-channel
/// or palette PNGs holding class indices, remapped by the descriptor's label_map
/// when it has one). The split is <root>/<split>.txt when present; without any
/// <root>/*.txt list every image forms the split.
class FolderDataset : public Dataset {
 public:
  FolderDataset(std::string root, std::string split, DatasetDescriptor descriptor);

  size_t size() const override { return ids_.size(); }
  Sample get(size_t index) const override;
  std::string id(size_t index) const override { return ids_.at(index); }
  int num_classes() const override { return descriptor_.num_classes(); }
  int ignore_label() const override { return descriptor_.ignore_label; }

 private:
  std::string image_path(const std::string& id) const;

  std::string root_;
  DatasetDescriptor descriptor_;
  std::vector<std::string> ids_;
};

}  // namespace deeplab::data
