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

  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("format", format, one_of({"torchscript"}));
    v("input_size", input_size, with_length(at_least(1), 2));
    v("output", output);
  }
};

}  // namespace deeplab::exporting
