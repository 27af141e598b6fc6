#include "deeplab/postprocess/huge_page_allocator.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace deeplab::postprocess {
namespace {

size_t rounded_up(size_t bytes) { return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes; }

}  // namespace

#if defined(__linux__)

void* map_huge_pages(size_t bytes) {
  const size_t length = rounded_up(bytes);
  // Map one huge page more than needed, then give back the unaligned head and tail.
  void* raw = mmap(nullptr, length + kHugePageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t tail = aligned + length, end = start + length + kHugePageBytes;
  if (end > tail) munmap(reinterpret_cast<void*>(tail), end - tail);
  void* block = reinterpret_cast<void*>(aligned);
  madvise(block, length, MADV_HUGEPAGE);  // a request: without THP the pages stay small
  return block;
}

void unmap_huge_pages(void* block, size_t bytes) noexcept { munmap(block, rounded_up(bytes)); }

bool backed_by_huge_pages(const void* block) {
  std::ifstream smaps("/proc/self/smaps");
  const auto address = reinterpret_cast<uintptr_t>(block);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    unsigned long long from = 0, to = 0;
    if (std::sscanf(line.c_str(), "%llx-%llx ", &from, &to) == 2) {  // a mapping's first line
      inside = address >= from && address < to;
      continue;
    }
    if (inside && line.rfind("AnonHugePages:", 0) == 0) {
      std::istringstream fields(line.substr(14));
      long kilobytes = 0;
      fields >> kilobytes;
      return kilobytes > 0;
    }
  }
  return false;
}

#else

void* map_huge_pages(size_t bytes) {
  return ::operator new(rounded_up(bytes), std::align_val_t(kHugePageBytes));
}

void unmap_huge_pages(void* block, size_t) noexcept { ::operator delete(block, std::align_val_t(kHugePageBytes)); }

bool backed_by_huge_pages(const void*) { return false; }

#endif

}  // namespace deeplab::postprocess
