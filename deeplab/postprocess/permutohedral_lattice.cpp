#include "deeplab/postprocess/permutohedral_lattice.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "deeplab/postprocess/huge_page_allocator.h"
#include "deeplab/postprocess/lattice_kernels.h"
#include "deeplab/postprocess/simd_clones.h"

namespace deeplab::postprocess {

// Lattice vertices by their first d coordinates (the last one follows: they
// sum to zero), in open addressing; indices are given in insertion order.
// Each slot keeps 32 bits of its key's hash beside the vertex index, so a
// probe compares the stored key (elsewhere in memory: another cache miss for
// a photo's megabytes of keys) only when those bits agree; a lookup that
// finds nothing, as half of the neighbour lookups do, reads no key at all.
// The methods take the key length as kD when it is known at compile time (5
// for the dense CRF: unrolled, about half the build's instructions) or 0.
class VertexTable {
 public:
  VertexTable(int d, int64_t expected) : d_(d) { rehash(std::max<int64_t>(64, expected * 2)); }

  /// `h`: hash(key).  (Callers hash a batch of keys and prefetch their
  /// slots first: the slots of a photo's table are megabytes, and a lookup
  /// that waits for its slot to arrive from memory dominated the build.)
  template <int kD>
  int32_t find_or_insert(const int32_t* key, uint64_t h) {
    if ((count_ + 1) * 2 > static_cast<int64_t>(slots_.size())) rehash(static_cast<int64_t>(slots_.size()) * 2);
    const size_t slot = find_slot<kD>(key, h);
    if (slots_[slot].vertex < 0) {
      slots_[slot] = {static_cast<int32_t>(count_++), tag(h)};
      keys_.insert(keys_.end(), key, key + length<kD>());
    }
    return slots_[slot].vertex;
  }

  template <int kD>
  int32_t find(const int32_t* key, uint64_t h) const {
    return slots_[find_slot<kD>(key, h)].vertex;
  }

  template <int kD>
  uint64_t hash(const int32_t* key) const {
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < length<kD>(); ++i) h = (h ^ static_cast<uint32_t>(key[i])) * 1099511628211ull;
    return h ^ (h >> 29);
  }
  void prefetch(uint64_t h) const { __builtin_prefetch(&slots_[h & mask_]); }

  int64_t size() const { return count_; }
  const int32_t* key(int64_t index) const { return &keys_[static_cast<size_t>(index) * d_]; }

 private:
  struct Slot {
    int32_t vertex;  // -1: empty
    uint32_t tag;
  };

  template <int kD>
  int length() const {
    return kD > 0 ? kD : d_;
  }

  // The slot holding `key`, or the empty slot where it would go.
  template <int kD>
  size_t find_slot(const int32_t* key, uint64_t h) const {
    size_t slot = h & mask_;
    while (slots_[slot].vertex >= 0 && !(slots_[slot].tag == tag(h) && same_key<kD>(key, slots_[slot].vertex))) {
      slot = (slot + 1) & mask_;
    }
    return slot;
  }

  // A plain loop: std::equal on int32 became a memcmp call per probe (9 %
  // of a VOC photo's CRF time in the profile).
  template <int kD>
  bool same_key(const int32_t* key, int32_t index) const {
    const int32_t* stored = &keys_[static_cast<size_t>(index) * d_];
    for (int i = 0; i < length<kD>(); ++i) {
      if (key[i] != stored[i]) return false;
    }
    return true;
  }

  static uint32_t tag(uint64_t h) { return static_cast<uint32_t>(h >> 32); }

  void rehash(int64_t capacity) {
    size_t size = 1;
    while (static_cast<int64_t>(size) < capacity) size <<= 1;
    slots_.assign(size, Slot{-1, 0});
    mask_ = size - 1;
    for (int64_t i = 0; i < count_; ++i) {
      const uint64_t h = hash<0>(key(i));
      size_t slot = h & mask_;
      while (slots_[slot].vertex >= 0) slot = (slot + 1) & mask_;
      slots_[slot] = {static_cast<int32_t>(i), tag(h)};
    }
  }

  int d_;
  int64_t count_ = 0;
  size_t mask_ = 0;
  // Megabytes each for a photo, probed in no particular order: huge pages.
  std::vector<Slot, HugePageAllocator<Slot>> slots_;
  std::vector<int32_t, HugePageAllocator<int32_t>> keys_;
};

namespace {

// One point lifted onto the lattice: the d + 1 corners of its simplex and
// their barycentric weights (Adams et al. 2010, section 3.1); kD as for
// VertexTable.
template <int kD>
class SimplexLocator {
 public:
  explicit SimplexLocator(int d)
      : d_(d), scale_(d), elevated_(d + 1), remainder_(d + 1), rem0_(d + 1), rank_(d + 1), barycentric_(d + 2) {
    // Scales the features so that the lattice blur matches a unit Gaussian
    // (the paper's sqrt(2/3) (d + 1) expected standard deviation).
    for (int i = 0; i < d; ++i) scale_[i] = std::sqrt(2.0f / 3.0f) * (d + 1) / std::sqrt((i + 1.0f) * (i + 2.0f));
  }

  void locate(const float* f) {
    const int d = dimension();
    float running = 0;
    for (int j = d; j > 0; --j) {  // onto the hyperplane sum(x) = 0
      const float cf = f[j - 1] * scale_[j - 1];
      elevated_[j] = running - j * cf;
      running += cf;
    }
    elevated_[0] = running;
    int sum = 0;  // nearest remainder-0 point, then its rank order
    for (int i = 0; i <= d; ++i) {
      const int rounded = static_cast<int>(std::round(elevated_[i] / (d + 1)));
      rem0_[i] = rounded * (d + 1);
      sum += rounded;
    }
    // Rank of each remainder among all (ties go to the lower index), counted
    // without branches: the comparisons are data-dependent, and as if-else
    // they were mispredicted about half the time (the build's hottest
    // instructions before).
    for (int i = 0; i <= d; ++i) remainder_[i] = elevated_[i] - rem0_[i];
    for (int i = 0; i <= d; ++i) {
      int rank = 0;
      for (int j = 0; j < i; ++j) rank += remainder_[j] >= remainder_[i];
      for (int j = i + 1; j <= d; ++j) rank += remainder_[j] > remainder_[i];
      rank_[i] = rank;
    }
    for (int i = 0; i <= d; ++i) {  // off the plane by `sum`: walk back onto it
      rank_[i] += sum;
      if (rank_[i] < 0) {
        rank_[i] += d + 1;
        rem0_[i] += d + 1;
      } else if (rank_[i] > d) {
        rank_[i] -= d + 1;
        rem0_[i] -= d + 1;
      }
    }
    std::fill(barycentric_.begin(), barycentric_.end(), 0.0f);
    for (int i = 0; i <= d; ++i) {
      const float v = (elevated_[i] - rem0_[i]) / (d + 1);
      barycentric_[d - rank_[i]] += v;
      barycentric_[d - rank_[i] + 1] -= v;
    }
    barycentric_[0] += 1.0f + barycentric_[d + 1];
  }

  // The first d coordinates of corner `r` (0..d) of the located simplex.
  void corner(int r, int32_t* key) const {
    const int d = dimension();
    for (int i = 0; i < d; ++i) key[i] = rem0_[i] + (rank_[i] <= d - r ? r : r - (d + 1));
  }
  float weight(int r) const { return barycentric_[r]; }

 private:
  int dimension() const { return kD > 0 ? kD : d_; }

  int d_;
  std::vector<float> scale_, elevated_, remainder_;
  std::vector<int32_t> rem0_, rank_;
  std::vector<float> barycentric_;
};

}  // namespace

PermutohedralLattice::PermutohedralLattice(const std::vector<float>& features, int64_t n, int d) : d_(d), n_(n) {
  if (d < 1 || static_cast<int64_t>(features.size()) != n * d) {
    throw std::invalid_argument("PermutohedralLattice: " + std::to_string(features.size()) + " feature values for " +
                                std::to_string(n) + " points of dimension " + std::to_string(d));
  }
  if (d == 5) {  // the dense CRF's bilateral features
    build<5>(features);
  } else {
    build<0>(features);
  }
}

template <int kD>
void PermutohedralLattice::build(const std::vector<float>& features) {
  const int d = kD > 0 ? kD : d_, corners = d + 1;
  const int64_t n = n_;
  VertexTable table(d, n);
  SimplexLocator<kD> locator(d);
  vertex_of_.resize(static_cast<size_t>(n * corners));
  weight_of_.resize(static_cast<size_t>(n * corners));
  std::vector<int32_t> keys(static_cast<size_t>(corners * d));
  std::vector<uint64_t> hashes(static_cast<size_t>(corners));
  if (corners <= 8) first_corners_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t known = table.size();  // vertices of points before i
    locator.locate(&features[static_cast<size_t>(i * d)]);
    for (int r = 0; r < corners; ++r) {  // the corners' slots are fetched together
      locator.corner(r, &keys[static_cast<size_t>(r * d)]);
      hashes[static_cast<size_t>(r)] = table.hash<kD>(&keys[static_cast<size_t>(r * d)]);
      table.prefetch(hashes[static_cast<size_t>(r)]);
    }
    uint32_t first = 0;
    for (int r = 0; r < corners; ++r) {
      const int32_t vertex =
          table.find_or_insert<kD>(&keys[static_cast<size_t>(r * d)], hashes[static_cast<size_t>(r)]);
      vertex_of_[static_cast<size_t>(i * corners + r)] = vertex;
      weight_of_[static_cast<size_t>(i * corners + r)] = locator.weight(r);
      first |= static_cast<uint32_t>(vertex >= known) << r;
    }
    if (!first_corners_.empty()) first_corners_[static_cast<size_t>(i)] = static_cast<uint8_t>(first);
  }
  vertices_ = table.size();
  link_axes<kD>(table);
}

// Neighbours along axis j: -1 on every coordinate but +d on j (and the
// reverse); for j = d the implicit last coordinate takes the +d.  The two
// steps are inverses, so one lookup per vertex and axis finds both links:
// when `upper` of v is u, `lower` of u is v.  Along one axis the links form
// disjoint chains; each is stored from its lower end, vertices with no
// neighbour on the axis not at all (a fifth of a photo's; the blur leaves
// them as they are).
template <int kD>
void PermutohedralLattice::link_axes(const VertexTable& table) {
  const int d = kD > 0 ? kD : d_;
  std::vector<int32_t> lower(static_cast<size_t>(vertices_)), upper_of(static_cast<size_t>(vertices_));
  // Keys of a block of vertices' upper neighbours, hashed and their slots
  // prefetched before any is looked up.
  constexpr int64_t kBlock = 16;
  std::vector<int32_t> upper(static_cast<size_t>(kBlock * d));
  std::vector<uint64_t> hashes(static_cast<size_t>(kBlock));
  chains_.resize(static_cast<size_t>(d + 1));
  for (int j = 0; j <= d; ++j) {
    std::fill(lower.begin(), lower.end(), -1);
    std::fill(upper_of.begin(), upper_of.end(), -1);
    for (int64_t first = 0; first < vertices_; first += kBlock) {
      const int64_t count = std::min(kBlock, vertices_ - first);
      for (int64_t b = 0; b < count; ++b) {
        const int32_t* k = table.key(first + b);
        int32_t* u = &upper[static_cast<size_t>(b * d)];
        for (int i = 0; i < d; ++i) u[i] = k[i] + 1;
        if (j < d) u[j] = k[j] - d;
        hashes[static_cast<size_t>(b)] = table.hash<kD>(u);
        table.prefetch(hashes[static_cast<size_t>(b)]);
      }
      for (int64_t b = 0; b < count; ++b) {
        const int32_t above = table.find<kD>(&upper[static_cast<size_t>(b * d)], hashes[static_cast<size_t>(b)]);
        if (above < 0) continue;
        upper_of[static_cast<size_t>(first + b)] = above;
        lower[static_cast<size_t>(above)] = static_cast<int32_t>(first + b);
      }
    }
    std::vector<int32_t>& chains = chains_[static_cast<size_t>(j)];
    chains.clear();
    for (int64_t v = 0; v < vertices_; ++v) {  // chains in the order of their lower ends
      if (lower[static_cast<size_t>(v)] >= 0 || upper_of[static_cast<size_t>(v)] < 0) continue;
      for (int32_t u = static_cast<int32_t>(v); u >= 0; u = upper_of[static_cast<size_t>(u)]) chains.push_back(u);
      chains.push_back(kChainEnd);
    }
    chains.push_back(kChainEnd);  // so that the blur may always read one entry ahead
  }
}

namespace {

// Splat, blur and slice for rows of kC channels (kernels::width).
template <int64_t kC>
[[gnu::always_inline]] inline void filter_rows(const PermutohedralLattice& lattice, const float* in, float* out,
                                               int64_t c, const float* point_scale, std::vector<float>& values) {
  const int corners = lattice.corners();
  const int32_t* vertex = lattice.corner_vertices();
  const float* weights = lattice.corner_weights();
  for (int64_t i = 0; i < lattice.size(); ++i) {
    kernels::scatter_corners<kC>(in + i * c, point_scale[i], vertex + i * corners, weights + i * corners, corners,
                                 values.data(), c);
  }
  lattice.blur(values.data(), c);
  for (int64_t i = 0; i < lattice.size(); ++i) {
    float* dst = out + i * c;
    kernels::gather_corners<kC>(values.data(), vertex + i * corners, weights + i * corners, corners, dst, c);
    for (int64_t k = 0; k < c; ++k) dst[k] *= point_scale[i];
  }
}

template <int64_t kC>
[[gnu::always_inline]] inline void blur_rows(const std::vector<std::vector<int32_t>>& chains, float* values,
                                             int64_t c) {
  for (const std::vector<int32_t>& axis : chains) kernels::blur_chains<kC>(values, axis.data(), axis.size(), c);
}

}  // namespace

DEEPLAB_SIMD_CLONES void PermutohedralLattice::blur(float* values, int64_t channels) const {
  switch (channels) {
    case 1: blur_rows<1>(chains_, values, channels); break;
    case 8: blur_rows<8>(chains_, values, channels); break;
    case 16: blur_rows<16>(chains_, values, channels); break;
    case 24: blur_rows<24>(chains_, values, channels); break;
    case 32: blur_rows<32>(chains_, values, channels); break;
    default: blur_rows<0>(chains_, values, channels); break;
  }
}

void PermutohedralLattice::filter(const float* in, float* out, int64_t channels) const {
  const std::vector<float> ones(static_cast<size_t>(n_), 1.0f);
  filter_scaled(in, out, channels, ones.data());
}

DEEPLAB_SIMD_CLONES void PermutohedralLattice::filter_scaled(const float* in, float* out, int64_t channels,
                                                             const float* point_scale) const {
  const size_t rows = static_cast<size_t>(vertices_ * channels);
  std::vector<float> values(rows, 0.0f);
  switch (channels) {
    case 1: filter_rows<1>(*this, in, out, channels, point_scale, values); break;
    case 8: filter_rows<8>(*this, in, out, channels, point_scale, values); break;
    case 16: filter_rows<16>(*this, in, out, channels, point_scale, values); break;
    case 24: filter_rows<24>(*this, in, out, channels, point_scale, values); break;
    case 32: filter_rows<32>(*this, in, out, channels, point_scale, values); break;
    default: filter_rows<0>(*this, in, out, channels, point_scale, values); break;
  }
}

SymmetricGaussianFilter::SymmetricGaussianFilter(PermutohedralLattice lattice) : lattice_(std::move(lattice)) {
  const std::vector<float> ones(static_cast<size_t>(lattice_.size()), 1.0f);
  scale_.resize(ones.size());
  lattice_.filter(ones.data(), scale_.data(), 1);
  for (float& s : scale_) s = 1.0f / std::sqrt(s + 1e-20f);
}

void SymmetricGaussianFilter::apply(const float* in, float* out, int64_t channels) const {
  lattice_.filter_scaled(in, out, channels, scale_.data());
}

}  // namespace deeplab::postprocess
