#pragma once
// The dataset interface: an indexable list of samples read from disk.

#include <cstddef>
#include <string>
#include <vector>

#include "deeplab/data/descriptor.h"
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

/// A dataset of files listed by id (a split list or a folder's names) whose
/// labels a descriptor describes: what VOC, the scene-parsing layouts,
/// PASCAL-Context and custom folders share.
class ListedDataset : public Dataset {
 public:
  size_t size() const override { return ids_.size(); }
  std::string id(size_t index) const override { return ids_.at(index); }
  int num_classes() const override { return descriptor_.num_classes(); }
  int ignore_label() const override { return descriptor_.ignore_label; }
  const DatasetDescriptor& descriptor() const { return descriptor_; }

 protected:
  explicit ListedDataset(DatasetDescriptor descriptor) : descriptor_(std::move(descriptor)) {}

  DatasetDescriptor descriptor_;
  std::vector<std::string> ids_;
};

}  // namespace deeplab::data
