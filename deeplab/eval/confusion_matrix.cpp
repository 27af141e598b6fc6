#include "deeplab/eval/confusion_matrix.h"

#include <algorithm>

#include "deeplab/core/error.h"

namespace deeplab::eval {
namespace {

[[noreturn]] void bad_value(const char* what, int64_t value, size_t pixel, int n, const std::string& source) {
  throw DataError((source.empty() ? std::string() : "'" + source + "': ") + what + " value " + std::to_string(value) +
                  " at pixel " + std::to_string(pixel) + " is outside [0, " + std::to_string(n) +
                  ") and is not the ignore label");
}

}  // namespace

ConfusionMatrix::ConfusionMatrix(int num_classes)
    : n_(num_classes), counts_(static_cast<size_t>(num_classes) * static_cast<size_t>(num_classes), 0) {
  if (num_classes < 0) throw DataError("confusion matrix: negative number of classes " + std::to_string(num_classes));
}

template <class T>
void ConfusionMatrix::add_pixels(const T* gt, const T* pred, size_t n, int ignore_index, const std::string& source) {
  const int64_t classes = n_;
  int64_t* counts = counts_.data();
  for (size_t i = 0; i < n; ++i) {
    const int64_t g = static_cast<int64_t>(gt[i]);
    if (g == ignore_index) continue;
    const int64_t p = static_cast<int64_t>(pred[i]);
    // One unsigned comparison per value covers both < 0 and >= n.
    if (static_cast<uint64_t>(g) >= static_cast<uint64_t>(classes)) bad_value("ground-truth", g, i, n_, source);
    if (static_cast<uint64_t>(p) >= static_cast<uint64_t>(classes)) bad_value("predicted", p, i, n_, source);
    ++counts[g * classes + p];
  }
}

void ConfusionMatrix::add(const uint8_t* gt, const uint8_t* pred, size_t n, int ignore_index,
                          const std::string& source) {
  add_pixels(gt, pred, n, ignore_index, source);
}

void ConfusionMatrix::add(const int64_t* gt, const int64_t* pred, size_t n, int ignore_index,
                          const std::string& source) {
  add_pixels(gt, pred, n, ignore_index, source);
}

void ConfusionMatrix::add_count(int gt, int pred, int64_t count) {
  if (gt < 0 || gt >= n_ || pred < 0 || pred >= n_) {
    throw DataError("confusion matrix: cell (" + std::to_string(gt) + ", " + std::to_string(pred) + ") is outside a " +
                    std::to_string(n_) + "-class matrix");
  }
  counts_[static_cast<size_t>(gt) * n_ + pred] += count;
}

int64_t ConfusionMatrix::gt_count(int c) const {
  int64_t sum = 0;
  for (int p = 0; p < n_; ++p) sum += at(c, p);
  return sum;
}

int64_t ConfusionMatrix::pred_count(int c) const {
  int64_t sum = 0;
  for (int g = 0; g < n_; ++g) sum += at(g, c);
  return sum;
}

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t v : counts_) sum += v;
  return sum;
}

ConfusionMatrix& ConfusionMatrix::merge(const ConfusionMatrix& other) {
  if (other.n_ != n_) {
    throw DataError("cannot merge a " + std::to_string(other.n_) + "-class confusion matrix into a " +
                    std::to_string(n_) + "-class one");
  }
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  return *this;
}

void ConfusionMatrix::reset() { std::fill(counts_.begin(), counts_.end(), 0); }

}  // namespace deeplab::eval
