// Runtime settings take effect: thread counts reach LibTorch's parallel
// loops, seeds reproduce, devices resolve or fail clearly, freed memory stays
// with the process for reuse.

#include "deeplab/core/runtime.h"

#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "deeplab/core/error.h"
#include "deeplab/core/fs_util.h"
#include "deeplab/core/logging.h"
#include "tests/support/test_support.h"

namespace deeplab::core {
namespace {

// How many distinct threads at::parallel_for really uses for a big loop.
int threads_used_by_parallel_for() {
  std::mutex mutex;
  std::set<int> ids;
  at::parallel_for(0, 1 << 16, 1, [&](int64_t begin, int64_t end) {
    volatile double sink = 0;
    for (int64_t i = begin; i < end; ++i) sink = sink + static_cast<double>(i);
    std::lock_guard<std::mutex> lock(mutex);
    ids.insert(at::get_thread_num());
  });
  return static_cast<int>(ids.size());
}

TEST(Runtime, ThreadSettingTakesEffect) {
  EXPECT_EQ(apply_threads(1), 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(threads_used_by_parallel_for(), 1);

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(apply_threads(0), cores);  // 0 = all hardware cores, not LibTorch's default of 1
  if (cores < 2) GTEST_SKIP() << "one core: cannot observe parallelism";
  EXPECT_EQ(apply_threads(2), 2);
  EXPECT_EQ(threads_used_by_parallel_for(), 2);
}

TEST(Runtime, ApplyRuntimeUsesConfigThreadsAndSeed) {
  RuntimeConfig runtime;
  runtime.threads = 1;
  runtime.device = "cpu";
  runtime.seed = 7;
  EXPECT_EQ(apply_runtime(runtime), c10::Device(c10::kCPU));
  EXPECT_EQ(at::get_num_threads(), 1);
  const torch::Tensor first = torch::randn({8});
  apply_runtime(runtime);
  EXPECT_TRUE(torch::equal(first, torch::randn({8})));
  runtime.seed = 8;
  apply_runtime(runtime);
  EXPECT_FALSE(torch::equal(first, torch::randn({8})));
  apply_threads(0);
}

TEST(Runtime, DeviceSelection) {
  EXPECT_EQ(resolve_device("cpu"), c10::Device(c10::kCPU));
  EXPECT_THROW(resolve_device("gpu"), RuntimeError);
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(resolve_device("auto").is_cuda());
    GTEST_SKIP() << "CUDA present: the no-CUDA error paths cannot be observed";
  }
  EXPECT_EQ(resolve_device("auto"), c10::Device(c10::kCPU));
  for (const std::string spec : {"cuda", "cuda:1"}) {
    try {
      resolve_device(spec);
      ADD_FAILURE() << spec << " resolved without CUDA";
    } catch (const RuntimeError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("'" + spec + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("CUDA is not available"), std::string::npos) << message;
    }
  }
}

// runtime.reuse_freed_memory: a block far over glibc's mmap threshold comes
// from the heap, and freeing it leaves the memory with the process for the
// next step's tensors (no munmap, no trimming).
TEST(Runtime, ReuseFreedMemoryKeepsLargeBlocksInTheHeap) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc, whose settings this test observes";
#endif
  reuse_freed_memory();
  constexpr size_t kBlock = 256u << 20;
  const struct mallinfo2 before = mallinfo2();
  void* block = std::malloc(kBlock);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBlock);
  const struct mallinfo2 during = mallinfo2();
  EXPECT_EQ(during.hblkhd, before.hblkhd) << "the block was mmapped";
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_EQ(after.arena, during.arena) << "the heap was trimmed";
  EXPECT_GE(after.fordblks, kBlock) << "the freed block is not free heap memory";
}

TEST(Runtime, BuildSummaryNamesTheBlasInUse) {
  const std::string summary = build_summary();
  EXPECT_NE(summary.find(std::string("LibTorch ") + TORCH_VERSION + "\n"), std::string::npos) << summary;
  // Debian's LibTorch loads a BLAS library (its path is printed); official
  // packages link MKL in.  Neither may be the reference BLAS.
  const bool names_blas =
      summary.find("BLAS: /") != std::string::npos || summary.find("BLAS: MKL") != std::string::npos;
  EXPECT_TRUE(names_blas) << summary;
  EXPECT_EQ(summary.find("reference BLAS"), std::string::npos) << summary;
  EXPECT_NE(summary.find("CUDA:"), std::string::npos) << summary;
#ifdef DEEPLAB_WITH_CUDA
  EXPECT_NE(summary.find("c10d backends: gloo, nccl 2."), std::string::npos) << summary;
#else
  EXPECT_NE(summary.find("c10d backends: gloo\n"), std::string::npos) << summary;
#endif
}

TEST(Runtime, UnknownLogLevelIsAnError) {
  EXPECT_NO_THROW(set_log_level("debug"));
  EXPECT_NO_THROW(set_log_level("off"));
  try {
    set_log_level("verbose");
    ADD_FAILURE() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'verbose'"), std::string::npos);
  }
  set_log_level("info");
}

TEST(FsUtil, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  testing::TempDir dir;
  const std::string path = dir.file("state.bin");
  write_file_atomic(path, std::string(1 << 20, 'a'));
  write_file_atomic(path, "short");
  EXPECT_EQ(read_file(path), "short");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.is_regular_file();
  EXPECT_EQ(entries, 1);
  EXPECT_THROW(write_file_atomic(dir.path() + "/missing/dir/x", "y"), IoError);
  EXPECT_THROW(read_file(dir.path() + "/absent"), IoError);
}

}  // namespace
}  // namespace deeplab::core
