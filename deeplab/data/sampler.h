#pragma once
// Which sample indices each process reads, per epoch.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace deeplab::data {

/// Settings of a DistributedSampler.
struct SamplerOptions {
  size_t dataset_size = 0;
  int rank = 0;
  int world_size = 1;
  /// Training: shuffle by seed + epoch and pad (repeating the start) so every
  /// rank gets the same count. Evaluation (false): in order, no padding, so the
  /// shards together cover every sample exactly once.
  bool train = true;
  uint64_t seed = 0;
};

/// Shards indices across ranks like torch.utils.data.DistributedSampler.
class DistributedSampler {
 public:
  explicit DistributedSampler(SamplerOptions options);
  /// This rank's indices for `epoch`.
  std::vector<size_t> indices(int64_t epoch) const;
  /// How many indices `indices()` returns (the same every epoch).
  size_t shard_size() const;

 private:
  SamplerOptions options_;
};

/// SplitMix64 step: decorrelates consecutive seeds (epoch, sample position).
uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace deeplab::data
