#include "deeplab/core/autocast_scope.h"

#include <ATen/autocast_mode.h>

#include "deeplab/core/error.h"

namespace deeplab::core {

// The autocast calls changed names in LibTorch 2.4 (set_autocast_enabled(device, on));
// 1.x and early 2.x use the per-backend functions below.
AutocastScope::AutocastScope(const std::string& mode, c10::Device device, const std::string& key) {
  if (mode == "none") return;
  if (mode == "bf16") {
    if (!device.is_cpu()) throw ConfigError(key + ": bf16 is the CPU mode; on CUDA use fp16");
    at::autocast::set_cpu_enabled(true);
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    cpu_ = true;
  } else if (mode == "fp16") {
    if (!device.is_cuda()) throw ConfigError(key + ": fp16 needs a CUDA device; on CPU use bf16");
    at::autocast::set_enabled(true);
    cuda_ = true;
  } else {
    throw ConfigError(key + ": '" + mode + "' is not one of none, bf16, fp16");
  }
}

AutocastScope::~AutocastScope() {
  if (cpu_) at::autocast::set_cpu_enabled(false);
  if (cuda_) at::autocast::set_enabled(false);
  if (cpu_ || cuda_) at::autocast::clear_cache();
}

}  // namespace deeplab::core
