// Panoptic-DeepLab's merge of semantic, center and offset outputs.  One raw
// pass does argmax, thing mask, grouping, class votes and stuff areas; a
// second maps each pixel's code to its panoptic id through a small table, so
// no full-resolution ATen temporaries are made.

#include "deeplab/postprocess/panoptic.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "deeplab/core/error.h"

namespace deeplab::postprocess {
namespace {

at::Tensor cpu_float(const at::Tensor& t) { return t.to(at::kCPU, at::kFloat).contiguous(); }

void check_shape(const at::Tensor& t, const char* what, at::IntArrayRef expected) {
  if (t.sizes() != expected) {
    throw DataError(std::string("panoptic post-processing: ") + what + " must be " + c10::str(expected) + ", got " +
                    c10::str(t.sizes()));
  }
}

// The options that matter once the class count is known; returns is_thing per class.
std::vector<uint8_t> check_options(const PanopticOptions& options, int64_t num_classes) {
  if (options.label_divisor < 1 ||
      num_classes * static_cast<int64_t>(options.label_divisor) - 1 > std::numeric_limits<int32_t>::max()) {
    throw ConfigError("panoptic post-processing: label_divisor " + std::to_string(options.label_divisor) +
                      " must be >= 1 and keep " + std::to_string(num_classes) + " classes' ids in int32");
  }
  std::vector<uint8_t> is_thing(static_cast<size_t>(num_classes), 0);
  for (const int id : options.thing_ids) {
    if (id < 0 || id >= num_classes) {
      throw ConfigError("panoptic post-processing: thing id " + std::to_string(id) + " is not a class of the " +
                        std::to_string(num_classes) + "-class semantic output");
    }
    is_thing[static_cast<size_t>(id)] = 1;
  }
  return is_thing;
}

/// Center coordinates as float, the precision deeplab2 measures distances in.
struct CenterCoords {
  std::vector<float> y, x;
  explicit CenterCoords(const at::Tensor& centers) {
    if (centers.dim() != 2 || centers.size(1) != 2) {
      throw DataError("panoptic post-processing: centers must be [K, 2], got " + c10::str(centers.sizes()));
    }
    const at::Tensor c = centers.to(at::kCPU, at::kLong).contiguous();
    const int64_t* p = c.data_ptr<int64_t>();
    for (int64_t k = 0; k < c.size(0); ++k) {
      y.push_back(static_cast<float>(p[2 * k]));
      x.push_back(static_cast<float>(p[2 * k + 1]));
    }
  }
  int64_t size() const { return static_cast<int64_t>(y.size()); }
};

/// The pixels of one row waiting for their nearest center: position x and the
/// shifted point (qy, qx).  Centers run in the outer loop so that the inner
/// one vectorizes; the selects are written as masks because gcc does not
/// vectorize `?:` on two arrays.
class RowGroups {
 public:
  explicit RowGroups(int64_t width) : x_(width), qy_(width), qx_(width), dist_(width), nearest_(width) {}

  void clear() { n_ = 0; }
  void add(int64_t x, float qy, float qx) {
    x_[n_] = x;
    qy_[n_] = qy;
    qx_[n_] = qx;
    ++n_;
  }
  int64_t size() const { return n_; }
  int64_t x(int64_t j) const { return x_[j]; }
  /// 1 + index of the j-th pixel's nearest center (the first on ties), 0 without centers
  /// (or a NaN offset); valid after assign().
  int32_t nearest(int64_t j) const { return nearest_[j]; }

  void assign(const CenterCoords& centers) {
    float* __restrict dist = dist_.data();
    int32_t* __restrict nearest = nearest_.data();
    const float* __restrict qy = qy_.data();
    const float* __restrict qx = qx_.data();
    std::fill(dist, dist + n_, std::numeric_limits<float>::infinity());
    std::fill(nearest, nearest + n_, 0);
    for (int64_t k = 0; k < centers.size(); ++k) {
      const float cy = centers.y[static_cast<size_t>(k)], cx = centers.x[static_cast<size_t>(k)];
      const int32_t id = static_cast<int32_t>(k + 1);
      for (int64_t j = 0; j < n_; ++j) {
        const float a = cy - qy[j], b = cx - qx[j];
        const float d = a * a + b * b;
        const int32_t closer = -static_cast<int32_t>(d < dist[j]);
        dist[j] = std::min(dist[j], d);
        nearest[j] = (id & closer) | (nearest[j] & ~closer);
      }
    }
  }

 private:
  std::vector<int64_t> x_;
  std::vector<float> qy_, qx_, dist_;
  std::vector<int32_t> nearest_;
  int64_t n_ = 0;
};

// Per-pixel argmax of one row, ties to the lower class as torch.argmax
// (masks again, for the vectorizer).
void argmax_row(const float* semantic, int64_t classes, int64_t plane, int64_t width, float* __restrict best,
                int32_t* __restrict label) {
  std::copy(semantic, semantic + width, best);
  std::fill(label, label + width, 0);
  for (int64_t c = 1; c < classes; ++c) {
    const float* __restrict s = semantic + c * plane;
    const int32_t cc = static_cast<int32_t>(c);
    for (int64_t x = 0; x < width; ++x) {
      const int32_t above = -static_cast<int32_t>(s[x] > best[x]);
      best[x] = std::max(best[x], s[x]);
      label[x] = (cc & above) | (label[x] & ~above);
    }
  }
}

/// What the first pass learns about the image.
struct PixelStats {
  std::vector<int64_t> class_pixels;  // [C]
  std::vector<int64_t> votes;         // [(K + 1) * C]: semantic classes of each instance's pixels
};

/// One image's raw buffers, all contiguous.
struct ImageView {
  const float* semantic;  // [C, H, W]
  const float* offsets;   // [2, H, W]
  int64_t* semantic_out;  // [H, W]
  int32_t* code;          // [H, W]: the class for stuff, C + instance (0: none) for things
  int64_t classes, height, width;
};

/// The pass over the pixels: argmax, thing mask, grouping, class votes and areas.
class FirstPass {
 public:
  FirstPass(const ImageView& image, const std::vector<uint8_t>& is_thing, const CenterCoords& centers)
      : im_(image),
        is_thing_(is_thing),
        centers_(centers),
        best_(image.width),
        label_(image.width),
        groups_(image.width) {
    stats_.class_pixels.assign(static_cast<size_t>(im_.classes), 0);
    stats_.votes.assign(static_cast<size_t>((centers.size() + 1) * im_.classes), 0);
  }

  PixelStats run() {
    for (int64_t y = 0; y < im_.height; ++y) row(y);
    return std::move(stats_);
  }

 private:
  void row(int64_t y) {
    const int64_t plane = im_.height * im_.width, start = y * im_.width;
    argmax_row(im_.semantic + start, im_.classes, plane, im_.width, best_.data(), label_.data());
    groups_.clear();
    for (int64_t x = 0; x < im_.width; ++x) {
      const int32_t c = label_[x];
      im_.semantic_out[start + x] = c;
      im_.code[start + x] = c;
      ++stats_.class_pixels[static_cast<size_t>(c)];
      if (is_thing_[static_cast<size_t>(c)]) {
        groups_.add(x, static_cast<float>(y) + im_.offsets[start + x],
                    static_cast<float>(x) + im_.offsets[plane + start + x]);
      }
    }
    groups_.assign(centers_);
    for (int64_t j = 0; j < groups_.size(); ++j) {
      const int64_t x = groups_.x(j);
      const int32_t instance = groups_.nearest(j);
      im_.code[start + x] = static_cast<int32_t>(im_.classes) + instance;
      ++stats_.votes[static_cast<size_t>(instance * im_.classes + label_[x])];
    }
  }

  const ImageView& im_;
  const std::vector<uint8_t>& is_thing_;
  const CenterCoords& centers_;
  std::vector<float> best_;
  std::vector<int32_t> label_;
  RowGroups groups_;
  PixelStats stats_;
};

// Panoptic id per pixel code: stuff by area, instances by majority class and
// numbered per class in center order, -1 for void.
std::vector<int32_t> code_table(const PixelStats& stats, const PanopticOptions& options,
                                const std::vector<uint8_t>& is_thing, int64_t instances) {
  const int64_t classes = static_cast<int64_t>(is_thing.size());
  const int32_t divisor = options.label_divisor;
  std::vector<int32_t> table(static_cast<size_t>(classes + instances + 1), -1);
  for (int64_t c = 0; c < classes; ++c) {
    if (!is_thing[static_cast<size_t>(c)] && stats.class_pixels[static_cast<size_t>(c)] >= options.stuff_area) {
      table[static_cast<size_t>(c)] = static_cast<int32_t>(c) * divisor;
    }
  }
  std::vector<int32_t> next_number(static_cast<size_t>(classes), 0);
  for (int64_t i = 1; i <= instances; ++i) {
    const int64_t* v = stats.votes.data() + i * classes;
    const int64_t cls = std::max_element(v, v + classes) - v;  // first maximum: the smaller class
    if (v[cls] == 0) continue;                                 // no pixel: the instance vanishes
    const int32_t number = ++next_number[static_cast<size_t>(cls)];
    if (number >= divisor) {
      throw DataError("panoptic post-processing: class " + std::to_string(cls) + " has " + std::to_string(number) +
                      " instances, label_divisor " + std::to_string(divisor) + " must exceed that");
    }
    table[static_cast<size_t>(classes + i)] = static_cast<int32_t>(cls) * divisor + number;
  }
  return table;
}

}  // namespace

at::Tensor group_pixels(const at::Tensor& offsets, const at::Tensor& centers, const at::Tensor& thing_mask) {
  if (thing_mask.dim() != 2) {
    throw DataError("group_pixels: thing mask must be [H, W], got " + c10::str(thing_mask.sizes()));
  }
  const int64_t height = thing_mask.size(0), width = thing_mask.size(1);
  check_shape(offsets, "offsets", {2, height, width});
  const CenterCoords coords(centers);
  const at::Tensor off = cpu_float(offsets);
  const at::Tensor mask = thing_mask.to(at::kCPU, at::kBool).contiguous();
  at::Tensor out = at::zeros({height, width}, at::kInt);
  const float* o = off.data_ptr<float>();
  const bool* m = mask.data_ptr<bool>();
  int32_t* g = out.data_ptr<int32_t>();
  const int64_t plane = height * width;
  RowGroups groups(width);
  for (int64_t y = 0; y < height; ++y) {
    const int64_t row = y * width;
    groups.clear();
    for (int64_t x = 0; x < width; ++x) {
      if (m[row + x]) groups.add(x, static_cast<float>(y) + o[row + x], static_cast<float>(x) + o[plane + row + x]);
    }
    groups.assign(coords);
    for (int64_t j = 0; j < groups.size(); ++j) g[row + groups.x(j)] = groups.nearest(j);
  }
  return out;
}

PanopticPrediction panoptic_from_outputs(const at::Tensor& semantic, const at::Tensor& center_heatmap,
                                         const at::Tensor& offsets, const PanopticOptions& options) {
  if (semantic.dim() != 3 || semantic.size(0) < 1) {
    throw DataError("panoptic post-processing: semantic output must be [C, H, W] with C >= 1, got " +
                    c10::str(semantic.sizes()));
  }
  const int64_t classes = semantic.size(0), height = semantic.size(1), width = semantic.size(2);
  check_shape(center_heatmap, "center heatmap", {1, height, width});
  check_shape(offsets, "offsets", {2, height, width});
  const std::vector<uint8_t> is_thing = check_options(options, classes);

  PanopticPrediction out;
  out.centers = find_instance_centers(center_heatmap, options, &out.center_scores);
  const CenterCoords centers(out.centers);
  const at::Tensor sem = cpu_float(semantic), off = cpu_float(offsets);
  out.semantic = at::empty({height, width}, at::kLong);
  out.panoptic = at::empty({height, width}, at::kInt);
  int32_t* code = out.panoptic.data_ptr<int32_t>();
  const ImageView image{
      sem.data_ptr<float>(), off.data_ptr<float>(), out.semantic.data_ptr<int64_t>(), code, classes, height, width};
  const PixelStats stats = FirstPass(image, is_thing, centers).run();
  const std::vector<int32_t> table = code_table(stats, options, is_thing, centers.size());
  for (int64_t p = 0; p < height * width; ++p) code[p] = table[static_cast<size_t>(code[p])];
  return out;
}

std::vector<PanopticPrediction> panoptic_from_batch(const at::Tensor& semantic, const at::Tensor& center_heatmap,
                                                    const at::Tensor& offsets, const PanopticOptions& options) {
  if (semantic.dim() != 4) {
    throw DataError("panoptic post-processing: batched semantic output must be [N, C, H, W], got " +
                    c10::str(semantic.sizes()));
  }
  const int64_t n = semantic.size(0), height = semantic.size(2), width = semantic.size(3);
  check_shape(center_heatmap, "batched center heatmap", {n, 1, height, width});
  check_shape(offsets, "batched offsets", {n, 2, height, width});
  check_options(options, semantic.size(1));  // fail before the threads start
  const at::Tensor sem = cpu_float(semantic), heat = cpu_float(center_heatmap), off = cpu_float(offsets);
  std::vector<PanopticPrediction> out(static_cast<size_t>(n));
  // Images are independent; each is single-threaded, so spread them.
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      out[static_cast<size_t>(i)] = panoptic_from_outputs(sem[i], heat[i], off[i], options);
    }
  });
  return out;
}

}  // namespace deeplab::postprocess
