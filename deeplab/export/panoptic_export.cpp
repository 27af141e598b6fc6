#include "deeplab/export/panoptic_export.h"

#include <ATen/core/Dict.h>

#include <sstream>

#include "deeplab/core/error.h"

namespace deeplab::exporting {

namespace {

std::string join(const std::vector<int>& values) {
  std::ostringstream out;
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

const std::string& extra(const ExportMetadata& meta, const std::string& key) {
  const auto it = meta.extra.find(key);
  if (it == meta.extra.end()) throw DataError("export metadata has no '" + key + "': not a panoptic model's export");
  return it->second;
}

}  // namespace

ExportForward export_forward(const models::ModelConfig& config, models::DeepLab model) {
  if (!models::is_panoptic(config)) {
    return [model](const torch::Tensor& x) mutable { return c10::IValue(model->forward(x)); };
  }
  return [model](const torch::Tensor& x) mutable {
    c10::Dict<std::string, at::Tensor> out;
    for (const auto& [name, output] : model->forward_outputs(x, /*training_outputs=*/false))
      out.insert(name, output.value);
    return c10::IValue(out);
  };
}

void add_panoptic_metadata(ExportMetadata& meta, const data::DataConfig& data,
                           const data::DatasetDescriptor& descriptor, bool mask_wise) {
  const data::PanopticDataConfig& p = data.panoptic;
  meta.extra["outputs"] = "semantic (logits), center (heatmap), offset ((dy, dx) pixels); a dict";
  if (mask_wise) {
    meta.extra["outputs"] =
        "semantic (logits), mask_logits [N, slots, h, w] and pixel_embedding [N, E, h, w] at the output stride, "
        "class_logits [N, slots, classes + 1] (void last); a dict";
    const data::MaskPanopticDataConfig& m = p.mask;
    meta.extra["panoptic.mask.mode"] = m.mode;
    meta.extra["panoptic.mask.class_threshold"] = std::to_string(m.class_threshold);
    meta.extra["panoptic.mask.pixel_confidence_threshold"] = std::to_string(m.pixel_confidence_threshold);
    meta.extra["panoptic.mask.class_threshold_thing"] = std::to_string(m.class_threshold_thing);
    meta.extra["panoptic.mask.class_threshold_stuff"] = std::to_string(m.class_threshold_stuff);
    meta.extra["panoptic.mask.overlap_threshold"] = std::to_string(m.overlap_threshold);
    meta.extra["panoptic.mask.thing_area_limit"] = std::to_string(m.thing_area_limit);
    meta.extra["panoptic.mask.stuff_area_limit"] = std::to_string(m.stuff_area_limit);
    meta.extra["panoptic.mask.reorder_class_weight"] = std::to_string(m.reorder_class_weight);
    meta.extra["panoptic.mask.reorder_mask_weight"] = std::to_string(m.reorder_mask_weight);
  }
  meta.extra["panoptic.thing_ids"] = join(descriptor.things);
  meta.extra["panoptic.label_divisor"] = std::to_string(p.label_divisor);
  meta.extra["panoptic.center_threshold"] = std::to_string(p.center_threshold);
  meta.extra["panoptic.nms_kernel"] = std::to_string(p.nms_kernel);
  meta.extra["panoptic.top_k"] = std::to_string(p.top_k);
  meta.extra["panoptic.stuff_area"] = std::to_string(p.stuff_area);
  if (descriptor.has_label_map && descriptor.train_to_raw.size() == 256) {
    // The dataset's own ids (Cityscapes: 24 person, 26 car ...) that saved
    // panoptic files and COCO JSON use, by train id.
    std::vector<int> raw_ids;
    for (int id = 0; id < descriptor.num_classes(); ++id)
      raw_ids.push_back(descriptor.train_to_raw[static_cast<size_t>(id)]);
    meta.extra["panoptic.category_ids"] = join(raw_ids);
  }
}

void apply_panoptic_category_ids(const ExportMetadata& meta, data::DatasetDescriptor& descriptor) {
  const auto it = meta.extra.find("panoptic.category_ids");
  if (it == meta.extra.end()) return;  // train ids are the category ids
  std::vector<int> raw_ids;
  try {
    std::stringstream ids(it->second);
    for (std::string id; std::getline(ids, id, ',');) raw_ids.push_back(std::stoi(id));
  } catch (const std::logic_error&) {
    throw DataError("export metadata: panoptic.category_ids is not a list of numbers: '" + it->second + "'");
  }
  if (static_cast<int>(raw_ids.size()) != descriptor.num_classes()) {
    throw DataError("export metadata: panoptic.category_ids has " + std::to_string(raw_ids.size()) + " ids for " +
                    std::to_string(descriptor.num_classes()) + " classes");
  }
  descriptor.train_to_raw.assign(256, 0);
  for (size_t id = 0; id < raw_ids.size(); ++id) {
    if (raw_ids[id] < 0 || raw_ids[id] > 255) {
      throw DataError("export metadata: panoptic.category_ids holds " + std::to_string(raw_ids[id]) +
                      ", outside 0-255");
    }
    descriptor.train_to_raw[id] = static_cast<uint8_t>(raw_ids[id]);
  }
  descriptor.has_label_map = true;
}

postprocess::PanopticOptions panoptic_options_from_metadata(const ExportMetadata& meta) {
  postprocess::PanopticOptions o;
  try {
    o.thing_ids.clear();
    std::stringstream ids(extra(meta, "panoptic.thing_ids"));
    for (std::string id; std::getline(ids, id, ',');) o.thing_ids.push_back(std::stoi(id));
    o.label_divisor = std::stoi(extra(meta, "panoptic.label_divisor"));
    o.center_threshold = std::stod(extra(meta, "panoptic.center_threshold"));
    o.nms_kernel = std::stoi(extra(meta, "panoptic.nms_kernel"));
    o.top_k = std::stoi(extra(meta, "panoptic.top_k"));
    o.stuff_area = std::stoll(extra(meta, "panoptic.stuff_area"));
    if (meta.extra.count("panoptic.mask.pixel_confidence_threshold")) {
      postprocess::MaskPanopticOptions m;
      m.thing_ids = o.thing_ids;
      m.label_divisor = o.label_divisor;
      // Exports older than pixel-wise merging carry no mode: mask-wise.
      if (meta.extra.count("panoptic.mask.mode")) m.mode = extra(meta, "panoptic.mask.mode");
      if (m.mode != "maskwise" && m.mode != "pixelwise") {
        throw DataError("export metadata: panoptic.mask.mode '" + m.mode + "'; expected maskwise or pixelwise");
      }
      if (meta.extra.count("panoptic.mask.class_threshold")) {
        m.class_threshold = std::stod(extra(meta, "panoptic.mask.class_threshold"));
      }
      m.pixel_confidence_threshold = std::stod(extra(meta, "panoptic.mask.pixel_confidence_threshold"));
      m.class_threshold_thing = std::stod(extra(meta, "panoptic.mask.class_threshold_thing"));
      m.class_threshold_stuff = std::stod(extra(meta, "panoptic.mask.class_threshold_stuff"));
      m.overlap_threshold = std::stod(extra(meta, "panoptic.mask.overlap_threshold"));
      m.thing_area_limit = std::stoll(extra(meta, "panoptic.mask.thing_area_limit"));
      m.stuff_area_limit = std::stoll(extra(meta, "panoptic.mask.stuff_area_limit"));
      m.reorder_class_weight = std::stod(extra(meta, "panoptic.mask.reorder_class_weight"));
      m.reorder_mask_weight = std::stod(extra(meta, "panoptic.mask.reorder_mask_weight"));
      o.mask_wise = m;
    }
  } catch (const std::logic_error& e) {  // stoi & co.
    throw DataError(std::string("export metadata: a panoptic.* value is not a number (") + e.what() + ")");
  }
  return o;
}

}  // namespace deeplab::exporting
