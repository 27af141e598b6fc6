#pragma once
// How predictions are made: the keys of the config's `eval:` section that
// `deeplab eval`, `predict`, `bench model` and the library's Segmenter share
// (test-time scales and flips, sliding windows, CRF, how the network runs).
// eval/eval_config.h adds what scoring needs.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"
#include "deeplab/models/inference_options.h"
#include "deeplab/postprocess/dense_crf_options.h"

namespace deeplab::inference {

/// `eval.crf`: DeepLab v1/v2's fully connected CRF on the softmax
/// (postprocess/dense_crf.h).  Off by default; the v1/v2 configs turn it on
/// with their papers' settings.  `deeplab eval` and `deeplab predict` apply
/// it; the training eval hook never does.  Defaults: v2's ResNet-101 VOC
/// recipe (dense_crf_options.h); v1 LargeFOV: 4 / 121 / 5, 3 / 3.
struct CrfConfig {
  bool enabled = false;
  postprocess::DenseCrfOptions options;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("enabled", enabled);
    v("iterations", options.iterations, non_negative());
    v("bilateral_weight", options.bilateral_weight, non_negative());
    v("bilateral_xy_std", options.bilateral_xy_std, positive());
    v("bilateral_rgb_std", options.bilateral_rgb_std, positive());
    v("spatial_weight", options.spatial_weight, non_negative());
    v("spatial_xy_std", options.spatial_xy_std, positive());
  }
};

struct PredictionConfig {
  /// `whole`: the whole image at once (padded to a multiple of the output
  /// stride); `slide`: overlapping windows whose probabilities are averaged.
  std::string mode = "whole";
  std::vector<double> scales = {1.0};    // test-time scales; probabilities averaged
  bool flip = false;                     // also the horizontally flipped image
  std::vector<int> window = {513, 513};  // sliding-window size (height, width)
  double overlap = 1.0 / 3.0;            // fraction of the window shared by neighbours
  int output_stride = 0;                 // 0: as trained (model.backbone.output_stride)
  /// Pad inputs to a multiple of the output stride (so feature pixels align with
  /// input pixels) and crop the logits back; off: the model sees the raw size.
  bool pad_to_stride = true;
  int batch_size = 1;  // windows per forward pass (slide mode)
  /// Progress lines when stderr is not a terminal: every N images (0: every ~10 %).
  int log_every = 0;
  CrfConfig crf;
  /// eval.fold_bn, eval.channels_last, eval.amp (models/inference_options.h):
  /// how `deeplab eval`, `predict` and `bench model` run the network.
  models::InferenceOptions inference;

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
    v("log_every", log_every, non_negative());
    inference.fields(v);
    v.section("crf", crf);
  }
};

}  // namespace deeplab::inference
