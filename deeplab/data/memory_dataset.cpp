#include "deeplab/data/memory_dataset.h"

#include "deeplab/core/error.h"

namespace deeplab::data {

MemoryDataset::MemoryDataset(std::vector<Sample> samples, int num_classes, int ignore_label)
    : samples_(std::move(samples)), num_classes_(num_classes), ignore_label_(ignore_label) {
  for (const Sample& s : samples_) {
    if (s.image.type() != CV_8UC3) throw DataError("sample '" + s.id + "': image is not 8-bit RGB (CV_8UC3)");
    if (s.label.type() != CV_8UC1 || s.label.size() != s.image.size()) {
      throw DataError("sample '" + s.id + "': label is not an 8-bit map (CV_8UC1) of the image's size");
    }
  }
}

// Transforms write into their inputs' buffers: every caller gets its own copy.
Sample MemoryDataset::get(size_t index) const {
  const Sample& s = samples_.at(index);
  return Sample{s.id, s.image.clone(), s.label.clone(), s.instances.empty() ? cv::Mat() : s.instances.clone()};
}

}  // namespace deeplab::data
