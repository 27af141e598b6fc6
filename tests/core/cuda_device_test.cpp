// The CUDA runtime helpers: what the build reports, no-ops on the CPU, and
// on a GPU the synchronisation and the allocator's peak.

#include "deeplab/core/cuda_device.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <regex>

#include "deeplab/core/runtime.h"

namespace deeplab::core {
namespace {

TEST(CudaDevice, InfoMatchesTheBuild) {
  const CudaInfo info = cuda_info();
#ifdef DEEPLAB_WITH_CUDA
  EXPECT_TRUE(info.compiled);
  EXPECT_TRUE(std::regex_match(info.cuda_version, std::regex("[0-9]+\\.[0-9]"))) << info.cuda_version;
  EXPECT_TRUE(std::regex_match(info.cudnn_version, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+"))) << info.cudnn_version;
  EXPECT_NE(describe_cuda().find("CUDA " + info.cuda_version + ", cuDNN " + info.cudnn_version), std::string::npos)
      << describe_cuda();
#else
  EXPECT_FALSE(info.compiled);
  EXPECT_TRUE(info.cuda_version.empty());
  EXPECT_NE(describe_cuda().find("not compiled in"), std::string::npos) << describe_cuda();
#endif
  EXPECT_EQ(info.gpus, torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0);
}

TEST(CudaDevice, CpuCallsAreNoOps) {
  const c10::Device cpu(c10::kCPU);
  EXPECT_NO_THROW(set_current_device(cpu));
  EXPECT_NO_THROW(synchronize(cpu));
  EXPECT_NO_THROW(reset_peak_device_memory(cpu));
  EXPECT_EQ(peak_device_memory_mib(cpu), 0.0);
}

TEST(CudaDevice, CudnnBenchmarkSwitches) {
  const bool before = at::globalContext().benchmarkCuDNN();
  set_cudnn_benchmark(true);
  EXPECT_TRUE(at::globalContext().benchmarkCuDNN());
  set_cudnn_benchmark(false);
  EXPECT_FALSE(at::globalContext().benchmarkCuDNN());
  set_cudnn_benchmark(before);
}

TEST(CudaDevice, PeakMemoryCountsAnAllocationOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible: CUDA allocator statistics not checked";
  const c10::Device gpu = resolve_device("cuda:0");
  set_current_device(gpu);
  synchronize(gpu);
  reset_peak_device_memory(gpu);
  const double before = peak_device_memory_mib(gpu);
  {
    const auto block = torch::ones({64, 1024, 1024}, torch::TensorOptions().device(gpu));  // 256 MiB
    synchronize(gpu);
    EXPECT_GE(peak_device_memory_mib(gpu), before + 255.0);
  }
  reset_peak_device_memory(gpu);
  EXPECT_LT(peak_device_memory_mib(gpu), before + 255.0);
}

}  // namespace
}  // namespace deeplab::core
