#pragma once
// Datasets laid out as a folder of photos beside a folder of 8-bit
// annotation PNGs with the same stems, whose raw values the descriptor's
// label_map turns into train ids: ADE20K (SceneParsing 150) and COCO-Stuff 164k.

#include <string>
#include <vector>

#include "deeplab/data/dataset.h"
#include "deeplab/data/descriptor.h"

namespace deeplab::data {

/// Where one split's files are, and which raw annotation values exist.
struct SceneParsingLayout {
  std::string name;       // "ADE20K", for messages
  std::string image_dir;  // <root>/images/training
  std::string label_dir;  // <root>/annotations/training
  std::string image_ext;  // ".jpg"
  int max_raw_id = 255;   // raw values above this are out of range ...
  int extra_raw_id = -1;  // ... except this one (COCO-Stuff's 255 "unlabeled")
};

/// ADE20K SceneParsing (`ADEChallengeData2016`): images/<split>/*.jpg and
/// annotations/<split>/*.png, split `training` or `validation`; value 0 is
/// "other" (ignored) and 1..150 are the classes.
SceneParsingLayout ade20k_layout(const std::string& root, const std::string& split);

/// COCO-Stuff 164k: images/<split>/*.jpg and
/// stuffthingmaps_trainval2017/<split>/*.png, split `train2017` or `val2017`;
/// values are COCO category ids minus 1 (0..181), 255 unlabeled.
SceneParsingLayout coco_stuff_layout(const std::string& root, const std::string& split);

/// Every image of `layout.image_dir` (sorted by name) with its annotation.
/// IoError naming the file: a missing directory, an image without its
/// annotation; DataError naming the file: a raw value out of range.
class SceneParsingDataset : public ListedDataset {
 public:
  SceneParsingDataset(SceneParsingLayout layout, DatasetDescriptor descriptor);

  Sample get(size_t index) const override;

  std::string image_path(const std::string& id) const;
  std::string label_path(const std::string& id) const;

 private:
  void check_raw_values(const cv::Mat& raw, const std::string& path) const;

  SceneParsingLayout layout_;
};

}  // namespace deeplab::data
