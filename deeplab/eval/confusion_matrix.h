#pragma once
// The confusion matrix behind every semantic metric: counts[gt][pred] in
// int64, so 500 Cityscapes images (1e9 pixels) never overflow, and mergeable:
// workers and ranks each fill their own and sum them (`merge`, or an
// all-reduce over `data()`).

#include <cstdint>
#include <string>
#include <vector>

namespace deeplab::eval {

/// Square int64 matrix of pixel counts, rows = ground truth, columns = prediction.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes = 0);

  int num_classes() const { return n_; }

  /// Adds `n` pixel pairs.  Pixels whose ground truth equals `ignore_index` are
  /// skipped (pass -1 to count every pixel).  A ground-truth or predicted value
  /// outside [0, num_classes) throws DataError naming `source`, the value and the pixel.
  void add(const uint8_t* gt, const uint8_t* pred, size_t n, int ignore_index, const std::string& source = "");
  void add(const int64_t* gt, const int64_t* pred, size_t n, int ignore_index, const std::string& source = "");

  /// Adds `count` pixels of ground truth `gt` predicted as `pred`.
  void add_count(int gt, int pred, int64_t count);

  int64_t at(int gt, int pred) const { return counts_[static_cast<size_t>(gt) * n_ + pred]; }
  /// Pixels of ground-truth class `c` (row sum).
  int64_t gt_count(int c) const;
  /// Pixels predicted as class `c` (column sum).
  int64_t pred_count(int c) const;
  int64_t total() const;

  /// Sums another matrix of the same size into this one; DataError on a size mismatch.
  ConfusionMatrix& merge(const ConfusionMatrix& other);
  ConfusionMatrix& operator+=(const ConfusionMatrix& other) { return merge(other); }

  /// Row-major counts (num_classes^2), e.g. for an all-reduce sum across ranks.
  int64_t* data() { return counts_.data(); }
  const int64_t* data() const { return counts_.data(); }
  size_t size() const { return counts_.size(); }
  void reset();

 private:
  template <class T>
  void add_pixels(const T* gt, const T* pred, size_t n, int ignore_index, const std::string& source);

  int n_;
  std::vector<int64_t> counts_;
};

}  // namespace deeplab::eval
