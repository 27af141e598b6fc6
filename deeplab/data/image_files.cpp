#include "deeplab/data/image_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "deeplab/core/error.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;
namespace {

const std::set<std::string> kImageExtensions = {".jpg", ".jpeg", ".png",  ".bmp", ".ppm",
                                                ".pgm", ".tif",  ".tiff", ".webp"};
const std::set<std::string> kVideoExtensions = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v"};

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// Adds `path` under `name` to the list its extension picks; false for other files.
bool add_file(const fs::path& path, const std::string& name, InputFiles& out) {
  const std::string ext = lower_extension(path);
  if (kImageExtensions.count(ext)) {
    out.images.push_back({path.string(), name});
  } else if (kVideoExtensions.count(ext)) {
    out.videos.push_back({path.string(), name});
  } else {
    return false;
  }
  return true;
}

void add_folder(const fs::path& folder, InputFiles& out) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  size_t added = 0;
  for (const auto& path : files) {
    added += add_file(path, fs::relative(path, folder).replace_extension().generic_string(), out) ? 1 : 0;
  }
  if (added == 0) throw IoError(folder.string() + ": no image or video files in this folder (or below it)");
}

void check_unique_names(const InputFiles& files) {
  std::map<std::string, std::string> seen;
  for (const auto* list : {&files.images, &files.videos}) {
    for (const auto& f : *list) {
      const auto [it, fresh] = seen.emplace(f.name, f.path);
      if (!fresh) {
        throw IoError(f.path + " and " + it->second + " would both write outputs named '" + f.name +
                      "'; predict them in separate runs or --out folders");
      }
    }
  }
}

}  // namespace

InputFiles collect_input_files(const std::vector<std::string>& inputs) {
  InputFiles out;
  for (const auto& input : inputs) {
    const fs::path path(input);
    if (fs::is_directory(path)) {
      add_folder(path, out);
    } else if (fs::is_regular_file(path)) {
      if (!add_file(path, path.stem().string(), out)) {
        throw IoError(input + ": not an image (.jpg .png .bmp .tif .webp ...) or a video (.mp4 .avi .mkv .mov ...)");
      }
    } else {
      throw IoError(input + ": no such file or folder");
    }
  }
  check_unique_names(out);
  return out;
}

ImageFilesDataset::ImageFilesDataset(std::vector<InputFile> files, int num_classes, int ignore_label)
    : files_(std::move(files)), num_classes_(num_classes), ignore_label_(ignore_label) {}

Sample ImageFilesDataset::get(size_t index) const {
  Sample s;
  s.id = id(index);
  s.image = read_rgb_image(files_.at(index).path);
  s.label = cv::Mat(s.image.rows, s.image.cols, CV_8UC1, cv::Scalar(ignore_label_));
  return s;
}

}  // namespace deeplab::data
