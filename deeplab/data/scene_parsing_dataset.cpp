#include "deeplab/data/scene_parsing_dataset.h"

#include <algorithm>
#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

SceneParsingLayout ade20k_layout(const std::string& root, const std::string& split) {
  const fs::path r(root);
  return {"ADE20K", (r / "images" / split).string(), (r / "annotations" / split).string(), ".jpg", 150, -1};
}

SceneParsingLayout coco_stuff_layout(const std::string& root, const std::string& split) {
  const fs::path r(root);
  return {
      "COCO-Stuff", (r / "images" / split).string(), (r / "stuffthingmaps_trainval2017" / split).string(), ".jpg", 181,
      255};
}

SceneParsingDataset::SceneParsingDataset(SceneParsingLayout layout, DatasetDescriptor descriptor)
    : ListedDataset(std::move(descriptor)), layout_(std::move(layout)) {
  require_directory(layout_.image_dir, layout_.name + " image directory");
  require_directory(layout_.label_dir, layout_.name + " annotation directory");
  for (const auto& e : fs::directory_iterator(layout_.image_dir)) {
    if (e.is_regular_file() && e.path().extension() == layout_.image_ext) ids_.push_back(e.path().stem().string());
  }
  std::sort(ids_.begin(), ids_.end());
  if (ids_.empty()) throw IoError("no " + layout_.image_ext + " images in " + layout_.image_dir);
  // A missing annotation is found now, not hours into training.
  for (const auto& id : ids_) {
    if (!fs::is_regular_file(label_path(id))) {
      throw IoError(layout_.name + " annotation missing for " + image_path(id) + ": expected " + label_path(id));
    }
  }
}

std::string SceneParsingDataset::image_path(const std::string& id) const {
  return (fs::path(layout_.image_dir) / (id + layout_.image_ext)).string();
}

std::string SceneParsingDataset::label_path(const std::string& id) const {
  return (fs::path(layout_.label_dir) / (id + ".png")).string();
}

void SceneParsingDataset::check_raw_values(const cv::Mat& raw, const std::string& path) const {
  for (int y = 0; y < raw.rows; ++y) {
    const uint8_t* row = raw.ptr<uint8_t>(y);
    for (int x = 0; x < raw.cols; ++x) {
      const int v = row[x];
      if (v > layout_.max_raw_id && v != layout_.extra_raw_id) {
        throw DataError(layout_.name + " annotation id " + std::to_string(v) + " at (x=" + std::to_string(x) +
                        ", y=" + std::to_string(y) + ") in " + path + " is out of range: expected 0.." +
                        std::to_string(layout_.max_raw_id) +
                        (layout_.extra_raw_id >= 0 ? " or " + std::to_string(layout_.extra_raw_id) : ""));
      }
    }
  }
}

Sample SceneParsingDataset::get(size_t index) const {
  Sample s;
  s.id = ids_.at(index);
  const std::string image_file = image_path(s.id), label_file = label_path(s.id);
  s.image = read_rgb_image(image_file);
  s.label = read_label_png(label_file);
  if (s.label.type() != CV_8UC1) throw DataError(layout_.name + " annotation " + label_file + " must be 8-bit");
  check_same_size(s.image, image_file, s.label, label_file);
  check_raw_values(s.label, label_file);
  if (descriptor_.has_label_map) map_labels(s.label, descriptor_.label_map);
  check_label_values(s.label, num_classes(), ignore_label(), label_file);
  return s;
}

}  // namespace deeplab::data
