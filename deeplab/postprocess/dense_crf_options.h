#pragma once
// Settings of the dense CRF (dense_crf.h), in a header light enough for
// config structs (eval.crf reads straight into it).

namespace deeplab::postprocess {

/// Defaults: DeepLab v2's ResNet-101 VOC recipe (kazuto1011 configs/voc12.yaml).
struct DenseCrfOptions {
  int iterations = 10;
  double bilateral_weight = 4.0;
  double bilateral_xy_std = 67.0;
  double bilateral_rgb_std = 3.0;
  double spatial_weight = 3.0;
  double spatial_xy_std = 1.0;
};

}  // namespace deeplab::postprocess
