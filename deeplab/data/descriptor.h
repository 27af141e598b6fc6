#pragma once
// Dataset descriptors: class names, palette, label map, ignore label and
// things/stuff, read from the YAML files in `datasets/` -- the one place the
// loaders, the generator and the visualisers take them from.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace deeplab::data {

using Rgb = std::array<uint8_t, 3>;

/// What a dataset's labels mean.
struct DatasetDescriptor {
  std::string name;
  std::string source;                // file it was read from (for messages)
  std::vector<std::string> classes;  // by train id
  std::vector<Rgb> palette;          // by train id
  int ignore_label = 255;
  std::vector<int> things;  // train ids of countable classes
  /// raw label value -> train id (256 entries); identity when the YAML has no label_map.
  std::vector<uint8_t> label_map;
  bool has_label_map = false;
  /// How predictions are saved for the dataset's official tools (`submission:`):
  /// "palette" (palette PNG of train ids, VOC devkit) or "label_ids" (8-bit PNGs
  /// of raw label ids, the inverse of label_map, in <city>/<id>_labelIds.png as
  /// the Cityscapes benchmark reads them).
  std::string submission_format = "palette";
  /// Colours of saved palette PNGs: `submission.palette: voc` gives the
  /// devkit's full 256-entry map (as VOC ground truth carries); default: `palette`.
  std::vector<Rgb> submission_palette;
  /// train id -> raw label id for label_ids submissions (256 entries).
  std::vector<uint8_t> train_to_raw;
  /// PASCAL-Context (`context_459_ids:`): the 459-class label id of each
  /// train id, whose labels are too wide for label_map; 0 marks the class
  /// that collects every id not listed (background).  Empty elsewhere.
  std::vector<int> context_459_ids;

  int num_classes() const { return static_cast<int>(classes.size()); }
  /// Palette colour of a train id; the ignore label (and anything unknown) is white.
  Rgb color(int train_id) const;
};

/// Parses a descriptor file; throws IoError/ConfigError naming the file and key.
DatasetDescriptor load_descriptor(const std::string& path);

/// `configured` when set (a relative path missing from the working directory
/// is looked up in the source tree too), else `datasets/<dataset>.yaml` looked
/// up in the working directory and then the source tree; throws IoError
/// listing the places tried.
std::string resolve_descriptor_path(const std::string& configured, const std::string& dataset);

/// The PASCAL VOC colour map (the devkit's bit-interleaving rule), 256 entries.
std::vector<Rgb> voc_colormap();

}  // namespace deeplab::data
