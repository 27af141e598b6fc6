#include "deeplab/core/autocast_scope.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "deeplab/core/error.h"

// LibTorch 2.4 replaced the per-backend autocast calls (set_cpu_enabled,
// set_enabled, set_autocast_gpu_dtype ...) by calls that take the device
// type; the old names are deprecated there.  Both sets live only here.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define DEEPLAB_AUTOCAST_BY_DEVICE_TYPE 1
#endif

namespace deeplab::core {
namespace {

void set_enabled(c10::DeviceType type, bool on) {
#ifdef DEEPLAB_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_enabled(type, on);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_enabled(on);
  } else {
    at::autocast::set_cpu_enabled(on);
  }
#endif
}

void set_dtype(c10::DeviceType type, c10::ScalarType dtype) {
#ifdef DEEPLAB_AUTOCAST_BY_DEVICE_TYPE
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
}

// fp16 on CPU would be slower than fp32 (no fp16 kernels of note); bf16 runs
// on both (CPU: AVX-512 BF16/AMX, CUDA: Ampere and later).
c10::ScalarType mode_dtype(const std::string& mode, c10::Device device, const std::string& key) {
  if (mode == "bf16") {
    if (!device.is_cpu() && !device.is_cuda()) throw ConfigError(key + ": bf16 needs a CPU or CUDA device");
    return c10::ScalarType::BFloat16;
  }
  if (mode == "fp16") {
    if (!device.is_cuda()) throw ConfigError(key + ": fp16 needs a CUDA device; on CPU use bf16");
    return c10::ScalarType::Half;
  }
  throw ConfigError(key + ": '" + mode + "' is not one of none, bf16, fp16");
}

}  // namespace

bool autocast_enabled(c10::DeviceType device_type) {
#ifdef DEEPLAB_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::is_autocast_enabled(device_type);
#else
  return device_type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
#endif
}

c10::ScalarType autocast_dtype(c10::DeviceType device_type) {
#ifdef DEEPLAB_AUTOCAST_BY_DEVICE_TYPE
  return at::autocast::get_autocast_dtype(device_type);
#else
  return device_type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype()
                                              : at::autocast::get_autocast_cpu_dtype();
#endif
}

AutocastScope::AutocastScope(const std::string& mode, c10::Device device, const std::string& key) {
  if (mode == "none") return;
  const c10::ScalarType dtype = mode_dtype(mode, device, key);
  device_type_ = device.type();
  was_enabled_ = autocast_enabled(device_type_);
  previous_dtype_ = autocast_dtype(device_type_);
  set_dtype(device_type_, dtype);
  set_enabled(device_type_, true);
  active_ = true;
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  set_enabled(device_type_, was_enabled_);
  set_dtype(device_type_, previous_dtype_);
  // The cast weights cached for this scope would pin memory until the next one.
  if (!was_enabled_) at::autocast::clear_cache();
}

}  // namespace deeplab::core
