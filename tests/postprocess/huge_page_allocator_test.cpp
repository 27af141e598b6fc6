// The huge-page allocator: big blocks are 2 MB aligned and usable as a
// std::vector's storage, backed by huge pages where the kernel grants them on
// request, kept for reuse when freed (within a bound) and given back on
// release; small blocks are ordinary memory.

#include "deeplab/postprocess/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

namespace deeplab::postprocess {
namespace {

using HugeFloats = std::vector<float, HugePageAllocator<float>>;

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Transparent huge pages are handed out on madvise, compacting memory for
// them when needed (Linux's defaults): then a mapped block must get them.
bool kernel_grants_huge_pages_on_request() {
  const std::string enabled = first_line("/sys/kernel/mm/transparent_hugepage/enabled");
  const std::string defrag = first_line("/sys/kernel/mm/transparent_hugepage/defrag");
  const bool on_request =
      enabled.find("[always]") != std::string::npos || enabled.find("[madvise]") != std::string::npos;
  const bool compacts = defrag.find("[always]") != std::string::npos || defrag.find("[madvise]") != std::string::npos ||
                        defrag.find("[defer+madvise]") != std::string::npos;
  return on_request && compacts;
}

long resident_kilobytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4;
}

TEST(HugePageAllocator, SmallVectorsWorkAsUsual) {
  HugeFloats small(100);
  std::iota(small.begin(), small.end(), 0.0f);
  EXPECT_FLOAT_EQ(std::accumulate(small.begin(), small.end(), 0.0f), 4950.0f);
}

TEST(HugePageAllocator, BigBlocksAreAlignedAndKeepTheirContents) {
  HugeFloats big(5'000'000);  // 20 MB, not a multiple of 2 MB
  EXPECT_EQ(reinterpret_cast<uintptr_t>(big.data()) % kHugePageBytes, 0u);
  EXPECT_EQ(std::count(big.begin(), big.end(), 0.0f), static_cast<long>(big.size()));
  big.back() = 7.0f;
  big.front() = 3.0f;
  EXPECT_EQ(big.back() + big.front(), 10.0f);
  big.resize(9'000'000);  // grows into a new block, contents kept
  EXPECT_EQ(big[4'999'999], 7.0f);
  EXPECT_EQ(big[0], 3.0f);
}

TEST(HugePageAllocator, BigBlocksGetHugePagesWhereTheKernelGrantsThem) {
  if (!kernel_grants_huge_pages_on_request()) GTEST_SKIP() << "transparent huge pages are off or not compacted for";
  HugeFloats big(8 << 20, 1.0f);  // 32 MB, touched
  EXPECT_TRUE(backed_by_huge_pages(big.data())) << "no AnonHugePages in the block's mapping";
}

TEST(HugePageAllocator, FreedBlocksAreReused) {
  release_cached_huge_pages();
  const float* first = nullptr;
  {
    HugeFloats block(16 << 20, 1.0f);  // 64 MB
    first = block.data();
  }
  HugeFloats again(15 << 20);  // a little smaller: the kept block fits
  EXPECT_EQ(again.data(), first) << "a new mapping instead of the kept block";
  EXPECT_EQ(again[12345], 0.0f) << "value-initialised as any vector";
  HugeFloats tiny_fraction(1 << 20);  // 4 MB: the 64 MB block would waste too much
  EXPECT_NE(tiny_fraction.data(), first);
}

TEST(HugePageAllocator, KeptBlocksAreBoundedAndCanBeReleased) {
  release_cached_huge_pages();
  const long before = resident_kilobytes();
  {
    std::vector<HugeFloats> blocks;
    for (int i = 0; i < 20; ++i) blocks.emplace_back(16 << 20, 1.0f);  // 20 x 64 MB alive at once
  }
  const long kept_kilobytes = resident_kilobytes() - before;
  EXPECT_LE(kept_kilobytes, static_cast<long>(kCachedHugePageBytes / 1024) + 64 * 1024);
  const size_t released = release_cached_huge_pages();
  EXPECT_GT(released, 0u);
  EXPECT_LE(released, kCachedHugePageBytes);
  EXPECT_LT(resident_kilobytes() - before, 64 * 1024) << "released blocks stayed resident";
}

}  // namespace
}  // namespace deeplab::postprocess
