#pragma once
// High-dimensional Gaussian filtering on the permutohedral lattice (Adams,
// Baek & Davis, "Fast High-Dimensional Filtering Using the Permutohedral
// Lattice", Eurographics 2010), as the dense CRF of Kraehenbuehl & Koltun
// (NIPS 2011) uses it: each point's d features (already divided by their
// standard deviations) are lifted onto the lattice's hyperplane in d + 1
// dimensions; values are splatted onto the d + 1 vertices of the enclosing
// simplex with barycentric weights, blurred with [1/2, 1, 1/2] along each of
// the d + 1 lattice axes, and sliced back.  Cost is linear in the points:
// the lattice is built once per image and reused by every filtering.

#include <cstdint>
#include <vector>

namespace deeplab::postprocess {

class VertexTable;

class PermutohedralLattice {
 public:
  /// `features`: n x d, row-major (point i at features[i * d]).
  PermutohedralLattice(const std::vector<float>& features, int64_t n, int d);

  /// out = K in, K ~ exp(-|f_i - f_j|^2 / 2) up to a constant factor; `in`
  /// and `out` are n x channels, row-major, and may not alias.
  void filter(const float* in, float* out, int64_t channels) const;

  /// out = S K S in with S = diag(point_scale) (n values): the scaling
  /// folded into the splat and slice passes.
  void filter_scaled(const float* in, float* out, int64_t channels, const float* point_scale) const;

  int64_t size() const { return n_; }
  /// Lattice vertices the points touch (memory is ~ vertices x channels floats).
  int64_t vertices() const { return vertices_; }

  // The pieces of filter(), for callers that fuse splat and slice with their
  // own per-point work (the dense CRF's mean field).  Vertex values are
  // vertices() x channels rows.
  /// Corners of each point's simplex: point i's d + 1 vertex rows and
  /// barycentric weights start at i * corners().
  int corners() const { return d_ + 1; }
  const int32_t* corner_vertices() const { return vertex_of_.data(); }
  const float* corner_weights() const { return weight_of_.data(); }
  /// Bit r of point i's byte is set when point i is the first point (in
  /// index order) with that corner's vertex, so that a splat in point order
  /// may write the row there instead of adding to it, into a buffer that
  /// needs no zeroing.  nullptr when corners() > 8.
  const uint8_t* first_corners() const { return first_corners_.empty() ? nullptr : first_corners_.data(); }
  /// Blurs `values` (vertices() x channels) in place along every lattice axis.
  void blur(float* values, int64_t channels) const;

 private:
  int d_;
  int64_t n_;
  int64_t vertices_ = 0;
  std::vector<int32_t> vertex_of_;      // n x (d + 1): lattice vertex of each simplex corner
  std::vector<float> weight_of_;        // n x (d + 1): its barycentric weight
  std::vector<uint8_t> first_corners_;  // n: see first_corners()
  /// Per axis, the chains of neighbouring vertices, each from its lower end
  /// and followed by kChainEnd; one more kChainEnd closes the list.
  std::vector<std::vector<int32_t>> chains_;
  static constexpr int32_t kChainEnd = -1;

  // kD: the feature dimension when fixed at compile time (unrolled loops), else 0.
  template <int kD>
  void build(const std::vector<float>& features);
  template <int kD>
  void link_axes(const VertexTable& table);
};

/// A Gaussian kernel with densecrf's symmetric normalisation:
/// out = D^-1/2 K D^-1/2 in, with D = diag(K 1).
class SymmetricGaussianFilter {
 public:
  explicit SymmetricGaussianFilter(PermutohedralLattice lattice);
  void apply(const float* in, float* out, int64_t channels) const;
  const PermutohedralLattice& lattice() const { return lattice_; }
  /// D^-1/2: one factor per point.
  const float* point_scale() const { return scale_.data(); }

 private:
  PermutohedralLattice lattice_;
  std::vector<float> scale_;  // 1 / sqrt(K 1) per point
};

}  // namespace deeplab::postprocess
