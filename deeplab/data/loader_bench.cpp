#include "deeplab/data/loader_bench.h"

#include <chrono>

#include "deeplab/core/error.h"
#include "deeplab/data/dataset_factory.h"
#include "deeplab/data/loader.h"

namespace deeplab::data {

LoaderBenchResult benchmark_loader(const DataConfig& config, uint64_t seed, const std::string& split, size_t batches,
                                   size_t warmup) {
  Loader loader(make_dataset(config, split, DatasetUse::kTraining),
                Transform(TransformOptions::from_config(config, true)), LoaderOptions::from_config(config, true, seed));
  if (loader.num_batches() == 0) throw DataError("split '" + split + "' has fewer samples than one batch");
  int64_t epoch = 0;
  loader.start_epoch(epoch);
  auto next = [&] {
    for (;;) {
      if (auto b = loader.next()) return b->ids.size();
      loader.start_epoch(++epoch);
    }
  };
  for (size_t i = 0; i < warmup; ++i) next();
  LoaderBenchResult result;
  result.workers = config.workers;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < batches; ++i) result.images += next();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace deeplab::data
