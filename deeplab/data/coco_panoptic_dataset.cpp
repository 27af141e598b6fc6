#include "deeplab/data/coco_panoptic_dataset.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <unordered_map>

#include "deeplab/core/error.h"
#include "deeplab/core/json_fields.h"
#include "deeplab/data/png_io.h"
#include "deeplab/data/sample_io.h"

namespace deeplab::data {
namespace fs = std::filesystem;

namespace {

using nlohmann::json;

// The canonical encoding gives each thing class 1000 values (see the header).
constexpr int kInstancesPerClass = 1000;

// eval/coco_panoptic.cpp reads the same JSON for scoring, but the data layer
// may not include eval, and a loader needs train ids and instance values
// rather than raw segments, so the few lines of parsing live here too (the
// typed fields and their errors are shared: core/json_fields.h).
using core::json_field;
using core::json_field_or;
using core::json_member;

std::string id_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

// Parsed from the stream: panoptic_train2017.json is large, and a copy of its
// whole text held beside the parsed tree would add to the peak memory.
json parse_json_file(const std::string& path) {
  if (!fs::is_regular_file(path)) throw IoError("COCO panoptic JSON not found: " + path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "'");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw IoError("'" + path + "' is not valid JSON: " + e.what());
  }
}

// What the descriptor says about train ids, looked up per segment.
struct ClassTable {
  const DatasetDescriptor& d;
  std::vector<bool> is_thing;

  explicit ClassTable(const DatasetDescriptor& descriptor)
      : d(descriptor), is_thing(static_cast<size_t>(descriptor.num_classes()), false) {
    for (int t : d.things) is_thing[static_cast<size_t>(t)] = true;
  }
  /// The train id of a category, or -1 when the label_map does not list it.
  int train_id(int category_id) const {
    if (category_id < 0 || category_id > 255) return -1;
    const int t = d.label_map[static_cast<size_t>(category_id)];
    return t == d.ignore_label ? -1 : t;
  }
};

// A descriptor whose things disagree with the JSON's isthing would give stuff
// instance centres (or things none) without any other symptom.
void check_isthing(const json& root, const ClassTable& table, const std::string& path) {
  if (!root.contains("categories")) return;
  for (const json& c : root.at("categories")) {
    const int category = json_field<int>(c, "id", "'" + path + "' categories");
    const int t = table.train_id(category);
    if (t < 0 || !c.contains("isthing")) continue;
    const bool thing =
        json_field<int>(c, "isthing", "'" + path + "' categories (id " + std::to_string(category) + ")") == 1;
    if (thing != table.is_thing[static_cast<size_t>(t)]) {
      throw DataError("'" + path + "': category_id " + std::to_string(category) + " has isthing " +
                      std::to_string(thing) + " but train id " + std::to_string(t) + " of descriptor " +
                      table.d.source + (thing ? " is not" : " is") + " listed in 'things'");
    }
  }
}

// image_id (as text) -> images[].file_name.
std::map<std::string, std::string> image_files(const json& root, const std::string& path) {
  std::map<std::string, std::string> files;
  if (!root.contains("images")) return files;
  for (const json& im : root.at("images")) {
    const std::string where = "'" + path + "' images";
    files[id_text(json_member(im, "id", where))] = json_field<std::string>(im, "file_name", where);
  }
  return files;
}

CocoSegment read_segment(const json& j, const ClassTable& table, std::vector<int>& next_k, const std::string& where) {
  CocoSegment s;
  s.id = json_field<uint32_t>(j, "id", where);
  const int category = json_field<int>(j, "category_id", where);
  const int t = table.train_id(category);
  if (t < 0) {
    throw DataError(where + ": segment " + std::to_string(s.id) + " has category_id " + std::to_string(category) +
                    ", which the label_map of descriptor " + table.d.source + " does not map to a train id");
  }
  s.train_id = static_cast<uint8_t>(t);
  const bool crowd = json_field_or<int>(j, "iscrowd", 0, where) == 1;
  if (table.is_thing[static_cast<size_t>(t)] && !crowd) {
    const int k = next_k[static_cast<size_t>(t)]++;
    if (k >= kInstancesPerClass) {
      throw DataError(where + ": more than " + std::to_string(kInstancesPerClass) + " instances of category_id " +
                      std::to_string(category));
    }
    s.instance = kInstancesPerClass * (t + 1) + k;
  }
  return s;
}

CocoImage read_annotation(const json& a, const ClassTable& table, const std::map<std::string, std::string>& files,
                          const std::string& path, size_t index) {
  CocoImage im;
  const std::string annotation = "'" + path + "' annotations[" + std::to_string(index) + "]";
  im.image_id = id_text(json_member(a, "image_id", annotation));
  const std::string where = annotation + " (image_id " + im.image_id + ")";
  im.png_file = json_field<std::string>(a, "file_name", where);
  im.id = fs::path(im.png_file).stem().string();
  const auto file = files.find(im.image_id);
  im.image_file = file != files.end() ? file->second : im.id + ".jpg";
  std::vector<int> next_k(static_cast<size_t>(table.d.num_classes()), 0);
  const json& segments = json_member(a, "segments_info", where);
  for (size_t i = 0; i < segments.size(); ++i) {
    im.segments.push_back(
        read_segment(segments[i], table, next_k, where + " segments_info[" + std::to_string(i) + "]"));
    for (size_t i = 0; i + 1 < im.segments.size(); ++i) {
      if (im.segments[i].id == im.segments.back().id) {
        throw DataError(where + ": segment id " + std::to_string(im.segments.back().id) + " is listed twice");
      }
    }
  }
  return im;
}

}  // namespace

CocoPanopticDataset::CocoPanopticDataset(std::string json_path, std::string png_dir, std::string image_dir,
                                         DatasetDescriptor descriptor)
    : json_path_(std::move(json_path)),
      png_dir_(std::move(png_dir)),
      image_dir_(std::move(image_dir)),
      descriptor_(std::move(descriptor)) {
  // Without a label_map the sparse category ids (1..200) would pass as train ids.
  if (!descriptor_.has_label_map) {
    throw ConfigError("descriptor " + descriptor_.source + " has no label_map (COCO category_id -> train id)");
  }
  require_directory(png_dir_, "COCO panoptic PNG directory");
  require_directory(image_dir_, "COCO image directory");
  const json root = parse_json_file(json_path_);
  const ClassTable table(descriptor_);
  try {
    check_isthing(root, table, json_path_);
    const auto files = image_files(root, json_path_);
    const json& annotations = json_member(root, "annotations", "'" + json_path_ + "'");
    for (size_t i = 0; i < annotations.size(); ++i) {
      images_.push_back(read_annotation(annotations[i], table, files, json_path_, i));
    }
  } catch (const json::exception& e) {
    throw IoError("'" + json_path_ + "': malformed COCO panoptic JSON: " + e.what());
  }
  if (images_.empty()) throw IoError("'" + json_path_ + "' has no annotations");
}

std::string CocoPanopticDataset::image_path(size_t index) const {
  return (fs::path(image_dir_) / images_.at(index).image_file).string();
}

std::string CocoPanopticDataset::png_path(size_t index) const {
  return (fs::path(png_dir_) / images_.at(index).png_file).string();
}

Sample CocoPanopticDataset::get(size_t index) const {
  const CocoImage& im = images_.at(index);
  Sample s;
  s.id = im.id;
  const std::string image_file = image_path(index), png_file = png_path(index);
  s.image = read_rgb_image(image_file);
  const PngImage png = read_png(png_file);
  const std::vector<uint32_t> ids = png_to_ids(png, png_file);
  s.label.create(png.height, png.width, CV_8UC1);
  s.instances.create(png.height, png.width, CV_32SC1);
  check_same_size(s.image, image_file, s.label, png_file);

  std::unordered_map<uint32_t, const CocoSegment*> by_id;
  for (const CocoSegment& seg : im.segments) by_id[seg.id] = &seg;
  const auto ignore = static_cast<uint8_t>(descriptor_.ignore_label);
  for (int y = 0; y < png.height; ++y) {
    uint8_t* label = s.label.ptr<uint8_t>(y);
    int32_t* inst = s.instances.ptr<int32_t>(y);
    for (int x = 0; x < png.width; ++x) {
      const uint32_t id = ids[static_cast<size_t>(y) * static_cast<size_t>(png.width) + static_cast<size_t>(x)];
      if (id == 0) {  // VOID: unlabelled, or a segment panopticapi dropped
        label[x] = ignore;
        inst[x] = 0;
        continue;
      }
      const auto it = by_id.find(id);
      if (it == by_id.end()) {
        throw DataError("'" + png_file + "' holds segment id " + std::to_string(id) + " (pixel x=" + std::to_string(x) +
                        ", y=" + std::to_string(y) + ") that segments_info of image_id " + im.image_id + " in '" +
                        json_path_ + "' does not list");
      }
      label[x] = it->second->train_id;
      inst[x] = it->second->instance;
    }
  }
  return s;
}

CocoPanopticDataset make_coco_panoptic(const std::string& root, const std::string& split,
                                       DatasetDescriptor descriptor) {
  require_directory(root, "COCO root");
  const fs::path annotations = fs::path(root) / "annotations";
  return CocoPanopticDataset((annotations / ("panoptic_" + split + ".json")).string(),
                             (annotations / ("panoptic_" + split)).string(), (fs::path(root) / split).string(),
                             std::move(descriptor));
}

}  // namespace deeplab::data
