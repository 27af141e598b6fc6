#pragma once
// The official Cityscapes label table (cityscapesScripts `labels.py`) as
// compiled-in data: 34 labels with ids 0..33 plus `license plate` (id -1),
// each with its train id, category, instance flag, evaluation flag and colour.
//
// Ids are what `*_gtFine_labelIds.png` stores and what the benchmark expects in
// predictions; train ids (0..18, 255 = ignore) are what models are trained on.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace deeplab::data {

/// One row of the Cityscapes label table.
struct CityscapesLabel {
  const char* name;
  int id;        // value in *_labelIds.png; -1 for license plate
  int train_id;  // 0..18, or 255 (ignored in training), -1 for license plate
  const char* category;
  int category_id;     // 0 void, 1 flat, 2 construction, 3 object, 4 nature, 5 sky, 6 human, 7 vehicle
  bool has_instances;  // *_instanceIds.png holds id*1000+k for its instances
  bool ignore_in_eval;
  std::array<uint8_t, 3> color;
};

/// Number of classes with a train id (the 19 evaluated classes).
constexpr int kCityscapesNumTrainClasses = 19;
/// Largest label id (33, bicycle); ids run 0..33.
constexpr int kCityscapesMaxLabelId = 33;

/// All 35 labels in the official order (ids 0..33, then license plate).
const std::vector<CityscapesLabel>& cityscapes_labels();

/// The label with this id (-1..33); nullptr when there is none.
const CityscapesLabel* cityscapes_label_by_id(int id);
/// The label with this name; nullptr when there is none.
const CityscapesLabel* cityscapes_label_by_name(const std::string& name);
/// The label of a train id 0..18; 255 gives `unlabeled` (as labels.py's reversed
/// `trainId2label` does); nullptr for others.
const CityscapesLabel* cityscapes_label_by_train_id(int train_id);

/// Lookup table label id (0..255) -> train id, 255 for ignored and unknown ids.
std::array<uint8_t, 256> cityscapes_id_to_train_id();
/// Lookup table train id (0..255) -> label id: 0..18 map to their class, every other value to 0 (`unlabeled`).
std::array<uint8_t, 256> cityscapes_train_id_to_id();

/// The 8 category names indexed by category id (`void` first).
const std::vector<std::string>& cityscapes_categories();
/// Ids (>= 0) of the labels of one category, in table order.
std::vector<int> cityscapes_category_label_ids(const std::string& category);

/// The 19 training classes: names and colours indexed by train id.
std::vector<std::string> cityscapes_train_class_names();
std::vector<std::array<uint8_t, 3>> cityscapes_train_palette();

}  // namespace deeplab::data
