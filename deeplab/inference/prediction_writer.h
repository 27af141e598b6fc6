#pragma once
// Writes what `deeplab eval --save-pred / --save-vis` asks for: predictions in
// the official submission formats and side-by-side visualisations.

#include <opencv2/core.hpp>

#include <atomic>
#include <string>
#include <vector>

#include "deeplab/data/descriptor.h"

namespace deeplab::inference {

/// On-disk format of saved predictions.
enum class PredFormat {
  kPalette,             // <dir>/<id>.png, palette ("P" mode) PNG of train ids (VOC devkit format)
  kCityscapesLabelIds,  // <dir>/<city>/<id>_labelIds.png, 8-bit gray label ids (benchmark format)
};

/// The official format the descriptor's `submission:` names.
PredFormat pred_format_of(const data::DatasetDescriptor& descriptor);

/// Where and how predictions and visualisations go; an empty directory turns that output off.
struct PredictionWriterOptions {
  std::string pred_dir;
  std::string vis_dir;
  PredFormat format = PredFormat::kPalette;
  std::vector<data::Rgb> palette;      // of palette PNGs (e.g. data::voc_colormap())
  data::DatasetDescriptor descriptor;  // colours of the visualisation; train id -> raw id of label ids
  /// Visualise only the first this many images written (the rest get predictions only).
  size_t vis_limit = static_cast<size_t>(-1);
};

/// Writes one image's outputs; safe to call from several threads for different ids.
class PredictionWriter {
 public:
  /// Creates the directories; throws ConfigError when a palette PNG has no palette.
  explicit PredictionWriter(PredictionWriterOptions options);

  bool active() const { return !options_.pred_dir.empty() || !options_.vis_dir.empty(); }
  /// `image` RGB CV_8UC3, `label` and `pred` CV_8UC1 train ids of the same size.
  void write(const std::string& id, const cv::Mat& image, const cv::Mat& label, const cv::Mat& pred) const;
  /// The prediction file of `id`.
  std::string pred_path(const std::string& id) const;
  std::string vis_path(const std::string& id) const;

 private:
  void write_pred(const std::string& id, const cv::Mat& pred) const;
  void write_vis(const std::string& id, const cv::Mat& image, const cv::Mat& label, const cv::Mat& pred) const;

  PredictionWriterOptions options_;
  mutable std::atomic<size_t> visualised_{0};
};

}  // namespace deeplab::inference
