#pragma once
// An allocator for the dense CRF's big, randomly accessed buffers (lattice
// vertex rows, the vertex hash table): blocks of 2 MB or more are mapped on
// their own, 2 MB aligned, and offered to the kernel for transparent huge
// pages (madvise MADV_HUGEPAGE; Linux's default THP mode, "madvise", grants
// them only on request).  A photo's lattice rows are 17 MB, touched in no
// particular order: with 4 KB pages nearly every row access missed the TLB,
// and the page walks cost about 7 % of the CRF's time (measured A/B on a VOC
// photo; results are bit-identical).  Smaller blocks, and systems without
// THP, get ordinary memory.
//
// Freed blocks are kept for reuse (up to kCachedHugePageBytes in all), as
// runtime.reuse_freed_memory keeps the heap's: a fresh mapping is faulted in
// and zeroed by the kernel page by page, and may wait for it to compact
// memory into huge pages; a CRF per image would pay that every time.

#include <cstddef>
#include <new>

namespace deeplab::postprocess {

/// Blocks from this size up are mapped on their own (one huge page).
constexpr size_t kHugePageBytes = size_t{2} << 20;

/// Freed blocks kept for reuse, at most this many bytes in all.
constexpr size_t kCachedHugePageBytes = size_t{1} << 30;

/// `bytes` (>= kHugePageBytes), 2 MB aligned, huge pages requested: a kept
/// block of about that size (not zeroed) or a new mapping (zeroed); throws
/// std::bad_alloc when the system has no memory to give.
void* map_huge_pages(size_t bytes);
/// Takes back a block from map_huge_pages: kept for reuse while the kept
/// blocks stay within kCachedHugePageBytes, else unmapped.
void unmap_huge_pages(void* block, size_t bytes) noexcept;
/// Unmaps every kept block; returns the bytes given back.
size_t release_cached_huge_pages() noexcept;
/// Whether the block's pages are (at least partly) huge pages now, from
/// /proc/self/smaps; false where that cannot be read.  For tests.
bool backed_by_huge_pages(const void* block);

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));
    return static_cast<T*>(map_huge_pages(bytes));
  }
  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePageBytes) {
      ::operator delete(p);
    } else {
      unmap_huge_pages(p, bytes);
    }
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const HugePageAllocator<U>&) const noexcept {
    return false;
  }
};

}  // namespace deeplab::postprocess
