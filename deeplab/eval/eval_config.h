#pragma once
// `eval:` section of an experiment config: how predictions are made and scored.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"

namespace deeplab::eval {

struct EvalConfig {
  std::string mode = "whole";             // whole image or sliding window
  std::vector<double> scales = {1.0};     // test-time scales
  bool flip = false;
  std::vector<int> window = {513, 513};   // sliding-window size (height, width)
  double overlap = 1.0 / 3.0;             // fraction of the window shared by neighbours
  int output_stride = 0;                  // 0: as trained
  std::string split = "val";

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("mode", mode, one_of({"whole", "slide"}));
    v("scales", scales, non_empty(positive()));
    v("flip", flip);
    v("window", window, with_length(at_least(1), 2));
    v("overlap", overlap, in_half_open(0, 1));
    v("output_stride", output_stride, one_of({"0", "8", "16", "32"}));
    v("split", split);
  }
};

}  // namespace deeplab::eval
