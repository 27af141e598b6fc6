#include "deeplab/core/cuda_device.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/cuda.h>

#ifdef DEEPLAB_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <sstream>

namespace deeplab::core {
#ifdef DEEPLAB_WITH_CUDA
namespace {

// CUDART_VERSION and CUDNN_VERSION style numbers: 13000 -> "13.0", 91900 -> "9.19.0".
std::string cuda_version_text(long version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

std::string cudnn_version_text(long version) {
  // cuDNN 9 encodes major*10000 + minor*100 + patch; cuDNN 8 major*1000 + minor*100 + patch.
  const long major_unit = version >= 90000 ? 10000 : 1000;
  return std::to_string(version / major_unit) + "." + std::to_string(version % major_unit / 100) + "." +
         std::to_string(version % 100);
}

}  // namespace
#endif

CudaInfo cuda_info() {
  CudaInfo info;
#ifdef DEEPLAB_WITH_CUDA
  info.compiled = true;
  // The hooks answer from libtorch_cuda's compile-time constants; they need no GPU.
  const auto& hooks = at::detail::getCUDAHooks();
  try {
    info.cuda_version = cuda_version_text(hooks.versionCUDART());
    if (hooks.hasCuDNN() || hooks.versionCuDNN() > 0) info.cudnn_version = cudnn_version_text(hooks.versionCuDNN());
  } catch (const std::exception&) {
    // libtorch_cuda not loaded: leave the versions empty.
  }
#endif
  info.gpus = torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
  return info;
}

std::string describe_cuda() {
  const CudaInfo info = cuda_info();
  if (!info.compiled) return "not compiled in (a CPU LibTorch)";
  std::ostringstream text;
  text << "CUDA " << (info.cuda_version.empty() ? "?" : info.cuda_version);
  text << ", cuDNN " << (info.cudnn_version.empty() ? "none" : info.cudnn_version);
  text << ", " << info.gpus << " GPU(s) visible";
  if (info.gpus == 0) text << " (CUDA code is compiled in; it runs where a GPU is)";
  return text.str();
}

void set_current_device(c10::Device device) {
  if (!device.is_cuda() || !device.has_index()) return;
  c10::impl::getDeviceGuardImpl(c10::kCUDA)->setDevice(device);
}

void synchronize(c10::Device device) {
  if (!device.is_cuda()) return;
  const c10::Device current = c10::impl::getDeviceGuardImpl(c10::kCUDA)->getDevice();
  set_current_device(device);
  torch::cuda::synchronize();
  set_current_device(current);
}

void set_cudnn_benchmark(bool on) { at::globalContext().setBenchmarkCuDNN(on); }

double peak_device_memory_mib(c10::Device device) {
#ifdef DEEPLAB_WITH_CUDA
  if (!device.is_cuda()) return 0;
  const auto index =
      device.has_index() ? device.index() : c10::impl::getDeviceGuardImpl(c10::kCUDA)->getDevice().index();
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(index);
  const auto& aggregate = stats.allocated_bytes[0];  // StatType::AGGREGATE (its namespace moved in 2.x)
  return static_cast<double>(aggregate.peak) / (1024.0 * 1024.0);
#else
  (void)device;
  return 0;
#endif
}

void reset_peak_device_memory(c10::Device device) {
#ifdef DEEPLAB_WITH_CUDA
  if (!device.is_cuda()) return;
  const auto index =
      device.has_index() ? device.index() : c10::impl::getDeviceGuardImpl(c10::kCUDA)->getDevice().index();
  c10::cuda::CUDACachingAllocator::resetPeakStats(index);
#else
  (void)device;
#endif
}

}  // namespace deeplab::core
