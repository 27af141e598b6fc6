#include "deeplab/postprocess/huge_page_allocator.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace deeplab::postprocess {
namespace {

size_t rounded_up(size_t bytes) { return (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes; }

}  // namespace

#if defined(__linux__)

namespace {

// Blocks handed out (address -> mapped length: a reused block may be longer
// than asked for) and blocks kept for reuse (length -> address).
class BlockCache {
 public:
  void* take(size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    // The smallest kept block that fits, if it wastes at most a quarter.
    const auto fit = kept_.lower_bound(length);
    if (fit == kept_.end() || fit->first > length + length / 4) return nullptr;
    void* block = fit->second;
    kept_bytes_ -= fit->first;
    lent_[block] = fit->first;
    kept_.erase(fit);
    return block;
  }
  void lend(void* block, size_t length) {
    std::lock_guard<std::mutex> lock(mutex_);
    lent_[block] = length;
  }
  // The block's mapped length, and whether to keep it (else the caller unmaps it).
  std::pair<size_t, bool> give_back(void* block, size_t fallback_length) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto lent = lent_.find(block);
    const size_t length = lent == lent_.end() ? fallback_length : lent->second;
    if (lent != lent_.end()) lent_.erase(lent);
    if (kept_bytes_ + length > kCachedHugePageBytes) return {length, false};
    try {
      kept_.emplace(length, block);
    } catch (const std::bad_alloc&) {  // no memory for the bookkeeping: unmap instead
      return {length, false};
    }
    kept_bytes_ += length;
    return {length, true};
  }
  std::multimap<size_t, void*> release_all() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::multimap<size_t, void*> all;
    all.swap(kept_);
    kept_bytes_ = 0;
    return all;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<void*, size_t> lent_;
  std::multimap<size_t, void*> kept_;
  size_t kept_bytes_ = 0;
};

BlockCache& cache() {
  static BlockCache* blocks = new BlockCache();  // never destroyed: blocks may be freed during exit
  return *blocks;
}

void* map_new_block(size_t length) {
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

}  // namespace

void* map_huge_pages(size_t bytes) {
  const size_t length = rounded_up(bytes);
  if (void* kept = cache().take(length)) return kept;
  void* block = map_new_block(length);
  cache().lend(block, length);
  return block;
}

void unmap_huge_pages(void* block, size_t bytes) noexcept {
  const auto [length, kept] = cache().give_back(block, rounded_up(bytes));
  if (!kept) munmap(block, length);
}

size_t release_cached_huge_pages() noexcept {
  size_t released = 0;
  for (const auto& [length, block] : cache().release_all()) {
    munmap(block, length);
    released += length;
  }
  return released;
}

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

void* map_huge_pages(size_t bytes) { return ::operator new(rounded_up(bytes), std::align_val_t(kHugePageBytes)); }

void unmap_huge_pages(void* block, size_t) noexcept { ::operator delete(block, std::align_val_t(kHugePageBytes)); }

size_t release_cached_huge_pages() noexcept { return 0; }

bool backed_by_huge_pages(const void*) { return false; }

#endif

}  // namespace deeplab::postprocess
