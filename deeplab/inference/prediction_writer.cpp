#include "deeplab/inference/prediction_writer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

#include "deeplab/core/error.h"
#include "deeplab/data/image_writer.h"
#include "deeplab/data/label_writer.h"

namespace fs = std::filesystem;

namespace deeplab::inference {

PredFormat pred_format_of(const data::DatasetDescriptor& descriptor) {
  return descriptor.submission_format == "label_ids" ? PredFormat::kCityscapesLabelIds : PredFormat::kPalette;
}

PredictionWriter::PredictionWriter(PredictionWriterOptions options) : options_(std::move(options)) {
  if (!options_.pred_dir.empty()) {
    if (options_.format == PredFormat::kPalette && options_.palette.empty()) {
      throw ConfigError("--save-pred " + options_.pred_dir + ": palette PNGs need a palette (dataset descriptor)");
    }
    fs::create_directories(options_.pred_dir);
  }
  if (!options_.vis_dir.empty()) fs::create_directories(options_.vis_dir);
}

std::string PredictionWriter::pred_path(const std::string& id) const {
  if (options_.format == PredFormat::kCityscapesLabelIds) {
    // cityscapesScripts finds predictions by the <city>_<seq>_<frame> prefix; a
    // folder per city keeps the layout of the ground truth.
    const std::string city = id.substr(0, id.find('_'));
    return (fs::path(options_.pred_dir) / city / (id + "_labelIds.png")).string();
  }
  return (fs::path(options_.pred_dir) / (id + ".png")).string();
}

std::string PredictionWriter::vis_path(const std::string& id) const {
  return (fs::path(options_.vis_dir) / (id + ".png")).string();
}

void PredictionWriter::write_pred(const std::string& id, const cv::Mat& pred) const {
  const std::string path = pred_path(id);
  if (options_.format == PredFormat::kPalette) {
    data::write_palette_label(pred, options_.palette, path);
    return;
  }
  const auto& train_to_id = options_.descriptor.train_to_raw;
  if (train_to_id.size() != 256) throw ConfigError("label-id predictions need the descriptor's label_map");
  cv::Mat ids(pred.size(), CV_8UC1);
  for (int y = 0; y < pred.rows; ++y) {
    const uint8_t* in = pred.ptr<uint8_t>(y);
    uint8_t* out = ids.ptr<uint8_t>(y);
    for (int x = 0; x < pred.cols; ++x) out[x] = train_to_id[in[x]];
  }
  fs::create_directories(fs::path(path).parent_path());
  data::write_gray8_label(ids, path);
}

void PredictionWriter::write_vis(const std::string& id, const cv::Mat& image, const cv::Mat& label,
                                 const cv::Mat& pred) const {
  cv::Mat side;
  cv::hconcat(std::vector<cv::Mat>{image, data::colorize_label(label, options_.descriptor),
                                   data::colorize_label(pred, options_.descriptor)},
              side);
  data::write_rgb_image(side, vis_path(id));
}

void PredictionWriter::write(const std::string& id, const cv::Mat& image, const cv::Mat& label,
                             const cv::Mat& pred) const {
  if (!options_.pred_dir.empty()) write_pred(id, pred);
  if (!options_.vis_dir.empty() && visualised_.fetch_add(1) < options_.vis_limit) write_vis(id, image, label, pred);
}

}  // namespace deeplab::inference
