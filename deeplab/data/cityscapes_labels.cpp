#include "deeplab/data/cityscapes_labels.h"

namespace deeplab::data {

const std::vector<CityscapesLabel>& cityscapes_labels() {
  // name, id, trainId, category, catId, hasInstances, ignoreInEval, colour (facts of labels.py)
  static const std::vector<CityscapesLabel> labels = {
      {"unlabeled", 0, 255, "void", 0, false, true, {0, 0, 0}},
      {"ego vehicle", 1, 255, "void", 0, false, true, {0, 0, 0}},
      {"rectification border", 2, 255, "void", 0, false, true, {0, 0, 0}},
      {"out of roi", 3, 255, "void", 0, false, true, {0, 0, 0}},
      {"static", 4, 255, "void", 0, false, true, {0, 0, 0}},
      {"dynamic", 5, 255, "void", 0, false, true, {111, 74, 0}},
      {"ground", 6, 255, "void", 0, false, true, {81, 0, 81}},
      {"road", 7, 0, "flat", 1, false, false, {128, 64, 128}},
      {"sidewalk", 8, 1, "flat", 1, false, false, {244, 35, 232}},
      {"parking", 9, 255, "flat", 1, false, true, {250, 170, 160}},
      {"rail track", 10, 255, "flat", 1, false, true, {230, 150, 140}},
      {"building", 11, 2, "construction", 2, false, false, {70, 70, 70}},
      {"wall", 12, 3, "construction", 2, false, false, {102, 102, 156}},
      {"fence", 13, 4, "construction", 2, false, false, {190, 153, 153}},
      {"guard rail", 14, 255, "construction", 2, false, true, {180, 165, 180}},
      {"bridge", 15, 255, "construction", 2, false, true, {150, 100, 100}},
      {"tunnel", 16, 255, "construction", 2, false, true, {150, 120, 90}},
      {"pole", 17, 5, "object", 3, false, false, {153, 153, 153}},
      {"polegroup", 18, 255, "object", 3, false, true, {153, 153, 153}},
      {"traffic light", 19, 6, "object", 3, false, false, {250, 170, 30}},
      {"traffic sign", 20, 7, "object", 3, false, false, {220, 220, 0}},
      {"vegetation", 21, 8, "nature", 4, false, false, {107, 142, 35}},
      {"terrain", 22, 9, "nature", 4, false, false, {152, 251, 152}},
      {"sky", 23, 10, "sky", 5, false, false, {70, 130, 180}},
      {"person", 24, 11, "human", 6, true, false, {220, 20, 60}},
      {"rider", 25, 12, "human", 6, true, false, {255, 0, 0}},
      {"car", 26, 13, "vehicle", 7, true, false, {0, 0, 142}},
      {"truck", 27, 14, "vehicle", 7, true, false, {0, 0, 70}},
      {"bus", 28, 15, "vehicle", 7, true, false, {0, 60, 100}},
      {"caravan", 29, 255, "vehicle", 7, true, true, {0, 0, 90}},
      {"trailer", 30, 255, "vehicle", 7, true, true, {0, 0, 110}},
      {"train", 31, 16, "vehicle", 7, true, false, {0, 80, 100}},
      {"motorcycle", 32, 17, "vehicle", 7, true, false, {0, 0, 230}},
      {"bicycle", 33, 18, "vehicle", 7, true, false, {119, 11, 32}},
      {"license plate", -1, -1, "vehicle", 7, false, true, {0, 0, 142}},
  };
  return labels;
}

const CityscapesLabel* cityscapes_label_by_id(int id) {
  for (const auto& label : cityscapes_labels()) {
    if (label.id == id) return &label;
  }
  return nullptr;
}

const CityscapesLabel* cityscapes_label_by_name(const std::string& name) {
  for (const auto& label : cityscapes_labels()) {
    if (name == label.name) return &label;
  }
  return nullptr;
}

const CityscapesLabel* cityscapes_label_by_train_id(int train_id) {
  if (train_id == 255) return &cityscapes_labels().front();
  if (train_id < 0 || train_id >= kCityscapesNumTrainClasses) return nullptr;
  for (const auto& label : cityscapes_labels()) {
    if (label.train_id == train_id) return &label;
  }
  return nullptr;
}

std::array<uint8_t, 256> cityscapes_id_to_train_id() {
  std::array<uint8_t, 256> lut;
  lut.fill(255);
  for (const auto& label : cityscapes_labels()) {
    if (label.id >= 0 && label.train_id >= 0 && label.train_id < 255) {
      lut[static_cast<size_t>(label.id)] = static_cast<uint8_t>(label.train_id);
    }
  }
  return lut;
}

std::array<uint8_t, 256> cityscapes_train_id_to_id() {
  std::array<uint8_t, 256> lut;
  lut.fill(0);
  for (int t = 0; t < kCityscapesNumTrainClasses; ++t) {
    lut[static_cast<size_t>(t)] = static_cast<uint8_t>(cityscapes_label_by_train_id(t)->id);
  }
  return lut;
}

const std::vector<std::string>& cityscapes_categories() {
  static const std::vector<std::string> categories = {"void",   "flat", "construction", "object",
                                                      "nature", "sky",  "human",        "vehicle"};
  return categories;
}

std::vector<int> cityscapes_category_label_ids(const std::string& category) {
  std::vector<int> ids;
  for (const auto& label : cityscapes_labels()) {
    if (label.id >= 0 && category == label.category) ids.push_back(label.id);
  }
  return ids;
}

std::vector<std::string> cityscapes_train_class_names() {
  std::vector<std::string> names;
  for (int t = 0; t < kCityscapesNumTrainClasses; ++t) names.emplace_back(cityscapes_label_by_train_id(t)->name);
  return names;
}

std::vector<std::array<uint8_t, 3>> cityscapes_train_palette() {
  std::vector<std::array<uint8_t, 3>> palette;
  for (int t = 0; t < kCityscapesNumTrainClasses; ++t) palette.push_back(cityscapes_label_by_train_id(t)->color);
  return palette;
}

}  // namespace deeplab::data
