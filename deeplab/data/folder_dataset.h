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
class FolderDataset : public ListedDataset {
 public:
  FolderDataset(std::string root, std::string split, DatasetDescriptor descriptor);

  Sample get(size_t index) const override;

 private:
  std::string image_path(const std::string& id) const;

  std::string root_;
};

}  // namespace deeplab::data
