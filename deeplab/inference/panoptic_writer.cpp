#include "deeplab/inference/panoptic_writer.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/data/image_writer.h"
#include "deeplab/data/label_writer.h"
#include "deeplab/data/png_io.h"

namespace deeplab::inference {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// COCO's image ids are numbers; Cityscapes' are strings (<city>_<seq>_<frame>).
json image_id_json(const std::string& id) {
  const bool digits = !id.empty() && id.size() < 16 && std::all_of(id.begin(), id.end(), ::isdigit);
  return digits ? json(std::stoll(id)) : json(id);
}

struct Box {
  int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
};

std::vector<Box> boxes_of(const postprocess::PanopticSegmentation& seg, int width) {
  std::vector<Box> boxes(seg.segments.size());
  for (size_t i = 0; i < seg.ids.size(); ++i) {
    if (!seg.ids[i]) continue;
    Box& b = boxes[seg.ids[i] - 1];
    const int x = static_cast<int>(i % static_cast<size_t>(width)),
              y = static_cast<int>(i / static_cast<size_t>(width));
    b.x0 = std::min(b.x0, x), b.x1 = std::max(b.x1, x), b.y0 = std::min(b.y0, y), b.y1 = std::max(b.y1, y);
  }
  return boxes;
}

// Class colours (void: the ignore colour) with white lines where the segment changes.
cv::Mat draw_segments(const postprocess::PanopticSegmentation& seg, const cv::Mat& classes,
                      const data::DatasetDescriptor& d) {
  cv::Mat rgb = data::colorize_label(classes, d);
  const int w = classes.cols, h = classes.rows;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const uint32_t id = seg.ids[static_cast<size_t>(y) * w + x];
      const bool edge = (x + 1 < w && seg.ids[static_cast<size_t>(y) * w + x + 1] != id) ||
                        (y + 1 < h && seg.ids[static_cast<size_t>(y + 1) * w + x] != id);
      if (edge) rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(255, 255, 255);
    }
  }
  return rgb;
}

cv::Mat classes_of(const postprocess::PanopticSegmentation& seg, int height, int width, int void_label) {
  cv::Mat classes(height, width, CV_8UC1);
  for (size_t i = 0; i < seg.ids.size(); ++i) {
    classes.data[i] = static_cast<uint8_t>(seg.ids[i] ? seg.segments[seg.ids[i] - 1].category_id : void_label);
  }
  return classes;
}

}  // namespace

PanopticWriter::PanopticWriter(PanopticWriterOptions options) : options_(std::move(options)) {
  if (!options_.pred_dir.empty()) fs::create_directories(fs::path(options_.pred_dir) / "panoptic");
  if (!options_.vis_dir.empty()) fs::create_directories(options_.vis_dir);
}

int PanopticWriter::output_category(int train_id) const {
  const auto& d = options_.descriptor;
  if (d.has_label_map && d.train_to_raw.size() == 256 && train_id >= 0 && train_id < 256) {
    return d.train_to_raw[static_cast<size_t>(train_id)];
  }
  return train_id;
}

std::string PanopticWriter::json_path() const {
  const std::string name =
      options_.world_size > 1 ? "panoptic.rank" + std::to_string(options_.rank) + ".json" : "panoptic.json";
  return (fs::path(options_.pred_dir) / name).string();
}

void PanopticWriter::write_png(const std::string& id, const postprocess::PanopticSegmentation& prediction, int height,
                               int width) const {
  data::write_png((fs::path(options_.pred_dir) / "panoptic" / (id + ".png")).string(),
                  data::ids_to_rgb(prediction.ids, width, height));
}

void PanopticWriter::write_vis(const std::string& id, const cv::Mat& image, const cv::Mat& label,
                               const postprocess::PanopticSegmentation& gt,
                               const postprocess::PanopticSegmentation& prediction) const {
  const int void_label = options_.descriptor.ignore_label;
  cv::Mat side;
  cv::hconcat(std::vector<cv::Mat>{image, draw_segments(gt, label, options_.descriptor),
                                   draw_segments(prediction, classes_of(prediction, label.rows, label.cols, void_label),
                                                 options_.descriptor)},
              side);
  data::write_rgb_image(side, (fs::path(options_.vis_dir) / (id + ".png")).string());
}

void PanopticWriter::write(const std::string& id, const cv::Mat& image, const cv::Mat& label,
                           const postprocess::PanopticSegmentation& gt,
                           const postprocess::PanopticSegmentation& prediction) {
  if (!options_.pred_dir.empty()) {
    write_png(id, prediction, label.rows, label.cols);
    json segments = json::array();
    const auto boxes = boxes_of(prediction, label.cols);
    for (const auto& s : prediction.segments) {
      const Box& b = boxes[s.id - 1];
      segments.push_back({{"id", s.id},
                          {"category_id", output_category(s.category_id)},
                          {"area", s.area},
                          {"bbox", {b.x0, b.y0, b.x1 - b.x0 + 1, b.y1 - b.y0 + 1}},
                          {"iscrowd", 0}});
    }
    const json annotation = {{"image_id", image_id_json(id)}, {"file_name", id + ".png"}, {"segments_info", segments}};
    const std::lock_guard<std::mutex> lock(mutex_);
    annotations_.emplace_back(id, annotation.dump());
  }
  if (!options_.vis_dir.empty() && visualised_.fetch_add(1) < options_.vis_limit)
    write_vis(id, image, label, gt, prediction);
}

void PanopticWriter::finish() const {
  if (options_.pred_dir.empty()) return;
  std::vector<std::pair<std::string, std::string>> sorted;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    sorted = annotations_;
  }
  std::sort(sorted.begin(), sorted.end());
  json annotations = json::array();
  for (const auto& [id, text] : sorted) annotations.push_back(json::parse(text));
  json categories = json::array();
  for (const auto& c : options_.categories) {
    categories.push_back({{"id", output_category(c.id)}, {"name", c.name}, {"isthing", c.isthing ? 1 : 0}});
  }
  core::write_file_atomic(json_path(), json{{"annotations", annotations}, {"categories", categories}}.dump() + "\n");
}

void merge_panoptic_json_shards(const std::string& pred_dir, int world_size) {
  json merged;
  json annotations = json::array();
  for (int r = 0; r < world_size; ++r) {
    const std::string part = (fs::path(pred_dir) / ("panoptic.rank" + std::to_string(r) + ".json")).string();
    json shard;
    try {
      shard = json::parse(core::read_file(part));
    } catch (const json::exception& e) {
      throw DataError(part + ": not valid JSON (" + e.what() + ")");
    }
    for (auto& a : shard.at("annotations")) annotations.push_back(std::move(a));
    if (r == 0) merged["categories"] = shard.at("categories");
  }
  std::sort(annotations.begin(), annotations.end(),
            [](const json& a, const json& b) { return a.at("file_name") < b.at("file_name"); });
  merged["annotations"] = std::move(annotations);
  core::write_file_atomic((fs::path(pred_dir) / "panoptic.json").string(), merged.dump() + "\n");
  for (int r = 0; r < world_size; ++r) fs::remove(fs::path(pred_dir) / ("panoptic.rank" + std::to_string(r) + ".json"));
}

}  // namespace deeplab::inference
