#pragma once
// COCO panoptic annotations: a JSON file (`annotations[].segments_info`) beside
// a folder of PNGs whose pixels hold segment ids as R + 256 G + 256^2 B.
//
// Samples carry the project's canonical instance encoding (the Cityscapes
// instanceIds rule, so panoptic targets treat both datasets alike):
//   - a non-crowd segment of a thing class (descriptor `things`) gets
//     1000 * (train_id + 1) + k, k = 0, 1, ... per class in segments_info order;
//   - stuff, crowd segments and VOID get 0 (< 1000): a thing pixel whose
//     instance value is < 1000 is a crowd region.
// label = descriptor label_map[category_id] (COCO's sparse ids -> train ids
// 0..132); VOID pixels (segment id 0) get the ignore label.

#include <cstdint>
#include <string>
#include <vector>

#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// One segment of an image as `get` needs it.
struct CocoSegment {
  uint32_t id = 0;  // the PNG's R + 256 G + 256^2 B
  uint8_t train_id = 0;
  int32_t instance = 0;  // the canonical instance value (see above)
};

/// One annotated image: its files and segments.
struct CocoImage {
  std::string id;          // file_name stem, e.g. "000000142238"
  std::string image_id;    // the JSON's image_id as text (for messages)
  std::string png_file;    // annotation file_name
  std::string image_file;  // images[].file_name, or <stem>.jpg without an images entry
  std::vector<CocoSegment> segments;
};

/// COCO panoptic annotations in the order of the JSON's `annotations`.
class CocoPanopticDataset : public Dataset {
 public:
  /// Parses `json_path` and checks every category id against the descriptor's
  /// label_map (required) and `things` against the JSON's `isthing`; PNGs are
  /// in `png_dir`, images in `image_dir`.
  CocoPanopticDataset(std::string json_path, std::string png_dir, std::string image_dir, DatasetDescriptor descriptor);

  size_t size() const override { return images_.size(); }
  /// Errors name the PNG and the segment id it holds that segments_info lacks.
  Sample get(size_t index) const override;
  std::string id(size_t index) const override { return images_.at(index).id; }
  int num_classes() const override { return descriptor_.num_classes(); }
  int ignore_label() const override { return descriptor_.ignore_label; }

  std::string image_path(size_t index) const;
  std::string png_path(size_t index) const;
  const CocoImage& image(size_t index) const { return images_.at(index); }

 private:
  std::string json_path_, png_dir_, image_dir_;
  DatasetDescriptor descriptor_;
  std::vector<CocoImage> images_;
};

/// The official layout under `root`: annotations/panoptic_<split>.json,
/// annotations/panoptic_<split>/*.png and <split>/*.jpg (split e.g. val2017).
CocoPanopticDataset make_coco_panoptic(const std::string& root, const std::string& split, DatasetDescriptor descriptor);

}  // namespace deeplab::data
