#pragma once
// Test-time inference: whole image (padded to a multiple of the output
// stride, cropped back) or overlapping sliding windows, each at several
// scales and optionally flipped; the class probabilities of all passes are
// averaged.  Kept apart from the model (DESIGN: test-time tricks live in
// eval/), so any function from images to logits can be predicted with.

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "deeplab/eval/eval_config.h"

namespace deeplab::eval {

/// Images [N, 3, H, W] (normalised) -> logits [N, C, H, W].
using SegmentFn = std::function<at::Tensor(const at::Tensor&)>;

/// How a Predictor combines passes; `from_config` maps the `eval:` section.
struct PredictorOptions {
  std::string mode = "whole";             // whole | slide
  std::vector<double> scales = {1.0};
  bool flip = false;
  int window_h = 513, window_w = 513;
  double overlap = 1.0 / 3.0;
  int pad_multiple = 0;                   // pad inputs to this multiple (0: never)
  int batch_size = 1;                     // windows per forward pass
  bool align_corners = false;             // of the scale resizes (as the model's upsampling)

  /// `pad_multiple` is the model's output stride (ignored when eval.pad_to_stride is off).
  static PredictorOptions from_config(const EvalConfig& config, int output_stride, bool align_corners);
};

/// Averaged class probabilities of a segmentation function under test-time augmentation.
class Predictor {
 public:
  /// Throws ConfigError naming `eval.<key>` for an invalid option.
  Predictor(SegmentFn segment, PredictorOptions options);

  /// Probabilities [N, C, H, W] of images [N, 3, H, W], averaged over scales, flips and windows.
  at::Tensor probabilities(const at::Tensor& images) const;
  /// Arg-max class per pixel, int64 [N, H, W].
  at::Tensor predict(const at::Tensor& images) const;
  /// Forward passes one `probabilities` call makes for an H x W image (for reports).
  int64_t passes(int64_t height, int64_t width) const;

  const PredictorOptions& options() const { return options_; }

 private:
  at::Tensor at_scale(const at::Tensor& images) const;
  at::Tensor whole(const at::Tensor& images) const;
  at::Tensor slide(const at::Tensor& images) const;

  SegmentFn segment_;
  PredictorOptions options_;
};

/// Top-left corners of the windows covering `size` with windows of `window`
/// (clamped to `size`) and the given overlap; the last window ends at `size`.
std::vector<int64_t> window_starts(int64_t size, int64_t window, double overlap);

}  // namespace deeplab::eval
