#include "deeplab/data/cityscapes_dataset.h"

#include <algorithm>
#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {
const std::string kImageSuffix = "_leftImg8bit.png";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

CityscapesDataset::CityscapesDataset(std::string root, std::string split, DatasetDescriptor descriptor,
                                     Instances instances)
    : root_(std::move(root)), split_(std::move(split)), descriptor_(std::move(descriptor)), instances_(instances) {
  require_directory(root_, "Cityscapes root");
  const fs::path images = fs::path(root_) / "leftImg8bit" / split_;
  require_directory(images.string(), "Cityscapes split directory");
  for (const auto& entry : fs::recursive_directory_iterator(images)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || !ends_with(name, kImageSuffix)) continue;
    const std::string city = entry.path().parent_path().filename().string();
    stems_.push_back(city + "/" + name.substr(0, name.size() - kImageSuffix.size()));
  }
  std::sort(stems_.begin(), stems_.end());
  if (stems_.empty()) throw IoError("no *" + kImageSuffix + " images under " + images.string());
}

std::string CityscapesDataset::id(size_t index) const { return fs::path(stems_.at(index)).filename().string(); }

std::string CityscapesDataset::image_path(size_t index) const {
  return (fs::path(root_) / "leftImg8bit" / split_ / (stems_.at(index) + kImageSuffix)).string();
}

std::string CityscapesDataset::label_path(size_t index) const {
  return (fs::path(root_) / "gtFine" / split_ / (stems_.at(index) + "_gtFine_labelIds.png")).string();
}

std::string CityscapesDataset::instance_path(size_t index) const {
  return (fs::path(root_) / "gtFine" / split_ / (stems_.at(index) + "_gtFine_instanceIds.png")).string();
}

Sample CityscapesDataset::get(size_t index) const {
  Sample s;
  s.id = id(index);
  const std::string image_file = image_path(index), label_file = label_path(index);
  s.image = read_rgb_image(image_file);
  s.label = read_label_png(label_file);
  if (s.label.type() != CV_8UC1) throw DataError("labelIds " + label_file + " must be 8-bit, got 16-bit");
  check_same_size(s.image, image_file, s.label, label_file);
  map_labels(s.label, descriptor_.label_map);  // every value maps (unlisted -> ignore), so no range check is needed
  const std::string inst_file = instances_ == Instances::kNone ? std::string() : instance_path(index);
  if (instances_ == Instances::kRequired || (instances_ == Instances::kIfPresent && fs::exists(inst_file))) {
    cv::Mat raw = read_label_png(inst_file);
    check_same_size(s.image, image_file, raw, inst_file);
    raw.convertTo(s.instances, CV_32S);
  }
  return s;
}

}  // namespace deeplab::data
