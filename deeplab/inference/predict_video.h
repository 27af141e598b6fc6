#pragma once
// `deeplab predict` on a video file: every frame is segmented as an image
// would be (same normalisation, Predictor and CRF) and the colourised label
// maps are written as a video of the same frame count, size and frame rate:
//   <out>/<name>_color.avi     FFV1 (lossless: the palette colours survive,
//                              so the label stream can be read back exactly)
//   <out>/<name>_overlay.avi   the frames with the colours blended in (--overlay)
// Reading and writing go through OpenCV's VideoCapture / VideoWriter.
// Frames run in batches of options.batch_size; the next batch is decoded and
// the previous one colourised and written on other threads while the model runs.

#include <c10/core/Device.h>

#include <string>

#include "deeplab/data/image_files.h"
#include "deeplab/inference/predict_files.h"
#include "deeplab/inference/predictor.h"

namespace deeplab::inference {

struct VideoReport {
  int64_t frames = 0;
  double fps = 0;
  int width = 0, height = 0;
  std::string color_path, overlay_path;
  double seconds = 0;
};

/// Segments every frame of `video`; IoError naming the file when it does not
/// open, has no frames, ends before the frame count its container declares
/// (both counts named), or an output cannot be written.  The outputs appear
/// only when the whole video went through (written as .partial.avi, renamed).
VideoReport predict_video(const Predictor& predictor, const data::InputFile& video, const PredictFilesOptions& options,
                          c10::Device device = c10::Device(c10::kCPU));

}  // namespace deeplab::inference
