// Dense CRF (DeepLab v1/v2): a confident, correct prediction stays as it is;
// probabilities blurred across object boundaries (a stride-8 network's
// bilinear upsampling) are pulled back to the image's edges, which raises
// mIoU; bad inputs are errors.  The 500x375 / 21-label timing is a benchmark
// (DISABLED_, run by hand), not a timed test.

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>

#include "deeplab/postprocess/dense_crf.h"

namespace deeplab::postprocess {
namespace {

// Background, a disc, a rectangle and a triangle, each its own colour (with
// a little noise), and their labels.  (A structure thinner than the stride,
// such as a 6-pixel bar, has too little support in the blurred unary for any
// CRF to bring back: the CRF removes it.)
struct Scene {
  at::Tensor rgb;     // uint8 [H, W, 3]
  at::Tensor labels;  // int64 [H, W]
};

Scene make_scene(int64_t h, int64_t w, int64_t classes) {
  torch::manual_seed(1);
  const auto ys = torch::arange(h).view({h, 1}).expand({h, w}), xs = torch::arange(w).view({1, w}).expand({h, w});
  auto labels = torch::zeros({h, w}, torch::kLong);
  labels.masked_fill_((ys - h * 0.45).pow(2) + (xs - w * 0.3).pow(2) < (h * 0.25) * (h * 0.25), 1);
  labels.masked_fill_((ys > h * 0.2) & (ys < h * 0.7) & (xs > w * 0.6) & (xs < w * 0.9), 2 % classes);
  labels.masked_fill_((ys > h * 0.75) & (xs > w * 0.1) & (ys - h * 0.75 > (xs - w * 0.1) * 0.5), 3 % classes);
  const auto palette = torch::tensor({{90, 120, 60}, {200, 40, 40}, {40, 60, 190}, {230, 210, 60}}, torch::kFloat);
  auto rgb = palette.index({labels}) + torch::randn({h, w, 3}) * 2;
  return {rgb.clamp(0, 255).round().to(torch::kByte), labels};
}

// One-hot labels averaged over 16x16 cells and upsampled bilinearly: soft,
// blocky boundaries, as a stride-16 network's logits give.
at::Tensor blurred_probabilities(const at::Tensor& labels, int64_t classes) {
  const auto one_hot = torch::one_hot(labels, classes).permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat);
  const auto coarse = torch::avg_pool2d(one_hot, 16, 16, 0, /*ceil_mode=*/true);
  const auto up = torch::upsample_bilinear2d(coarse, {labels.size(0), labels.size(1)}, false);
  return torch::softmax(up[0] * 4, 0);
}

double miou(const at::Tensor& pred, const at::Tensor& truth, int64_t classes) {
  double sum = 0;
  for (int64_t c = 0; c < classes; ++c) {
    const auto p = pred == c, t = truth == c;
    sum += (p & t).sum().item<double>() / (p | t).sum().item<double>();
  }
  return sum / static_cast<double>(classes);
}

TEST(DenseCrf, ConfidentCorrectPredictionIsLeftUnchanged) {
  const Scene s = make_scene(60, 80, 4);
  const auto probs = torch::one_hot(s.labels, 4).permute({2, 0, 1}).to(torch::kFloat) * 0.96 + 0.01;
  const auto refined = dense_crf(s.rgb, probs, DenseCrfOptions{});
  EXPECT_TRUE(torch::equal(refined.argmax(0), s.labels));
  EXPECT_EQ(refined.sizes(), probs.sizes());
  EXPECT_TRUE(torch::allclose(refined.sum(0), torch::ones({60, 80}), 1e-4, 1e-4));
}

TEST(DenseCrf, PullsBlurredBoundariesBackToTheImageEdges) {
  const int64_t classes = 4;
  const Scene s = make_scene(120, 160, classes);
  const auto probs = blurred_probabilities(s.labels, classes);
  const double before = miou(probs.argmax(0), s.labels, classes);
  DenseCrfOptions v1;  // DeepLab v1 LargeFOV's recipe
  v1.bilateral_weight = 4;
  v1.bilateral_xy_std = 121;
  v1.bilateral_rgb_std = 5;
  v1.spatial_weight = 3;
  v1.spatial_xy_std = 3;
  const double after_v2 = miou(dense_crf(s.rgb, probs, DenseCrfOptions{}).argmax(0), s.labels, classes);
  const double after_v1 = miou(dense_crf(s.rgb, probs, v1).argmax(0), s.labels, classes);
  std::printf("mIoU before CRF %.2f, after (v2 recipe) %.2f, after (v1 recipe) %.2f\n", 100 * before, 100 * after_v2,
              100 * after_v1);
  EXPECT_GT(after_v2, before + 0.04);
  EXPECT_GT(after_v1, before + 0.04);
}

TEST(DenseCrf, ZeroIterationsIsTheInputSoftmax) {
  const Scene s = make_scene(30, 40, 4);
  const auto probs = blurred_probabilities(s.labels, 4);
  DenseCrfOptions o;
  o.iterations = 0;
  EXPECT_TRUE(torch::allclose(dense_crf(s.rgb, probs, o), probs, 1e-5, 1e-6));
}

TEST(DenseCrf, MismatchedSizesAreAnError) {
  const auto rgb = torch::zeros({10, 12, 3}, torch::kByte);
  EXPECT_THROW(dense_crf(rgb, torch::ones({3, 10, 13}) / 3, {}), std::invalid_argument);
  EXPECT_THROW(dense_crf(torch::zeros({10, 12}, torch::kByte), torch::ones({3, 10, 12}) / 3, {}),
               std::invalid_argument);
}

long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

// The budget: a VOC-sized image (500 x 375), 21 labels, 10
// iterations in under 0.5 s on one core.
TEST(DenseCrfBenchmark, DISABLED_Voc500x375With21LabelsAnd10Iterations) {
  const int64_t classes = 21;
  Scene s = make_scene(375, 500, 4);
  const auto probs = torch::softmax(torch::randn({classes, 375, 500}) + blurred_probabilities(s.labels, classes) * 5, 0);
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  const long rss_before = peak_rss_kb();
  std::vector<double> seconds;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    const auto refined = dense_crf(s.rgb, probs, DenseCrfOptions{});
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ASSERT_EQ(refined.size(0), classes);
  }
  at::set_num_threads(threads);
  std::printf("dense_crf 500x375, 21 labels, 10 iterations, 1 thread, runs:");
  for (const double t : seconds) std::printf(" %.3f", t);
  std::sort(seconds.begin(), seconds.end());
  std::printf(" s; median %.3f s; peak RSS grew by %.1f MB (from %.1f MB)\n", seconds[2],
              (peak_rss_kb() - rss_before) / 1024.0, rss_before / 1024.0);
  EXPECT_LT(seconds[2], 0.5);
}

}  // namespace
}  // namespace deeplab::postprocess
