#pragma once
// What `deeplab eval --save-pred / --save-vis` writes for a panoptic model:
//   <pred_dir>/panoptic/<id>.png   segment ids as R + 256 G + 256^2 B (COCO panoptic)
//   <pred_dir>/panoptic.json       annotations (image_id = the sample id, a number when it is
//                                  all digits as COCO's are) and categories; category ids are the
//                                  dataset's raw ids (Cityscapes labelIds, COCO category ids)
//                                  when its descriptor has a label_map, else train ids
//   <vis_dir>/<id>.png             image | ground truth | prediction, class colours with white
//                                  instance outlines
// so that `deeplab eval-panoptic` and panopticapi / cityscapesScripts score
// the files to the numbers of the in-memory evaluation.

#include <opencv2/core.hpp>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "deeplab/data/descriptor.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::inference {

struct PanopticWriterOptions {
  std::string pred_dir, vis_dir;  // empty: that output is off
  data::DatasetDescriptor descriptor;
  std::vector<postprocess::PanopticCategory> categories;  // ids = train ids
  size_t vis_limit = static_cast<size_t>(-1);
  int rank = 0, world_size = 1;  // a shard writes panoptic.rank<r>.json
};

class PanopticWriter {
 public:
  explicit PanopticWriter(PanopticWriterOptions options);
  bool active() const { return !options_.pred_dir.empty() || !options_.vis_dir.empty(); }
  /// One image: its RGB image, train-id label (CV_8UC1), ground-truth and
  /// predicted segments (category ids = train ids).  Safe from several threads.
  void write(const std::string& id, const cv::Mat& image, const cv::Mat& label,
             const postprocess::PanopticSegmentation& gt, const postprocess::PanopticSegmentation& prediction);
  /// Writes the JSON of everything written (atomically); call once at the end.
  void finish() const;
  std::string json_path() const;
  /// The category id saved files use for a train id.
  int output_category(int train_id) const;

 private:
  void write_png(const std::string& id, const postprocess::PanopticSegmentation& prediction, int height,
                 int width) const;
  void write_vis(const std::string& id, const cv::Mat& image, const cv::Mat& label,
                 const postprocess::PanopticSegmentation& gt,
                 const postprocess::PanopticSegmentation& prediction) const;

  PanopticWriterOptions options_;
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> annotations_;  // (id, JSON text)
  std::atomic<size_t> visualised_{0};
};

/// Joins the shards' panoptic.rank<r>.json files of `pred_dir` into panoptic.json (and removes them).
void merge_panoptic_json_shards(const std::string& pred_dir, int world_size);

}  // namespace deeplab::inference
