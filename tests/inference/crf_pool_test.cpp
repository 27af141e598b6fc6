// The CRF pool: refined probabilities equal the one-thread-per-image path
// (label_maps.h's dense_crf_batch) bit for bit, batches come back in the
// order asked for whatever finishes first, and a CRF's error reaches get().
// DISABLED_ benchmark: 20 photos of mixed sizes, the CRF beside the forward
// on 2 threads against one image at a time.

#include "deeplab/inference/crf_pool.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <deque>

#include "deeplab/inference/label_maps.h"
#include "deeplab/models/factory.h"
#include "deeplab/postprocess/dense_crf.h"

namespace deeplab::inference {
namespace {

const data::Normalization kNorm = data::Normalization::from({0.485, 0.456, 0.406}, {0.229, 0.224, 0.225});

data::Batch random_batch(int64_t n, int64_t height, int64_t width, uint64_t seed) {
  torch::manual_seed(seed);
  data::Batch b;
  b.images = torch::randn({n, 3, height, width});
  for (int64_t i = 0; i < n; ++i) b.ids.push_back("img" + std::to_string(seed) + "_" + std::to_string(i));
  return b;
}

at::Tensor random_probabilities(int64_t n, int64_t classes, int64_t height, int64_t width) {
  return torch::softmax(3 * torch::randn({n, classes, height, width}), 1);
}

TEST(CrfPool, EqualsTheOneThreadPerImagePathInOrder) {
  postprocess::DenseCrfOptions options;
  options.iterations = 3;
  CrfPool pool(options, kNorm, 2);
  std::vector<data::Batch> batches;
  std::vector<at::Tensor> probabilities;
  std::vector<PendingCrf> pending;
  // Large then small: the small ones finish first, yet come back in order.
  const std::vector<std::pair<int64_t, int64_t>> sizes = {{90, 120}, {20, 30}, {45, 33}, {20, 30}};
  for (size_t i = 0; i < sizes.size(); ++i) {
    batches.push_back(random_batch(i == 2 ? 2 : 1, sizes[i].first, sizes[i].second, i));
    probabilities.push_back(random_probabilities(batches.back().images.size(0), 4, sizes[i].first, sizes[i].second));
    pending.push_back(pool.refine(batches.back(), probabilities.back()));
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    const at::Tensor expected = dense_crf_batch(probabilities[i], batches[i], options, kNorm);
    EXPECT_TRUE(torch::equal(pending[i].get(), expected)) << "batch " << i;
  }
}

TEST(CrfPool, ACrfErrorReachesGet) {
  CrfPool pool(postprocess::DenseCrfOptions{}, kNorm, 1);
  const data::Batch batch = random_batch(1, 16, 16, 3);
  PendingCrf wrong = pool.refine(batch, random_probabilities(1, 3, 8, 8));  // not the image's size
  EXPECT_ANY_THROW(wrong.get());
  PendingCrf right = pool.refine(batch, random_probabilities(1, 3, 16, 16));
  EXPECT_EQ(right.get().sizes(), (std::vector<int64_t>{1, 3, 16, 16})) << "the pool lives on after an error";
}

// 20 photos of VOC's sizes (500x375 and 375x500 alternating, 5 of 333x500):
// a DeepLabv3+ MobileNet-V2 forward on 2 threads and the v2 CRF, one image at
// a time (the CRF of a one-image batch on one thread, as before the pool),
// against the pool of 2 workers beside the forward.  Run with
// --gtest_also_run_disabled_tests.
TEST(CrfPool, DISABLED_BenchmarkTwentyPhotosBesideTheForward) {
  const int threads = 2, before = at::get_num_threads();
  at::set_num_threads(threads);  // the forward's threads, and the pool's workers
  models::ModelConfig config;
  config.arch = "deeplabv3plus";
  config.num_classes = 21;
  config.backbone.name = "mobilenet_v2";
  models::DeepLab model = models::build_model(config);
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<data::Batch> photos;
  for (int i = 0; i < 20; ++i) {
    const bool tall = i % 2 == 1, small = i % 4 == 3;
    photos.push_back(random_batch(1, small ? 333 : (tall ? 500 : 375), small ? 500 : (tall ? 375 : 500), 100 + i));
  }
  const postprocess::DenseCrfOptions crf;
  auto probabilities = [&](const data::Batch& b) { return torch::softmax(model->forward(b.images), 1); };
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  for (const auto& b : photos) dense_crf_batch(probabilities(b), b, crf, kNorm);
  const double serial = std::chrono::duration<double>(Clock::now() - t0).count();
  t0 = Clock::now();
  {
    CrfPool pool(crf, kNorm, threads);
    std::deque<PendingCrf> in_flight;
    for (const auto& b : photos) {
      in_flight.push_back(pool.refine(b, probabilities(b)));
      while (static_cast<int>(in_flight.size()) > pool.threads()) {
        in_flight.front().get();
        in_flight.pop_front();
      }
    }
    for (auto& p : in_flight) p.get();
  }
  const double pooled = std::chrono::duration<double>(Clock::now() - t0).count();
  at::set_num_threads(before);
  std::printf(
      "20 photos, forward + CRF on %d threads: one image at a time %.1f s, pool of %d beside the forward %.1f s: "
      "%.2fx\n",
      threads, serial, threads, pooled, serial / pooled);
}

}  // namespace
}  // namespace deeplab::inference
