#pragma once
// `eval:` section of an experiment config: how predictions are made and scored.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"

namespace deeplab::eval {

struct EvalConfig {
  /// `whole`: the whole image at once (padded to a multiple of the output
  /// stride); `slide`: overlapping windows whose probabilities are averaged.
  std::string mode = "whole";
  std::vector<double> scales = {1.0};     // test-time scales; probabilities averaged
  bool flip = false;                      // also the horizontally flipped image
  std::vector<int> window = {513, 513};   // sliding-window size (height, width)
  double overlap = 1.0 / 3.0;             // fraction of the window shared by neighbours
  int output_stride = 0;                  // 0: as trained (model.backbone.output_stride)
  /// Pad inputs to a multiple of the output stride (so feature pixels align with
  /// input pixels) and crop the logits back; off: the model sees the raw size.
  bool pad_to_stride = true;
  int batch_size = 1;                     // windows per forward pass (slide mode)
  std::string split = "val";
  /// Progress lines when stderr is not a terminal: every N images (0: every ~10 %).
  int log_every = 0;
  /// What the training eval hook keeps best.pth for: mIoU, or PQ (panoptic models).
  std::string best_metric = "mIoU";

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("mode", mode, one_of({"whole", "slide"}));
    v("scales", scales, non_empty(positive()));
    v("flip", flip);
    v("window", window, with_length(at_least(1), 2));
    v("overlap", overlap, in_half_open(0, 1));
    v("output_stride", output_stride, one_of({"0", "8", "16", "32"}));
    v("pad_to_stride", pad_to_stride);
    v("batch_size", batch_size, at_least(1));
    v("split", split);
    v("log_every", log_every, non_negative());
    v("best_metric", best_metric, one_of({"mIoU", "PQ"}));
  }
};

}  // namespace deeplab::eval
