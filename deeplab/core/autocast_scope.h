#pragma once
// An autocast scope (bf16 on CPU or CUDA, fp16 on CUDA) behind one small
// version-sensitive wrapper; training (train.amp) and inference (eval.amp,
// `--amp`) both run their forward passes inside one.

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace deeplab::core {

/// Enables autocast for `mode` ("bf16" | "fp16" | "none") on `device` for its
/// lifetime and restores the previous state after; a mode the device cannot
/// run is a ConfigError naming `key`.
class AutocastScope {
 public:
  AutocastScope(const std::string& mode, c10::Device device, const std::string& key = "train.amp");
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  c10::DeviceType device_type_ = c10::DeviceType::CPU;
  bool was_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::BFloat16;
};

/// Whether autocast is on for `device_type` in this thread (tests, asserts).
bool autocast_enabled(c10::DeviceType device_type);
/// The dtype autocast casts to on `device_type`.
c10::ScalarType autocast_dtype(c10::DeviceType device_type);

}  // namespace deeplab::core
