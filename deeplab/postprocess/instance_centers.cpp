// Instance centers of Panoptic-DeepLab: threshold, max-pool NMS, top-k.
//
// deeplab2 max-pools the whole thresholded heatmap.  Only pixels above the
// threshold can become centers, so here the row max (van Herk / Gil-Werman,
// O(1) per pixel whatever the kernel) runs only on rows holding such pixels,
// and the column max is taken only at those pixels.  The result is the same:
// thresholded values are >= 0, so zero padding never wins over a candidate.

#include <ATen/ATen.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/postprocess/panoptic.h"

namespace deeplab::postprocess {
namespace {

/// out[x] = max(in[x - r .. x + r]) with zero padding, for in >= 0.
class WindowMax {
 public:
  WindowMax(int64_t width, int64_t radius)
      : width_(width), radius_(radius), padded_(width + 2 * radius), prefix_(padded_.size()), suffix_(padded_.size()) {}

  void run(const float* in, float* out) {
    const int64_t k = 2 * radius_ + 1;
    const int64_t n = static_cast<int64_t>(padded_.size());
    std::copy(in, in + width_, padded_.begin() + radius_);
    for (int64_t start = 0; start < n; start += k) {
      const int64_t end = std::min(start + k, n);
      prefix_[start] = padded_[start];
      for (int64_t i = start + 1; i < end; ++i) prefix_[i] = std::max(prefix_[i - 1], padded_[i]);
      suffix_[end - 1] = padded_[end - 1];
      for (int64_t i = end - 2; i >= start; --i) suffix_[i] = std::max(suffix_[i + 1], padded_[i]);
    }
    // The window [x, x + k - 1] of the padded row spans at most two blocks.
    for (int64_t x = 0; x < width_; ++x) out[x] = std::max(suffix_[x], prefix_[x + k - 1]);
  }

 private:
  int64_t width_, radius_;
  std::vector<float> padded_, prefix_, suffix_;  // padded_ keeps its zero borders
};

struct Candidates {
  std::vector<int64_t> index;     // y * W + x, raster order
  std::vector<int64_t> row_slot;  // per row: its row in `row_max`, -1 when it holds no candidate
  std::vector<float> row_max;     // thresholded row max of the rows holding candidates
};

// Pixels above the threshold (and above 0, as deeplab2 then keeps only
// positive values) and the row max of the rows that hold them.
Candidates threshold_and_row_max(const float* heat, int64_t height, int64_t width, float threshold, int64_t radius) {
  Candidates c;
  c.row_slot.assign(static_cast<size_t>(height), -1);
  const float floor = std::max(threshold, 0.0f);
  std::vector<float> row(static_cast<size_t>(width));
  WindowMax window(width, radius);
  for (int64_t y = 0; y < height; ++y) {
    const float* h = heat + y * width;
    const size_t before = c.index.size();
    for (int64_t x = 0; x < width; ++x) {
      if (h[x] > floor) c.index.push_back(y * width + x);
    }
    if (c.index.size() == before) continue;
    for (int64_t x = 0; x < width; ++x) row[static_cast<size_t>(x)] = h[x] > floor ? h[x] : 0.0f;
    const int64_t slot = static_cast<int64_t>(c.row_max.size()) / std::max<int64_t>(width, 1);
    c.row_slot[static_cast<size_t>(y)] = slot;
    c.row_max.resize(c.row_max.size() + static_cast<size_t>(width));
    window.run(row.data(), c.row_max.data() + slot * width);
  }
  return c;
}

// A candidate survives NMS when no row max in its column window exceeds it.
bool is_local_max(const Candidates& c, float value, int64_t y, int64_t x, int64_t height, int64_t width,
                  int64_t radius) {
  const int64_t y0 = std::max<int64_t>(0, y - radius), y1 = std::min(height - 1, y + radius);
  for (int64_t yy = y0; yy <= y1; ++yy) {
    const int64_t slot = c.row_slot[static_cast<size_t>(yy)];
    if (slot >= 0 && c.row_max[static_cast<size_t>(slot * width + x)] > value) return false;
  }
  return true;
}

// deeplab2: with more than k centers, keep those strictly above the k-th best score.
float top_k_floor(const std::vector<float>& scores, int top_k) {
  if (top_k <= 0 || scores.size() <= static_cast<size_t>(top_k)) return -1.0f;  // scores are > 0
  std::vector<float> sorted = scores;
  std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<float>());
  return sorted[static_cast<size_t>(top_k - 1)];
}

}  // namespace

at::Tensor find_instance_centers(const at::Tensor& center_heatmap, const PanopticOptions& options, at::Tensor* scores) {
  const bool one_channel = center_heatmap.dim() == 3 && center_heatmap.size(0) == 1;
  if (!one_channel && center_heatmap.dim() != 2) {
    throw DataError("find_instance_centers: center heatmap must be [1, H, W] or [H, W], got " +
                    c10::str(center_heatmap.sizes()));
  }
  if (options.nms_kernel < 1 || options.nms_kernel % 2 == 0) {
    throw ConfigError("panoptic post-processing: nms_kernel must be odd and >= 1, got " +
                      std::to_string(options.nms_kernel));
  }
  const at::Tensor heat = center_heatmap.to(at::kCPU, at::kFloat).contiguous();
  const int64_t height = heat.size(-2), width = heat.size(-1), radius = options.nms_kernel / 2;
  const float* h = heat.data_ptr<float>();
  // Compared in float as deeplab2 does: a heatmap value of exactly 0.1f is not above 0.1.
  const Candidates c = threshold_and_row_max(h, height, width, static_cast<float>(options.center_threshold), radius);

  std::vector<int64_t> kept;
  std::vector<float> kept_scores;
  for (const int64_t i : c.index) {
    if (is_local_max(c, h[i], i / width, i % width, height, width, radius)) {
      kept.push_back(i);
      kept_scores.push_back(h[i]);
    }
  }
  const float floor = top_k_floor(kept_scores, options.top_k);
  std::vector<int64_t> yx;
  std::vector<float> out_scores;
  for (size_t j = 0; j < kept.size(); ++j) {
    if (kept_scores[j] <= floor) continue;
    yx.push_back(kept[j] / width);
    yx.push_back(kept[j] % width);
    out_scores.push_back(kept_scores[j]);
  }
  const int64_t count = static_cast<int64_t>(out_scores.size());
  if (scores != nullptr) {
    *scores = at::empty({count}, at::kFloat);
    std::copy(out_scores.begin(), out_scores.end(), scores->data_ptr<float>());
  }
  at::Tensor centers = at::empty({count, 2}, at::kLong);
  std::copy(yx.begin(), yx.end(), centers.data_ptr<int64_t>());
  return centers;
}

}  // namespace deeplab::postprocess
