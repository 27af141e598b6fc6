#pragma once
// Joins consecutive one-image batches of one size into batches of up to N,
// where images differ in size so a loader cannot batch them (photos, VOC):
// `predict --batch-size` runs them through the model together, and `deeplab
// eval` with the CRF gets several images whose CRFs run in parallel.  A size
// change ends a batch, so the order of images is kept.

#include <optional>
#include <vector>

#include "deeplab/data/loader.h"

namespace deeplab::inference {

class SameSizeBatcher {
 public:
  explicit SameSizeBatcher(int limit);

  /// Adds `batch`; returns a complete batch when there is one (full, or
  /// `batch` has another size and starts the next).
  std::optional<data::Batch> add(data::Batch batch);
  /// What is left, as one batch (none when empty).
  std::optional<data::Batch> flush();

 private:
  int limit_;
  std::vector<data::Batch> parts_;
};

}  // namespace deeplab::inference
