#include "deeplab/postprocess/dense_crf.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "deeplab/postprocess/huge_page_allocator.h"
#include "deeplab/postprocess/lattice_kernels.h"
#include "deeplab/postprocess/permutohedral_lattice.h"
#include "deeplab/postprocess/simd_clones.h"

namespace deeplab::postprocess {
namespace {

// Pixel-major n x C buffers: every filter walks C contiguous floats per
// pixel.  Huge pages for the big ones (huge_page_allocator.h).
using Buffer = std::vector<float, HugePageAllocator<float>>;

// Position and colour: (x, y, r, g, b) over their standard deviations.
constexpr int kBilateralFeatures = 5;
static_assert(kBilateralFeatures + 1 <= 8, "PermutohedralLattice::first_corners() is one byte per point");

SymmetricGaussianFilter bilateral_filter(const uint8_t* rgb, int64_t h, int64_t w, const DenseCrfOptions& o) {
  std::vector<float> features(static_cast<size_t>(h * w * kBilateralFeatures));
  const float xy = static_cast<float>(o.bilateral_xy_std), color = static_cast<float>(o.bilateral_rgb_std);
  for (int64_t y = 0, i = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x, ++i) {
      float* f = &features[static_cast<size_t>(i * kBilateralFeatures)];
      f[0] = x / xy;
      f[1] = y / xy;
      for (int c = 0; c < 3; ++c) f[2 + c] = rgb[i * 3 + c] / color;
    }
  }
  return SymmetricGaussianFilter(PermutohedralLattice(features, h * w, kBilateralFeatures));
}

// exp(-|dp|^2 / 2 std^2) on the pixel grid, separable, symmetrically
// normalised, on rows of c floats per pixel (c a multiple of kLanes), one
// output row at a time so that the mean field can consume each row as it is
// made.  D = K 1 is separable too, D^-1/2 = diag(sx[x] sy[y]): the x pass
// weighs its taps by sx of their source pixels, which is one constant away
// from the image's left and right border (so those taps are constants in
// registers, and the interior reads q in place), and the y pass weighs its
// taps by sy of their source rows.  Each output vector sums all its taps in
// a register (one store, not one per tap); the x-filtered rows live in a
// ring of 2 radius + 1 rows (cache-sized) instead of a whole-image buffer.
class SpatialFilter {
 public:
  SpatialFilter(int64_t h, int64_t w, double std) : h_(h), w_(w) {
    radius_ = std::max(1, static_cast<int>(std::ceil(3 * std)));
    for (int d = -radius_; d <= radius_; ++d) taps_.push_back(static_cast<float>(std::exp(-d * d / (2 * std * std))));
    const auto inside = [&](int64_t size) {  // taps that fall inside an axis of `size` pixels, per position
      std::vector<double> sums(static_cast<size_t>(size), 0.0);
      for (int64_t at = 0; at < size; ++at) {
        for (int d = -radius_; d <= radius_; ++d) sums[at] += (at + d >= 0 && at + d < size) ? taps_[d + radius_] : 0.0;
      }
      return sums;
    };
    const std::vector<double> along_x = inside(w), along_y = inside(h);
    for (double sum : along_x) x_scale_.push_back(static_cast<float>(1.0 / std::sqrt(sum)));
    for (double sum : along_y) y_scale_.push_back(static_cast<float>(1.0 / std::sqrt(sum)));
    scale_.resize(static_cast<size_t>(h * w));
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) scale_[y * w + x] = x_scale_[x] * y_scale_[y];
    }
    const float interior = static_cast<float>(1.0 / std::sqrt(std::accumulate(taps_.begin(), taps_.end(), 0.0)));
    for (float tap : taps_) interior_taps_.push_back(tap * interior);
    for (int64_t x = 0; x < w; ++x) {  // the columns whose taps reach a pixel of the border band
      if (x < 2 * radius_ || x >= w - 2 * radius_) border_columns_.push_back(x);
    }
  }

  /// Row y of K D^-1/2 in (w x c floats; the caller applies the output
  /// pixel's D^-1/2, point_scale()).  Rows are asked for in order y = 0, 1, ...;
  /// once row y is returned, row y of `in` is no longer read, so the caller
  /// may overwrite it (the mean field writes the new q in place).
  [[gnu::always_inline]] const float* message_row(int64_t y, const float* in, int64_t c) const {
    const int64_t row = w_ * c, ring = 2 * radius_ + 1;
    if (y == 0) {  // size the buffers, x-filter the rows above the first output's reach
      rows_.resize(static_cast<size_t>(ring * row));
      column_.resize(static_cast<size_t>(row));
      sources_.resize(static_cast<size_t>(ring));
      row_taps_.resize(static_cast<size_t>(ring));
      for (int64_t r = 0; r < std::min<int64_t>(radius_, h_); ++r) filter_row(in, r, c, ring_row(r, row));
    }
    if (y + radius_ < h_) filter_row(in, y + radius_, c, ring_row(y + radius_, row));
    const int lo = static_cast<int>(std::max<int64_t>(-radius_, -y));
    const int hi = static_cast<int>(std::min<int64_t>(radius_, h_ - 1 - y));
    for (int d = lo; d <= hi; ++d) {
      sources_[d - lo] = ring_row(y + d, row);
      row_taps_[d - lo] = taps_[d + radius_] * y_scale_[y + d];
    }
    sum_rows(sources_.data(), row_taps_.data(), hi - lo + 1, row, column_.data());
    return column_.data();
  }

  /// D^-1/2, one factor per pixel.
  const float* point_scale() const { return scale_.data(); }

 private:
  // The common count, 7 taps (std 1, the v2 recipe), with its weights in registers.
  [[gnu::always_inline]] static void sum_rows(const float* const* sources, const float* taps, int count, int64_t n,
                                              float* dst) {
    if (count == 7) {
      kernels::weighted_sum<7>(sources, taps, count, n, dst);
    } else {
      kernels::weighted_sum(sources, taps, count, n, dst);
    }
  }

  float* ring_row(int64_t y, int64_t row) const { return &rows_[static_cast<size_t>((y % (2 * radius_ + 1)) * row)]; }

  // Row `y` of `in` filtered along x, its taps weighed by sx of their
  // source pixels, into `dst`: the interior straight from `in`, the columns
  // near the border one at a time with their own weights.
  [[gnu::always_inline]] void filter_row(const float* in, int64_t y, int64_t c, float* dst) const {
    const float* row = in + y * w_ * c;
    const int taps = 2 * radius_ + 1;
    if (w_ > 4 * radius_) {  // output x = 2 radius + j reads x = radius + j + t, tap t
      for (int t = 0; t < taps; ++t) sources_[t] = row + (radius_ + t) * c;
      sum_rows(sources_.data(), interior_taps_.data(), taps, (w_ - 4 * radius_) * c, dst + 2 * radius_ * c);
    }
    for (int64_t x : border_columns_) {
      int count = 0;
      for (int d = -radius_; d <= radius_; ++d) {
        if (x + d < 0 || x + d >= w_) continue;
        sources_[count] = row + (x + d) * c;
        row_taps_[count++] = taps_[d + radius_] * x_scale_[x + d];
      }
      kernels::weighted_sum(sources_.data(), row_taps_.data(), count, c, dst + x * c);
    }
  }

  int64_t h_, w_;
  int radius_;
  std::vector<float> taps_, interior_taps_, x_scale_, y_scale_;
  std::vector<int64_t> border_columns_;
  Buffer scale_;
  mutable Buffer rows_, column_;               // work buffers, reused by every iteration
  mutable std::vector<const float*> sources_;  // the taps' rows, for weighted_sum
  mutable std::vector<float> row_taps_;        // their weights
};

// One pixel's softmax over its c labels the careful way (the largest logit
// subtracted first); padding lanes are zero.
void softmax_pixel(const float* logits, float* out, int64_t c, int64_t padded) {
  const float top = *std::max_element(logits, logits + c);
  std::copy(logits, logits + c, out);
  std::fill(out + c, out + padded, top);  // any finite value: these lanes are zeroed below
  kernels::Vec total{};
  for (int64_t k = 0; k < padded; k += kernels::kLanes) {
    kernels::Vec e = kernels::exp_clamped(kernels::load(out + k) - top);
    for (int64_t l = 0; l < kernels::kLanes; ++l) e[l] = k + l < c ? e[l] : 0.0f;
    kernels::store(out + k, e);
    total += e;
  }
  const float sum = kernels::lane_sum(total)[0];
  for (int64_t k = 0; k < c; ++k) out[k] /= sum;
}

// q = softmax over labels of one pixel's logits.  The logits are log p
// (>= -18.5 for p >= 1e-8) plus bounded messages, so exp(logit) neither
// overflows nor vanishes in practice: the exponentials run without
// subtracting the pixel's maximum, in whole vectors (`mask` zeroes the
// padding lanes, all in the last vector); a pixel whose sum is not a normal
// number is redone the careful way.
template <int64_t kC>
[[gnu::always_inline]] inline void softmax_row(const float* logits, const float* mask, float* q, int64_t labels,
                                               int64_t c) {
  using kernels::kLanes;
  using kernels::Vec;
  constexpr int64_t kRegisters = kC > 0 ? kC / kLanes : 1;
  const int64_t n = kernels::width<kC>(c);
  Vec e[kRegisters];  // kC > 0: the whole row in registers
  Vec total{};
  for (int64_t k = 0; k < n; k += kLanes) {
    Vec v = kernels::exp_clamped(kernels::load(logits + k));
    if (k + kLanes == n) v *= kernels::load(mask + k);
    total += v;
    if constexpr (kC > 0) {
      e[k / kLanes] = v;
    } else {
      kernels::store(q + k, v);
    }
  }
  total = kernels::lane_sum(total);
  if (!(total[0] > 1e-30f && total[0] < 1e30f)) {
    softmax_pixel(logits, q, labels, n);
    return;
  }
  const Vec inv = 1.0f / total;
  for (int64_t k = 0; k < n; k += kLanes) {
    if constexpr (kC > 0) {
      kernels::store(q + k, e[k / kLanes] * inv);
    } else {
      kernels::store(q + k, kernels::load(q + k) * inv);
    }
  }
}

// Mean-field state on pixel-major rows of `padded` floats (labels rounded up
// to whole vectors; the padding lanes of q stay zero, so they send no messages).
struct MeanField {
  int64_t height, width, labels, padded;
  const float* log_p;  // -unary, padding lanes 0
  float* out;          // the final q, labels x pixels (the result tensor's memory)
  Buffer mask;         // 1 per label lane, 0 per padding lane
  Buffer zeros;        // a row of 0: where a pixel's splat starts a vertex's row
  Buffer q;            // current marginals
  Buffer splatted;     // q splatted onto the bilateral lattice: vertices x padded
  Buffer next;         // the splat of the new q, made while `splatted` is read
                       // (each splat writes a vertex's row at its first
                       // pixel: neither buffer is zeroed between iterations)
};

// The whole inference for rows of kC floats.  Per iteration: the lattice
// blur of q as splatted at the end of the previous iteration, then one pass
// over the pixels, a row at a time: the row's spatial message (streamed
// from q, which the pass then overwrites behind it), the sliced bilateral
// message, the softmax, and the splat of the new q for the next iteration.
// Each pixel's row is read twice and written once per iteration, where
// separate passes moved it ten times (the image's rows are 18 MB for
// 500 x 375 x 24 floats: this loop is bound by memory, not arithmetic).
// Pixels ahead whose lattice rows are prefetched: a photo's lattice has about
// one vertex per pixel (17 MB of rows for 21 labels), so the corner rows of
// a pixel are mostly not in cache, and each of its 6 corners waits on memory.
constexpr int64_t kAhead = 4;

template <int64_t kC, int kK>
[[gnu::always_inline]] inline void run_mean_field(MeanField& m, const SymmetricGaussianFilter& bilateral,
                                                  const SpatialFilter& spatial, const DenseCrfOptions& o) {
  const int64_t c = m.padded, w = m.width;
  const PermutohedralLattice& lattice = bilateral.lattice();
  const int corners = lattice.corners();
  const int32_t* vertex = lattice.corner_vertices();
  const float* weight = lattice.corner_weights();
  const float* scale = bilateral.point_scale();
  const float* spatial_scale = spatial.point_scale();
  const uint8_t* first = lattice.first_corners();
  const auto bw = static_cast<float>(o.bilateral_weight), sw = static_cast<float>(o.spatial_weight);
  // (No lambdas here: a lambda's body is compiled for the baseline target.)
  for (int64_t i = 0; i < m.height * w; ++i) {
    softmax_row<kC>(m.log_p + i * c, m.mask.data(), &m.q[i * c], m.labels, c);
    if (o.iterations > 0) {
      kernels::scatter_corners<kC, kK>(&m.q[i * c], scale[i], vertex + i * corners, weight + i * corners, corners,
                                       m.splatted.data(), c, first[i], m.zeros.data());
    }
  }
  float fixed[3][kC > 0 ? kC : 1];
  Buffer any(kC > 0 ? 0 : 3 * c);
  float* sliced = kC > 0 ? fixed[0] : any.data();
  float* logits = kC > 0 ? fixed[1] : any.data() + c;
  float* fresh = kC > 0 ? fixed[2] : any.data() + 2 * c;
  for (int it = 0; it < o.iterations; ++it) {
    const bool last = it + 1 == o.iterations;
    lattice.blur(m.splatted.data(), c);
    for (int64_t y = 0; y < m.height; ++y) {
      const float* spatial_row = spatial.message_row(y, m.q.data(), c);
      for (int64_t x = 0, i = y * w; x < w; ++x, ++i) {
        if (i + kAhead < m.height * w) {
          kernels::prefetch_corners<kC, kK>(m.splatted.data(), m.next.data(), vertex + (i + kAhead) * corners, corners,
                                            c);
        }
        kernels::gather_corners<kC, kK>(m.splatted.data(), vertex + i * corners, weight + i * corners, corners, sliced,
                                        c);
        kernels::combine<kC>(m.log_p + i * c, sw * spatial_scale[i], spatial_row + x * c, bw * scale[i], sliced, logits,
                             c);
        if (last) {  // straight into the result, label-major (q is not read again)
          softmax_row<kC>(logits, m.mask.data(), fresh, m.labels, c);
          for (int64_t k = 0; k < m.labels; ++k) m.out[k * m.height * w + i] = fresh[k];
        } else {
          softmax_row<kC>(logits, m.mask.data(), &m.q[i * c], m.labels, c);
          kernels::scatter_corners<kC, kK>(&m.q[i * c], scale[i], vertex + i * corners, weight + i * corners, corners,
                                           m.next.data(), c, first[i], m.zeros.data());
        }
      }
    }
    m.splatted.swap(m.next);
  }
}

DEEPLAB_SIMD_CLONES void mean_field(MeanField& m, const SymmetricGaussianFilter& bilateral,
                                    const SpatialFilter& spatial, const DenseCrfOptions& o) {
  constexpr int kCorners = kBilateralFeatures + 1;  // unrolled
  switch (m.padded) {
    case 8: run_mean_field<8, kCorners>(m, bilateral, spatial, o); break;
    case 16: run_mean_field<16, kCorners>(m, bilateral, spatial, o); break;
    case 24: run_mean_field<24, kCorners>(m, bilateral, spatial, o); break;
    case 32: run_mean_field<32, kCorners>(m, bilateral, spatial, o); break;
    default: run_mean_field<0, kCorners>(m, bilateral, spatial, o); break;
  }
}

// log p, pixel-major with rows of `padded` floats (padding 0); p is clamped
// so that a zero is a large cost, not infinity.  ATen's vectorised log in
// place, then one transposing pass into the padded rows (where clamp, log,
// permute and constant_pad_nd made three tensors).
Buffer pixel_major_log(const at::Tensor& probabilities, int64_t padded) {
  at::Tensor log_p = probabilities.to(at::kCPU, at::kFloat).clamp_min(1e-8);
  log_p.log_();
  log_p = log_p.contiguous();
  const int64_t c = log_p.size(0), n = log_p.size(1) * log_p.size(2);
  const float* labels_major = log_p.data_ptr<float>();
  Buffer rows(static_cast<size_t>(n * padded), 0.0f);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < c; ++k) rows[static_cast<size_t>(i * padded + k)] = labels_major[k * n + i];
  }
  return rows;
}

void check_inputs(const at::Tensor& rgb, const at::Tensor& probabilities) {
  if (probabilities.dim() != 3 || rgb.dim() != 3 || rgb.size(2) != 3 || rgb.size(0) != probabilities.size(1) ||
      rgb.size(1) != probabilities.size(2)) {
    throw std::invalid_argument(
        "dense_crf: needs probabilities [C, H, W] and an image [H, W, 3] of the same size; got " +
        std::to_string(probabilities.dim()) + "-d probabilities and a " + std::to_string(rgb.dim()) + "-d image");
  }
}

}  // namespace

at::Tensor dense_crf(const at::Tensor& rgb, const at::Tensor& probabilities, const DenseCrfOptions& options) {
  check_inputs(rgb, probabilities);
  const int64_t c = probabilities.size(0), h = probabilities.size(1), w = probabilities.size(2), n = h * w;
  const int64_t padded = kernels::padded_channels(c);
  const at::Tensor image = rgb.to(at::kCPU, at::kByte).contiguous();
  const Buffer log_p = pixel_major_log(probabilities, padded);
  at::Tensor result = at::empty({c, h, w}, at::kFloat);

  const SymmetricGaussianFilter bilateral = bilateral_filter(image.data_ptr<uint8_t>(), h, w, options);
  const SpatialFilter spatial(h, w, options.spatial_xy_std);
  MeanField m{h, w, c, padded, log_p.data(), result.data_ptr<float>(), {}, {}, {}, {}, {}};
  m.mask.assign(static_cast<size_t>(padded), 0.0f);
  std::fill(m.mask.begin(), m.mask.begin() + c, 1.0f);
  m.zeros.assign(static_cast<size_t>(padded), 0.0f);
  m.q.resize(static_cast<size_t>(n * padded));
  const size_t vertex_rows = static_cast<size_t>(bilateral.lattice().vertices() * padded);
  m.splatted.assign(vertex_rows, 0.0f);
  m.next.assign(vertex_rows, 0.0f);
  mean_field(m, bilateral, spatial, options);
  if (options.iterations == 0) {  // no mean-field pass wrote the result: q is the input softmax
    result.copy_(at::from_blob(m.q.data(), {h, w, padded}, at::kFloat).narrow(2, 0, c).permute({2, 0, 1}));
  }
  return result;
}

}  // namespace deeplab::postprocess
