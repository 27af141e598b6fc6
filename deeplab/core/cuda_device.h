#pragma once
// The CUDA side of the runtime in one place: what this build was compiled
// with, whether a GPU is visible, the current device, synchronisation and
// the caching allocator's peak.  Everything here also compiles and runs
// against a CPU LibTorch: the answers are then "not compiled" and no-ops.

#include <c10/core/Device.h>

#include <string>

namespace deeplab::core {

/// What this LibTorch build and this machine offer.
struct CudaInfo {
  bool compiled = false;      // LibTorch built with CUDA (its kernels are linked in)
  std::string cuda_version;   // "13.0", empty when not compiled
  std::string cudnn_version;  // "9.19.0", empty when not compiled in
  int gpus = 0;               // visible devices (0 on a machine without a GPU)
};
CudaInfo cuda_info();

/// One line for `deeplab --version`: "CUDA 13.0, cuDNN 9.19.0, 1 GPU(s): NVIDIA H200".
std::string describe_cuda();

/// Makes `device` the current CUDA device of this thread (no-op for CPU), so
/// that allocations and NCCL communicators without an index land on it.
void set_current_device(c10::Device device);

/// Waits for `device`'s queued work (no-op for CPU): call before reading a clock.
void synchronize(c10::Device device);

/// cuDNN's benchmark mode (runtime.cudnn_benchmark): autotunes convolution
/// algorithms per input shape; fastest for fixed crop sizes, not bit-stable.
void set_cudnn_benchmark(bool on);

/// The caching allocator's peak allocated memory on `device` since the last
/// reset, in MiB; 0 for CPU or a build without CUDA.
double peak_device_memory_mib(c10::Device device);
void reset_peak_device_memory(c10::Device device);

}  // namespace deeplab::core
