#pragma once
// `deeplab predict` on image files: each image is decoded on the loader's
// worker threads (as evaluation reads a dataset), segmented by a Predictor
// (test-time augmentation, dense CRF as configured), and its outputs are
// written on a writer thread while the next image runs:
//   <out>/<name>.png          label map, palette PNG of the dataset's colours
//                             (what `deeplab eval --save-pred` writes for VOC)
//   <out>/<name>_color.png    the colourised label map
//   <out>/<name>_overlay.png  the image with the colours blended in (overlay)
// An image that cannot be read is reported, never skipped silently.

#include <c10/core/Device.h>

#include <optional>
#include <string>
#include <vector>

#include "deeplab/data/descriptor.h"
#include "deeplab/data/image_files.h"
#include "deeplab/data/normalization.h"
#include "deeplab/inference/predictor.h"
#include "deeplab/postprocess/dense_crf_options.h"
#include "deeplab/postprocess/panoptic_segments.h"

namespace deeplab::inference {

struct PredictFilesOptions {
  std::string out_dir = "predictions";
  bool color = true;
  bool overlay = false;
  double overlay_alpha = 0.5;          // weight of the colours in the overlay
  data::DatasetDescriptor descriptor;  // classes and palette
  data::Normalization normalization;
  std::optional<postprocess::DenseCrfOptions> crf;
  int workers = 2;
  /// Consecutive images of one size go through the model together, up to
  /// this many (the CRF then refines them in parallel); a size change ends a batch.
  int batch_size = 1;
  /// Set for a panoptic model (its outputs include instance centers and
  /// offsets): besides the semantic files, panoptic/<name>.png (segment ids as
  /// R + 256 G + 256^2 B) and panoptic.json (COCO panoptic) are written.
  std::optional<postprocess::PanopticEvalOptions> panoptic;
  bool progress = true;
};

struct PredictReport {
  int64_t written = 0;                  // images whose outputs were written
  std::vector<std::string> unreadable;  // "path: why" of each image that could not be read
  double seconds = 0;
};

/// Segments `files` and writes their outputs under options.out_dir.
PredictReport predict_image_files(const Predictor& predictor, const std::vector<data::InputFile>& files,
                                  const PredictFilesOptions& options, c10::Device device = c10::Device(c10::kCPU));

/// image * (1 - alpha) + colours * alpha (RGB CV_8UC3 both).
cv::Mat blend_overlay(const cv::Mat& image, const cv::Mat& colours, double alpha);

}  // namespace deeplab::inference
