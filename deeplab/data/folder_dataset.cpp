#include "deeplab/data/folder_dataset.h"

#include <algorithm>
#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {
const std::vector<std::string> kImageExtensions = {".jpg", ".jpeg", ".png"};

bool has_any_list(const fs::path& root) {
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_regular_file() && e.path().extension() == ".txt") return true;
  }
  return false;
}
}  // namespace

FolderDataset::FolderDataset(std::string root, std::string split, DatasetDescriptor descriptor)
    : ListedDataset(std::move(descriptor)), root_(std::move(root)) {
  require_directory(root_, "folder dataset root");
  const fs::path images = fs::path(root_) / "images";
  require_directory(images.string(), "folder dataset images directory");
  require_directory((fs::path(root_) / "masks").string(), "folder dataset masks directory");
  const fs::path list = fs::path(root_) / (split + ".txt");
  if (fs::is_regular_file(list) || has_any_list(root_)) {
    ids_ = read_id_list(list.string());  // names the list when only other splits have one
    return;
  }
  for (const auto& e : fs::directory_iterator(images)) {
    const std::string ext = e.path().extension().string();
    if (e.is_regular_file() &&
        std::find(kImageExtensions.begin(), kImageExtensions.end(), ext) != kImageExtensions.end()) {
      ids_.push_back(e.path().stem().string());
    }
  }
  std::sort(ids_.begin(), ids_.end());
  if (ids_.empty()) throw IoError("no .jpg/.jpeg/.png images in " + images.string());
}

std::string FolderDataset::image_path(const std::string& id) const {
  const fs::path base = fs::path(root_) / "images" / id;
  for (const auto& ext : kImageExtensions) {
    fs::path p = base;
    p += ext;
    if (fs::is_regular_file(p)) return p.string();
  }
  return base.string() + ".jpg";  // absent: read_rgb_image names it
}

Sample FolderDataset::get(size_t index) const {
  Sample s;
  s.id = ids_.at(index);
  const std::string image_file = image_path(s.id);
  const std::string label_file = (fs::path(root_) / "masks" / (s.id + ".png")).string();
  s.image = read_rgb_image(image_file);
  s.label = read_label_png(label_file);
  if (s.label.type() != CV_8UC1) throw DataError("mask " + label_file + " must be 8-bit, got 16-bit");
  check_same_size(s.image, image_file, s.label, label_file);
  if (descriptor_.has_label_map) map_labels(s.label, descriptor_.label_map);
  check_label_values(s.label, num_classes(), ignore_label(), label_file);
  return s;
}

}  // namespace deeplab::data
