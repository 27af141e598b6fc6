#include "deeplab/data/cityscapes_panoptic.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <map>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/cityscapes_labels.h"
#include "deeplab/data/png_io.h"

namespace deeplab::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kInstanceSuffix = "_gtFine_instanceIds.png";

std::vector<std::string> find_instance_files(const std::string& root, const std::string& split) {
  const fs::path dir = fs::path(root) / "gtFine" / split;
  std::vector<std::string> files;
  if (fs::is_directory(dir)) {
    for (const auto& city : fs::directory_iterator(dir)) {
      if (!city.is_directory()) continue;
      for (const auto& f : fs::directory_iterator(city.path())) {
        const std::string name = f.path().filename().string();
        if (name.size() > kInstanceSuffix.size() &&
            name.compare(name.size() - kInstanceSuffix.size(), kInstanceSuffix.size(), kInstanceSuffix) == 0) {
          files.push_back(f.path().string());
        }
      }
    }
  }
  if (files.empty()) throw DataError("no files match '" + (dir / "*" / ("*" + kInstanceSuffix)).string() + "'");
  std::sort(files.begin(), files.end());
  return files;
}

json categories_json(bool use_train_ids) {
  json categories = json::array();
  for (const auto& label : data::cityscapes_labels()) {
    if (label.ignore_in_eval) continue;
    categories.push_back({{"id", use_train_ids ? label.train_id : label.id},
                          {"name", label.name},
                          {"color", {label.color[0], label.color[1], label.color[2]}},
                          {"supercategory", label.category},
                          {"isthing", label.has_instances ? 1 : 0}});
  }
  return categories;
}

struct SegmentStats {
  int64_t area = 0;
  int x0 = 0, y0 = 0, x1 = -1, y1 = -1;
};

// One pass over the image: area and bounding box of every raw value.
std::map<uint32_t, SegmentStats> segment_stats(const std::vector<uint32_t>& values, int width) {
  std::map<uint32_t, SegmentStats> stats;
  SegmentStats* current = nullptr;  // runs of equal values skip the map lookup
  uint32_t current_value = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const int x = static_cast<int>(i % static_cast<size_t>(width));
    const int y = static_cast<int>(i / static_cast<size_t>(width));
    if (!current || values[i] != current_value) {
      current = &stats[values[i]];
      current_value = values[i];
    }
    SegmentStats& s = *current;
    if (s.area++ == 0) {
      s.x0 = s.x1 = x;
      s.y0 = s.y1 = y;
    }
    s.x0 = std::min(s.x0, x);
    s.x1 = std::max(s.x1, x);
    s.y0 = std::min(s.y0, y);
    s.y1 = std::max(s.y1, y);
  }
  return stats;
}

// Converts one image: writes its panoptic PNG and returns its annotation entry.
json convert_image(const std::string& path, const std::string& png_dir, bool use_train_ids, json* image_entry) {
  const data::PngImage png = data::read_png(path);
  std::vector<uint32_t> ids = data::png_to_ids(png, path);
  const std::string name = fs::path(path).filename().string();
  const std::string stem = name.substr(0, name.size() - kInstanceSuffix.size());
  const std::string output_name = stem + "_gtFine_panoptic.png";
  *image_entry = {
      {"id", stem}, {"width", png.width}, {"height", png.height}, {"file_name", stem + "_gtFine_leftImg8bit.png"}};
  json segments = json::array();
  std::map<uint32_t, bool> keep;  // raw value -> not VOID
  for (const auto& [value, s] : segment_stats(ids, png.width)) {
    const bool instance = value >= 1000;
    const int label_id = static_cast<int>(instance ? value / 1000 : value);
    const data::CityscapesLabel* label = data::cityscapes_label_by_id(label_id);
    if (!label) {
      throw DataError("'" + path + "': value " + std::to_string(value) + " names label id " + std::to_string(label_id) +
                      ", which is not a Cityscapes label");
    }
    keep[value] = !label->ignore_in_eval;
    if (label->ignore_in_eval) continue;
    segments.push_back({{"id", value},
                        {"category_id", use_train_ids ? label->train_id : label->id},
                        {"area", s.area},
                        {"bbox", {s.x0, s.y0, s.x1 - s.x0 + 1, s.y1 - s.y0 + 1}},
                        {"iscrowd", !instance && label->has_instances ? 1 : 0}});
  }
  for (const auto& [value, kept] : keep) {
    if (kept) continue;
    std::replace(ids.begin(), ids.end(), value, 0u);  // ignored labels are VOID
  }
  data::write_png((fs::path(png_dir) / output_name).string(), data::ids_to_rgb(ids, png.width, png.height));
  return {{"image_id", stem}, {"file_name", output_name}, {"segments_info", segments}};
}

}  // namespace

CityscapesPanopticSummary convert_cityscapes_panoptic(const std::string& root, const std::string& split,
                                                      const std::string& output_dir, bool use_train_ids) {
  const std::vector<std::string> files = find_instance_files(root, split);
  const fs::path out = output_dir.empty() ? fs::path(root) / "gtFine" : fs::path(output_dir);
  const std::string base = "cityscapes_panoptic_" + split + (use_train_ids ? "_trainId" : "");
  CityscapesPanopticSummary summary;
  summary.json_path = (out / (base + ".json")).string();
  summary.png_dir = (out / base).string();
  std::error_code ec;
  fs::create_directories(summary.png_dir, ec);
  if (ec) throw IoError("cannot create '" + summary.png_dir + "': " + ec.message());

  json images = json::array();
  json annotations = json::array();
  for (const auto& file : files) {
    json image;
    annotations.push_back(convert_image(file, summary.png_dir, use_train_ids, &image));
    images.push_back(image);
    summary.segments += static_cast<int>(annotations.back()["segments_info"].size());
  }
  summary.images = static_cast<int>(files.size());
  const json root_json = {
      {"images", images}, {"annotations", annotations}, {"categories", categories_json(use_train_ids)}};
  core::write_file_atomic(summary.json_path, root_json.dump(4));
  return summary;
}

}  // namespace deeplab::data
