#pragma once
// `export:` section of an experiment config: what `deeplab export` writes.

#include <string>
#include <vector>

#include "deeplab/core/config_check.h"

namespace deeplab::exporting {

struct ExportConfig {
  std::string format = "torchscript";
  std::vector<int> input_size = {513, 513};  // example input used for tracing (height, width)
  std::string output;                        // default: <work_dir>/model.pt
  /// Fold BN into the convolutions before tracing (models/fold_batch_norm.h):
  /// the same outputs to 1e-5 relative, one pass less per layer; the file
  /// then holds inference weights only (its BN layers pass through).
  bool fold_bn = true;

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("format", format, one_of({"torchscript"}));
    v("input_size", input_size, with_length(at_least(1), 2));
    v("output", output);
    v("fold_bn", fold_bn);
  }
};

}  // namespace deeplab::exporting
