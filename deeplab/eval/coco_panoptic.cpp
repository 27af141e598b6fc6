#include "deeplab/eval/coco_panoptic.h"

#include <nlohmann/json.hpp>

#include <map>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/json_fields.h"
#include "deeplab/data/png_io.h"

namespace deeplab::eval {
namespace {

using nlohmann::json;

using core::json_field;
using core::json_field_or;
using core::json_member;

std::string id_text(const json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

postprocess::PanopticSegment read_segment(const json& j, const std::string& where) {
  postprocess::PanopticSegment s;
  s.id = json_field<uint32_t>(j, "id", where);
  s.category_id = json_field<int>(j, "category_id", where);
  // Predictions need no area or iscrowd: areas are recounted from their PNG.
  s.area = json_field_or<int64_t>(j, "area", 0, where);
  s.iscrowd = json_field_or<int>(j, "iscrowd", 0, where) == 1;
  return s;
}

PanopticAnnotation read_annotation(const json& j, const std::string& where) {
  PanopticAnnotation a;
  a.image_id = id_text(json_member(j, "image_id", where));
  const std::string here = where + " (image_id " + a.image_id + ")";
  a.file_name = json_field<std::string>(j, "file_name", here);
  const json& segments = core::json_array(j, "segments_info", here);
  for (size_t i = 0; i < segments.size(); ++i) {
    a.segments.push_back(read_segment(segments[i], here + " segments_info[" + std::to_string(i) + "]"));
  }
  return a;
}

}  // namespace

PanopticJson read_panoptic_json(const std::string& path) {
  json root;
  try {
    root = json::parse(core::read_file(path));
  } catch (const json::exception& e) {
    throw IoError("'" + path + "' is not valid JSON: " + e.what());
  }
  PanopticJson out;
  try {
    if (root.is_object() && root.contains("categories")) {
      const json& categories = core::json_array(root, "categories", "'" + path + "'");
      for (size_t i = 0; i < categories.size(); ++i) {
        const std::string where = "'" + path + "' categories[" + std::to_string(i) + "]";
        postprocess::PanopticCategory category;
        category.id = json_field<int>(categories[i], "id", where);
        category.name = json_field_or<std::string>(categories[i], "name", std::to_string(category.id), where);
        category.isthing = json_field_or<int>(categories[i], "isthing", 0, where) == 1;
        out.categories.push_back(category);
      }
    }
    const json& annotations = core::json_array(root, "annotations", "'" + path + "'");
    for (size_t i = 0; i < annotations.size(); ++i) {
      out.annotations.push_back(
          read_annotation(annotations[i], "'" + path + "' annotations[" + std::to_string(i) + "]"));
    }
  } catch (const json::exception& e) {
    throw IoError("'" + path + "': malformed COCO panoptic JSON: " + e.what());
  }
  return out;
}

namespace {

struct IdImage {
  std::vector<uint32_t> ids;
  int width = 0;
  int height = 0;
};

IdImage read_ids(const std::string& path) {
  const data::PngImage png = data::read_png(path);
  return {data::png_to_ids(png, path), png.width, png.height};
}

}  // namespace

PanopticQuality evaluate_coco_panoptic(const std::string& gt_json, const std::string& gt_dir,
                                       const std::string& pred_json, const std::string& pred_dir) {
  const PanopticJson gt = read_panoptic_json(gt_json);
  const PanopticJson pred = read_panoptic_json(pred_json);
  if (gt.categories.empty()) throw IoError("'" + gt_json + "' has no categories");
  std::map<std::string, const PanopticAnnotation*> pred_by_image;
  for (const auto& a : pred.annotations) pred_by_image[a.image_id] = &a;

  PanopticQuality pq(gt.categories);
  for (const auto& gt_ann : gt.annotations) {
    auto it = pred_by_image.find(gt_ann.image_id);
    if (it == pred_by_image.end()) {
      throw DataError("'" + pred_json + "' has no prediction for image_id " + gt_ann.image_id);
    }
    const std::string gt_png = gt_dir + "/" + gt_ann.file_name;
    const std::string pred_png = pred_dir + "/" + it->second->file_name;
    const IdImage g = read_ids(gt_png);
    const IdImage p = read_ids(pred_png);
    if (g.width != p.width || g.height != p.height) {
      throw DataError("image " + gt_ann.image_id + ": prediction '" + pred_png + "' is " + std::to_string(p.width) +
                      "x" + std::to_string(p.height) + " but ground truth '" + gt_png + "' is " +
                      std::to_string(g.width) + "x" + std::to_string(g.height));
    }
    pq.add(g.ids.data(), gt_ann.segments, p.ids.data(), it->second->segments, g.ids.size(), gt_ann.image_id);
  }
  return pq;
}

}  // namespace deeplab::eval
