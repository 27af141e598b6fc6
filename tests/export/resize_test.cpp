#include "deeplab/models/layers/resize.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "deeplab/core/error.h"

namespace deeplab::models {
namespace {

namespace F = torch::nn::functional;

TEST(Resize, MatchesInterpolateToReferenceSize) {
  const auto x = torch::randn({2, 3, 9, 13});
  const auto like = torch::zeros({1, 1, 65, 97});
  for (const bool align : {false, true}) {
    const auto y = resize_bilinear(x, like, align);
    EXPECT_EQ(y.sizes(), torch::IntArrayRef({2, 3, 65, 97}));
    const auto expected = F::interpolate(
        x, F::InterpolateFuncOptions().size(std::vector<int64_t>{65, 97}).mode(torch::kBilinear).align_corners(align));
    EXPECT_TRUE(torch::allclose(y, expected));
  }
  EXPECT_EQ(resize_bilinear(x, 5, 7, false).sizes(), torch::IntArrayRef({2, 3, 5, 7}));
  EXPECT_EQ(resize_bilinear(x, torch::zeros({4, 6}), false).sizes(), torch::IntArrayRef({2, 3, 4, 6}));
}

TEST(Resize, ScaleFloorsLikePython) {
  const auto x = torch::randn({1, 2, 65, 97});
  const auto y = resize_bilinear_scale(x, 0.75, false);
  EXPECT_EQ(y.sizes(), torch::IntArrayRef({1, 2, 48, 72}));  // floor(48.75), floor(72.75)
  auto options = F::InterpolateFuncOptions().scale_factor(std::vector<double>{0.75, 0.75}).mode(torch::kBilinear);
  const auto expected = F::interpolate(x, options.align_corners(false));
  EXPECT_TRUE(torch::allclose(y, expected));
}

TEST(Resize, RejectsBadArguments) {
  EXPECT_THROW(resize_bilinear(torch::zeros({3, 4, 4}), 2, 2, false), Error);
  EXPECT_THROW(resize_bilinear(torch::zeros({1, 3, 4, 4}), 0, 2, false), Error);
  EXPECT_THROW(resize_bilinear_scale(torch::zeros({1, 3, 4, 4}), -1.0, false), Error);
}

}  // namespace
}  // namespace deeplab::models
