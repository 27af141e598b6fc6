#pragma once
// An autocast scope (bf16 on CPU, fp16 on CUDA) behind one small
// version-sensitive wrapper; training (train.amp) and inference (eval.amp,
// `--amp`) both run their forward passes inside one.

#include <c10/core/Device.h>

#include <string>

namespace deeplab::core {

/// Enables autocast for `mode` ("bf16" | "fp16" | "none") on `device` for its
/// lifetime; a mode the device cannot run is a ConfigError naming `key`.
class AutocastScope {
 public:
  AutocastScope(const std::string& mode, c10::Device device, const std::string& key = "train.amp");
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool cpu_ = false, cuda_ = false;
};

}  // namespace deeplab::core
