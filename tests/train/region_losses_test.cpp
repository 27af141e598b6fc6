// Focal, soft Dice and Lovász-softmax against direct restatements of their
// papers' formulas in float64 (pixel by pixel, set by set), gradients
// included; ignored pixels count for nothing; the terms join cross-entropy by
// config under their own names; a batch split over two processes optimises
// the objective of one.

#include "deeplab/train/region_losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "deeplab/core/error.h"
#include "deeplab/train/losses.h"

namespace deeplab::train {
namespace {

constexpr int kIgnore = 255;

struct Case {
  torch::Tensor logits;  // [2, 3, 3, 4] float64, requires grad
  torch::Tensor labels;  // [2, 3, 4] with some ignored pixels
};

Case make_case(uint64_t seed = 7) {
  torch::manual_seed(seed);
  Case c;
  c.logits = (2 * torch::randn({2, 3, 3, 4}, torch::kDouble)).requires_grad_();
  c.labels = torch::randint(0, 3, {2, 3, 4}, torch::kLong);
  c.labels.index_put_({0, 0, 0}, kIgnore);
  c.labels.index_put_({1, 2, 3}, kIgnore);
  c.labels.index_put_({1, 1, 1}, kIgnore);
  return c;
}

// Softmax probability of class k at (n, y, x), as a graph node.
torch::Tensor prob(const torch::Tensor& logits, int64_t n, int64_t k, int64_t y, int64_t x) {
  const auto column = logits.index({n, torch::indexing::Slice(), y, x});
  return column[k].exp() / column.exp().sum();
}

void expect_same_value_and_gradient(const torch::Tensor& ours, const torch::Tensor& direct, const torch::Tensor& x) {
  EXPECT_NEAR(ours.item<double>(), direct.item<double>(), 1e-12);
  const auto g_ours = torch::autograd::grad({ours}, {x}, {}, /*retain_graph=*/true)[0];
  const auto g_direct = torch::autograd::grad({direct}, {x}, {}, true)[0];
  EXPECT_LT((g_ours - g_direct).abs().max().item<double>(), 1e-12);
  EXPECT_GT(g_ours.abs().max().item<double>(), 1e-3) << "a gradient that vanishes tests nothing";
}

TEST(RegionLosses, FocalIsLinEtAlPixelByPixel) {
  const Case c = make_case();
  const auto weights = torch::tensor({0.5, 1.0, 2.0}, torch::kDouble);
  for (double gamma : {0.0, 2.0, 0.5}) {
    torch::Tensor direct = torch::zeros({}, torch::kDouble);
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const int64_t t = c.labels[n][y][x].item<int64_t>();
          if (t == kIgnore) continue;
          const auto p = prob(c.logits, n, t, y, x);
          direct = direct - weights[t] * (1 - p).pow(gamma) * p.log();
        }
    expect_same_value_and_gradient(focal_loss_sum(c.logits, c.labels, kIgnore, gamma, weights), direct, c.logits);
  }
}

TEST(RegionLosses, DiceIsOneMinusMeanClassDicePerImage) {
  const Case c = make_case();
  const double smooth = 1.0;
  std::vector<torch::Tensor> per_image;
  for (int64_t n = 0; n < 2; ++n) {
    torch::Tensor dice_sum = torch::zeros({}, torch::kDouble);
    for (int64_t k = 0; k < 3; ++k) {
      torch::Tensor inter = torch::zeros({}, torch::kDouble), p_sum = inter.clone(), g_sum = inter.clone();
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t x = 0; x < 4; ++x) {
          const int64_t t = c.labels[n][y][x].item<int64_t>();
          if (t == kIgnore) continue;
          const auto p = prob(c.logits, n, k, y, x);
          const double g = t == k ? 1.0 : 0.0;
          inter = inter + p * g;
          p_sum = p_sum + p;
          g_sum = g_sum + g;
        }
      dice_sum = dice_sum + (2 * inter + smooth) / (p_sum + g_sum + smooth);
    }
    per_image.push_back(1 - dice_sum / 3);
  }
  const auto ours = dice_loss_per_image(c.logits, c.labels, kIgnore, smooth);
  ASSERT_EQ(ours.sizes(), (std::vector<int64_t>{2}));
  expect_same_value_and_gradient(ours.sum(), per_image[0] + per_image[1], c.logits);
}

// Berman et al., eq. 8-9: with the errors of class c sorted in decreasing
// order, the Lovász extension is sum_i e_(i) (D(M_i) - D(M_{i-1})), where M_i
// holds the i largest errors' pixels and D(M) = |M| / |G_c u M|, the Jaccard
// loss of mispredicting M.
TEST(RegionLosses, LovaszSoftmaxIsTheLovaszExtensionSetBySet) {
  const Case c = make_case();
  std::vector<torch::Tensor> per_image;
  for (int64_t n = 0; n < 2; ++n) {
    std::vector<std::pair<int64_t, int64_t>> pixels;
    for (int64_t y = 0; y < 3; ++y)
      for (int64_t x = 0; x < 4; ++x)
        if (c.labels[n][y][x].item<int64_t>() != kIgnore) pixels.emplace_back(y, x);
    std::vector<torch::Tensor> class_losses;
    for (int64_t k = 0; k < 3; ++k) {
      std::vector<bool> in_g;
      std::vector<torch::Tensor> errors;
      for (const auto& [y, x] : pixels) {
        in_g.push_back(c.labels[n][y][x].item<int64_t>() == k);
        errors.push_back(((in_g.back() ? 1.0 : 0.0) - prob(c.logits, n, k, y, x)).abs());
      }
      if (std::none_of(in_g.begin(), in_g.end(), [](bool b) { return b; })) continue;
      std::vector<size_t> order(errors.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](size_t a, size_t b) { return errors[a].item<double>() > errors[b].item<double>(); });
      const double g_size = static_cast<double>(std::count(in_g.begin(), in_g.end(), true));
      torch::Tensor loss = torch::zeros({}, torch::kDouble);
      double previous = 0, outside_g = 0;
      for (size_t i = 0; i < order.size(); ++i) {
        if (!in_g[order[i]]) outside_g += 1;
        const double d = static_cast<double>(i + 1) / (g_size + outside_g);  // |M_i| / |G u M_i|
        loss = loss + errors[order[i]] * (d - previous);
        previous = d;
      }
      class_losses.push_back(loss);
    }
    per_image.push_back(torch::stack(class_losses).mean());
  }
  const auto ours = lovasz_softmax_per_image(c.logits, c.labels, kIgnore);
  expect_same_value_and_gradient(ours.sum(), per_image[0] + per_image[1], c.logits);
}

TEST(RegionLosses, IgnoredPixelsCountForNothing) {
  Case c = make_case();
  auto changed = c.logits.detach().clone();
  changed.index_put_({0, torch::indexing::Slice(), 0, 0}, torch::tensor({9.0, -9.0, 3.0}, torch::kDouble));
  EXPECT_EQ(focal_loss_sum(c.logits, c.labels, kIgnore, 2).item<double>(),
            focal_loss_sum(changed, c.labels, kIgnore, 2).item<double>());
  EXPECT_TRUE(
      torch::equal(dice_loss_per_image(c.logits, c.labels, kIgnore), dice_loss_per_image(changed, c.labels, kIgnore)));
  EXPECT_TRUE(torch::equal(lovasz_softmax_per_image(c.logits, c.labels, kIgnore),
                           lovasz_softmax_per_image(changed, c.labels, kIgnore)));
  const auto all_ignored = torch::full({1, 3, 4}, kIgnore, torch::kLong);
  EXPECT_EQ(lovasz_softmax_per_image(c.logits.slice(0, 0, 1), all_ignored, kIgnore).item<double>(), 0.0);
}

LossTerms terms_of(const LossConfig& config, const torch::Tensor& logits, const torch::Tensor& labels,
                   GlobalSum global = {}) {
  const SegmentationLoss loss(config, 3, kIgnore, std::move(global));
  data::Batch batch;
  batch.labels = labels;
  return loss.terms({{"semantic", {logits}}, {"aux", {logits * 0.5}}}, batch);
}

TEST(RegionLosses, TermsJoinCrossEntropyByConfig) {
  const Case c = make_case();
  LossConfig config;
  config.aux_weight = 0.4;
  config.dice = 0.5;
  config.lovasz_softmax = 2.0;
  config.focal = 3.0;
  const LossTerms terms = terms_of(config, c.logits, c.labels);
  std::vector<std::string> names;
  for (const auto& t : terms) names.push_back(t.first);
  EXPECT_EQ(names, (std::vector<std::string>{"semantic", "semantic/dice", "semantic/lovasz_softmax", "semantic/focal",
                                             "aux", "aux/dice", "aux/lovasz_softmax", "aux/focal"}));
  const double valid = (c.labels != kIgnore).sum().item<double>();
  EXPECT_NEAR(terms[1].second.item<double>(),
              0.5 * dice_loss_per_image(c.logits, c.labels, kIgnore).mean().item<double>(), 1e-12);
  EXPECT_NEAR(terms[2].second.item<double>(),
              2.0 * lovasz_softmax_per_image(c.logits, c.labels, kIgnore).mean().item<double>(), 1e-12);
  EXPECT_NEAR(terms[3].second.item<double>(),
              3.0 * focal_loss_sum(c.logits, c.labels, kIgnore, 2).item<double>() / valid, 1e-12);
  EXPECT_NEAR(terms[5].second.item<double>(),
              0.4 * 0.5 * dice_loss_per_image(c.logits * 0.5, c.labels, kIgnore).mean().item<double>(), 1e-12);

  config.cross_entropy = 0;
  EXPECT_EQ(terms_of(config, c.logits, c.labels).front().first, "semantic/dice");
  config.dice = config.lovasz_softmax = config.focal = 0;
  EXPECT_THROW(terms_of(config, c.logits, c.labels), ConfigError);
}

// Two processes with the same half batch each (a GlobalSum that doubles) sum
// to the loss, and the gradient, of one process with the whole batch.
TEST(RegionLosses, TwoProcessesOptimiseTheObjectiveOfOne) {
  const Case c = make_case();
  LossConfig config;
  config.dice = 1;
  config.lovasz_softmax = 1;
  config.focal = 1;
  const GlobalSum two_ranks = [](torch::Tensor local) { return local.detach() * 2; };
  const auto half = total_loss(terms_of(config, c.logits, c.labels, two_ranks));
  const auto whole_logits = torch::cat({c.logits, c.logits});
  const auto whole = total_loss(terms_of(config, whole_logits, torch::cat({c.labels, c.labels})));
  EXPECT_NEAR(2 * half.item<double>(), whole.item<double>(), 1e-12);
  const auto g_half = torch::autograd::grad({half}, {c.logits})[0];
  const auto g_whole = torch::autograd::grad({whole}, {c.logits})[0];
  EXPECT_LT((2 * g_half - g_whole).abs().max().item<double>(), 1e-12);
}

}  // namespace
}  // namespace deeplab::train
