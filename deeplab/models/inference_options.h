#pragma once
// InferenceOptions: how a model runs for inference (models/inference.h);
// a light header, so config structs can hold it.

#include <string>

#include "deeplab/core/config_check.h"

namespace deeplab::models {

struct InferenceOptions {
  bool fold_bn = true;
  bool channels_last = true;
  std::string amp = "none";  // none | bf16 (CPU) | fp16 (CUDA)

  /// Keys of the `eval:` section (fold_bn, channels_last, amp).
  template <class V>
  void fields(V& v) {
    using namespace core::check;
    v("fold_bn", fold_bn);
    v("channels_last", channels_last);
    v("amp", amp, one_of({"none", "bf16", "fp16"}));
  }
  /// "fold_bn + channels_last + fp32"-style summary for logs and reports.
  std::string describe() const;
};

}  // namespace deeplab::models
