#include "deeplab/inference/same_size_batcher.h"

#include <torch/torch.h>

#include <algorithm>

namespace deeplab::inference {
namespace {

bool same_size(const data::Batch& a, const data::Batch& b) {
  return a.images.size(2) == b.images.size(2) && a.images.size(3) == b.images.size(3);
}

// The parts' tensor `field` joined along the batch, or undefined when the parts lack it.
at::Tensor join(const std::vector<data::Batch>& parts, at::Tensor data::Batch::*field) {
  std::vector<at::Tensor> pieces;
  for (const auto& part : parts) {
    if (!(part.*field).defined()) return {};
    pieces.push_back(part.*field);
  }
  return pieces.size() == 1 ? pieces.front() : torch::cat(pieces);
}

}  // namespace

SameSizeBatcher::SameSizeBatcher(int limit) : limit_(std::max(1, limit)) {}

std::optional<data::Batch> SameSizeBatcher::add(data::Batch batch) {
  std::optional<data::Batch> ready;
  if (!parts_.empty() && !same_size(parts_.front(), batch)) ready = flush();
  parts_.push_back(std::move(batch));
  if (!ready && static_cast<int>(parts_.size()) >= limit_) ready = flush();
  return ready;
}

std::optional<data::Batch> SameSizeBatcher::flush() {
  if (parts_.empty()) return std::nullopt;
  data::Batch out;
  for (auto field : {&data::Batch::images, &data::Batch::labels, &data::Batch::instances}) {
    out.*field = join(parts_, field);
  }
  for (const auto& part : parts_) {
    out.ids.insert(out.ids.end(), part.ids.begin(), part.ids.end());
    out.indices.insert(out.indices.end(), part.indices.begin(), part.indices.end());
  }
  parts_.clear();
  return out;
}

}  // namespace deeplab::inference
