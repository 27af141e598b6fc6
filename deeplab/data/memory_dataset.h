#pragma once
// A dataset of samples already in memory: for tests, for data that comes
// from somewhere other than a file layout, and for quick experiments.

#include <string>
#include <vector>

#include "deeplab/data/dataset.h"

namespace deeplab::data {

class MemoryDataset : public Dataset {
 public:
  /// DataError naming the sample when an image is not CV_8UC3 or a label not
  /// CV_8UC1 of the same size.
  MemoryDataset(std::vector<Sample> samples, int num_classes, int ignore_label = 255);

  size_t size() const override { return samples_.size(); }
  Sample get(size_t index) const override;
  std::string id(size_t index) const override { return samples_.at(index).id; }
  int num_classes() const override { return num_classes_; }
  int ignore_label() const override { return ignore_label_; }

 private:
  std::vector<Sample> samples_;
  int num_classes_, ignore_label_;
};

}  // namespace deeplab::data
