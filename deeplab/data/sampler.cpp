#include "deeplab/data/sampler.h"

#include <numeric>
#include <random>
#include <string>

#include "deeplab/core/error.h"

namespace deeplab::data {

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ULL * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

DistributedSampler::DistributedSampler(SamplerOptions options) : options_(options) {
  if (options_.world_size < 1 || options_.rank < 0 || options_.rank >= options_.world_size) {
    throw ConfigError("sampler rank " + std::to_string(options_.rank) +
                      " is not in [0, world_size=" + std::to_string(options_.world_size) + ")");
  }
}

size_t DistributedSampler::shard_size() const {
  const size_t n = options_.dataset_size, w = static_cast<size_t>(options_.world_size);
  const size_t r = static_cast<size_t>(options_.rank);
  if (options_.train) return (n + w - 1) / w;
  return n / w + (r < n % w ? 1 : 0);
}

std::vector<size_t> DistributedSampler::indices(int64_t epoch) const {
  const size_t n = options_.dataset_size, w = static_cast<size_t>(options_.world_size);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  if (options_.train && n > 1) {
    // Own Fisher-Yates so the order is the same with every standard library.
    std::mt19937_64 rng(mix_seed(options_.seed, static_cast<uint64_t>(epoch)));
    for (size_t i = n - 1; i > 0; --i) std::swap(order[i], order[rng() % (i + 1)]);
  }
  if (options_.train && n > 0) {
    const size_t total = (n + w - 1) / w * w;
    for (size_t i = n; i < total; ++i) order.push_back(order[i - n]);
  }
  std::vector<size_t> shard;
  for (size_t i = static_cast<size_t>(options_.rank); i < order.size(); i += w) shard.push_back(order[i]);
  return shard;
}

}  // namespace deeplab::data
