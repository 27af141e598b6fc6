#pragma once
// The dataset interface: an indexable list of samples read from disk.

#include <cstddef>
#include <string>

#include "deeplab/data/sample.h"

namespace deeplab::data {

/// Random-access dataset; `get` must be safe to call from several threads.
class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual size_t size() const = 0;
  /// Decodes sample `index`; throws IoError/DataError naming the file at fault.
  virtual Sample get(size_t index) const = 0;
  /// The sample's id without decoding anything.
  virtual std::string id(size_t index) const = 0;
  virtual int num_classes() const = 0;
  virtual int ignore_label() const = 0;
};

}  // namespace deeplab::data
