#include "deeplab/data/pascal_context_dataset.h"

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/mat_file.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

std::vector<uint8_t> context_label_table(const DatasetDescriptor& d) {
  if (d.context_459_ids.empty()) {
    throw ConfigError(d.source + ": PASCAL-Context needs context_459_ids (the 459-class id of each class)");
  }
  int others = d.ignore_label;
  for (size_t t = 0; t < d.context_459_ids.size(); ++t) {
    if (d.context_459_ids[t] == 0) others = static_cast<int>(t);
  }
  std::vector<uint8_t> table(kContextRawClasses + 1, static_cast<uint8_t>(others));
  for (size_t t = 0; t < d.context_459_ids.size(); ++t) {
    if (d.context_459_ids[t] > 0) table[static_cast<size_t>(d.context_459_ids[t])] = static_cast<uint8_t>(t);
  }
  return table;
}

PascalContextDataset::PascalContextDataset(std::string root, const std::string& split, DatasetDescriptor descriptor)
    : ListedDataset(std::move(descriptor)), root_(std::move(root)), to_train_id_(context_label_table(descriptor_)) {
  require_directory(root_, "PASCAL-Context root (VOC2010)");
  require_directory((fs::path(root_) / "trainval").string(), "PASCAL-Context labels (trainval.tar.gz unpacked)");
  ids_ = read_id_list((fs::path(root_) / "ImageSets" / "Main" / (split + ".txt")).string());
}

std::string PascalContextDataset::image_path(const std::string& id) const {
  return (fs::path(root_) / "JPEGImages" / (id + ".jpg")).string();
}

std::string PascalContextDataset::label_path(const std::string& id) const {
  return (fs::path(root_) / "trainval" / (id + ".mat")).string();
}

Sample PascalContextDataset::get(size_t index) const {
  Sample s;
  s.id = ids_.at(index);
  const std::string image_file = image_path(s.id), label_file = label_path(s.id);
  s.image = read_rgb_image(image_file);
  if (!fs::is_regular_file(label_file)) throw IoError("PASCAL-Context label missing: " + label_file);
  const cv::Mat raw = read_mat_matrix(label_file, "LabelMap");
  check_same_size(s.image, image_file, raw, label_file);
  s.label.create(raw.size(), CV_8UC1);
  for (int y = 0; y < raw.rows; ++y) {
    const int32_t* in = raw.ptr<int32_t>(y);
    uint8_t* out = s.label.ptr<uint8_t>(y);
    for (int x = 0; x < raw.cols; ++x) {
      if (in[x] < 0 || in[x] > kContextRawClasses) {
        throw DataError("PASCAL-Context label id " + std::to_string(in[x]) + " at (x=" + std::to_string(x) +
                        ", y=" + std::to_string(y) + ") in " + label_file + " is out of range: expected 0..459");
      }
      out[x] = to_train_id_[static_cast<size_t>(in[x])];
    }
  }
  return s;
}

}  // namespace deeplab::data
