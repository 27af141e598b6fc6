#include "deeplab/data/voc_dataset.h"

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/sample_io.h"
#include "deeplab/data/sbd.h"

namespace deeplab::data {
namespace fs = std::filesystem;

VocDataset::VocDataset(VocOptions options, DatasetDescriptor descriptor)
    : ListedDataset(std::move(descriptor)), options_(std::move(options)) {
  require_directory(options_.root, "VOC root");
  ids_ = read_id_list((fs::path(options_.root) / "ImageSets" / "Segmentation" / (options_.split + ".txt")).string());
}

std::string VocDataset::image_path(const std::string& id) const {
  return (fs::path(options_.root) / "JPEGImages" / (id + ".jpg")).string();
}

std::string VocDataset::label_path(const std::string& id) const {
  const fs::path root(options_.root);
  const fs::path plain = root / "SegmentationClass" / (id + ".png");
  if (!options_.augmented) return plain.string();
  const fs::path aug = root / "SegmentationClassAug" / (id + ".png");
  if (fs::is_regular_file(aug)) return aug.string();
  if (fs::is_regular_file(plain) || options_.sbd_root.empty()) return plain.string();
  return (fs::path(options_.sbd_root) / "cls" / (id + ".mat")).string();
}

Sample VocDataset::get(size_t index) const {
  Sample s;
  s.id = ids_.at(index);
  const std::string image_file = image_path(s.id);
  const std::string label_file = label_path(s.id);
  s.image = read_rgb_image(image_file);
  if (fs::path(label_file).extension() == ".mat") {
    s.label = read_sbd_segmentation(label_file);
  } else {
    s.label = read_label_png(label_file);
  }
  if (s.label.type() != CV_8UC1) throw DataError("label " + label_file + " must be 8-bit, got 16-bit");
  check_same_size(s.image, image_file, s.label, label_file);
  if (descriptor_.has_label_map) map_labels(s.label, descriptor_.label_map);
  check_label_values(s.label, num_classes(), ignore_label(), label_file);
  return s;
}

}  // namespace deeplab::data
