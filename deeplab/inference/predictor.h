#pragma once
// Test-time inference: whole image (padded to a multiple of the output
// stride, cropped back) or overlapping sliding windows, each at several
// scales and optionally flipped; every named output of all passes is brought
// back to the image by its own rule (models/outputs.h) and averaged: logits
// as class probabilities, other outputs as values.  Kept apart from the model
// (docs/design.md: test-time tricks live apart from the model), so any function from images to
// logits, or to named outputs, can be predicted with.

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "deeplab/inference/prediction_config.h"
#include "deeplab/models/outputs.h"

namespace deeplab::inference {

/// Images [N, 3, H, W] (normalised) -> logits [N, C, H, W].
using SegmentFn = std::function<at::Tensor(const at::Tensor&)>;
/// Images [N, 3, H, W] (normalised) -> named outputs at the input size, with
/// at least "semantic" (e.g. DeepLabImpl::forward_outputs in eval mode).
using OutputsFn = std::function<models::ModelOutputs(const at::Tensor&)>;

/// How a Predictor combines passes; `from_config` maps the `eval:` section.
struct PredictorOptions {
  std::string mode = "whole";  // whole | slide
  std::vector<double> scales = {1.0};
  bool flip = false;
  int window_h = 513, window_w = 513;
  double overlap = 1.0 / 3.0;
  int pad_multiple = 0;        // pad inputs to this multiple (+1 with align_corners; 0: never)
  int batch_size = 1;          // windows per forward pass
  bool align_corners = false;  // of the scale resizes (as the model's upsampling)

  /// `pad_multiple` is the model's output stride (ignored when eval.pad_to_stride is off).
  static PredictorOptions from_config(const PredictionConfig& config, int output_stride, bool align_corners);
};

/// Averaged class probabilities of a segmentation function under test-time augmentation.
class Predictor {
 public:
  /// Throws ConfigError naming `eval.<key>` for an invalid option.
  Predictor(SegmentFn segment, PredictorOptions options);
  Predictor(OutputsFn outputs, PredictorOptions options);

  /// Every output at the size of images [N, 3, H, W], averaged over scales,
  /// flips and windows; logits outputs become class probabilities.
  models::ModelOutputs outputs(const at::Tensor& images) const;
  /// The "semantic" probabilities [N, C, H, W] of outputs().
  at::Tensor probabilities(const at::Tensor& images) const;
  /// Arg-max class per pixel, int64 [N, H, W].
  at::Tensor predict(const at::Tensor& images) const;
  /// Forward passes one `probabilities` call makes for an H x W image (for reports).
  int64_t passes(int64_t height, int64_t width) const;

  const PredictorOptions& options() const { return options_; }

 private:
  models::ModelOutputs at_scale(const at::Tensor& images) const;
  models::ModelOutputs whole(const at::Tensor& images) const;
  int64_t padded_size(int64_t n) const;
  models::ModelOutputs slide(const at::Tensor& images) const;

  OutputsFn outputs_;
  PredictorOptions options_;
};

/// Top-left corners of the windows covering `size` with windows of `window`
/// (clamped to `size`) and the given overlap; the last window ends at `size`.
std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap);

}  // namespace deeplab::inference
