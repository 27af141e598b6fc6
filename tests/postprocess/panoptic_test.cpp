// Panoptic-DeepLab post-processing on small hand-built head outputs, each
// expectation computed by hand from deeplab2's rules; plus a by-hand
// benchmark at Cityscapes size (disabled: tests never assert timings).

#include "deeplab/postprocess/panoptic.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "deeplab/core/error.h"

namespace deeplab::postprocess {
namespace {

using Peak = std::tuple<int64_t, int64_t, float>;

at::Tensor heatmap(int64_t h, int64_t w, const std::vector<Peak>& peaks) {
  at::Tensor t = at::zeros({1, h, w}, at::kFloat);
  for (const auto& [y, x, v] : peaks) t[0][y][x] = v;
  return t;
}

/// Logits 1 at the label's class, 0 elsewhere.
at::Tensor one_hot_logits(const at::Tensor& labels, int64_t classes) {
  return at::one_hot(labels.to(at::kLong), classes).permute({2, 0, 1}).to(at::kFloat).contiguous();
}

at::Tensor labels_of(const std::vector<std::vector<int>>& rows) {
  at::Tensor t = at::empty({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())}, at::kLong);
  for (size_t y = 0; y < rows.size(); ++y) {
    for (size_t x = 0; x < rows[y].size(); ++x) t[y][x] = rows[y][x];
  }
  return t;
}

/// Offsets from every pixel to `target(y, x)`.
template <class Target>
at::Tensor offsets_to(int64_t h, int64_t w, Target target) {
  at::Tensor t = at::zeros({2, h, w}, at::kFloat);
  auto a = t.accessor<float, 3>();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const auto [ty, tx] = target(y, x);
      a[0][y][x] = static_cast<float>(ty - y);
      a[1][y][x] = static_cast<float>(tx - x);
    }
  }
  return t;
}

std::vector<std::vector<int64_t>> rows_of(const at::Tensor& t) {
  std::vector<std::vector<int64_t>> out;
  const at::Tensor c = t.to(at::kLong).contiguous();
  for (int64_t i = 0; i < c.size(0); ++i) {
    std::vector<int64_t> row;
    for (int64_t j = 0; j < c.size(1); ++j) row.push_back(c[i][j].item<int64_t>());
    out.push_back(row);
  }
  return out;
}

std::vector<float> floats_of(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

using Rows = std::vector<std::vector<int64_t>>;

TEST(InstanceCenters, TwoPeaksInOneWindowKeepOnlyTheHigher) {
  at::Tensor scores;
  const at::Tensor c = find_instance_centers(heatmap(20, 20, {{5, 5, 0.9f}, {5, 8, 0.8f}}), {}, &scores);
  EXPECT_EQ(rows_of(c), (Rows{{5, 5}}));
  EXPECT_EQ(floats_of(scores), std::vector<float>{0.9f});
}

TEST(InstanceCenters, FarPeaksBothSurviveInRasterOrder) {
  at::Tensor scores;
  const at::Tensor c = find_instance_centers(heatmap(20, 20, {{19, 19, 0.7f}, {0, 0, 0.5f}}), {}, &scores);
  EXPECT_EQ(rows_of(c), (Rows{{0, 0}, {19, 19}}));
  EXPECT_EQ(floats_of(scores), (std::vector<float>{0.5f, 0.7f}));
}

TEST(InstanceCenters, WindowIsKernelWideIncludingCorners) {
  PanopticOptions o;
  o.nms_kernel = 5;  // reach 2
  // (10,12) and the corner (12,12) lie in (10,10)'s window; (13,10) and (7,13) are 3 rows from
  // every higher peak, just outside.
  const at::Tensor h =
      heatmap(20, 20, {{10, 10, 0.9f}, {10, 12, 0.5f}, {12, 12, 0.45f}, {13, 10, 0.6f}, {7, 13, 0.3f}});
  EXPECT_EQ(rows_of(find_instance_centers(h, o)), (Rows{{7, 13}, {10, 10}, {13, 10}}));
}

TEST(InstanceCenters, EqualPeaksInOneWindowBothSurvive) {
  EXPECT_EQ(rows_of(find_instance_centers(heatmap(12, 12, {{5, 5, 0.7f}, {5, 7, 0.7f}}), {})), (Rows{{5, 5}, {5, 7}}));
}

TEST(InstanceCenters, ThresholdIsStrictInFloat) {
  const at::Tensor h = heatmap(8, 20, {{3, 2, 0.1f}, {3, 15, 0.1001f}});
  EXPECT_EQ(rows_of(find_instance_centers(h, {})), (Rows{{3, 15}}));
  PanopticOptions low;
  low.center_threshold = 0.05;
  EXPECT_EQ(rows_of(find_instance_centers(h, low)), (Rows{{3, 2}, {3, 15}}));
}

TEST(InstanceCenters, TopKKeepsScoresStrictlyAboveTheKthBest) {
  std::vector<Peak> peaks{{2, 2, 0.6f}, {2, 20, 0.9f}, {12, 10, 0.5f}, {22, 2, 0.8f}, {22, 20, 0.7f}};
  PanopticOptions o;
  o.top_k = 3;  // third best 0.7: 0.9 and 0.8 stay
  EXPECT_EQ(rows_of(find_instance_centers(heatmap(30, 30, peaks), o)), (Rows{{2, 20}, {22, 2}}));
  for (const int k : {0, 5, 6}) {  // none dropped: off, or not more candidates than k
    o.top_k = k;
    EXPECT_EQ(find_instance_centers(heatmap(30, 30, peaks), o).size(0), 5) << "top_k " << k;
  }
  std::get<2>(peaks[4]) = 0.8f;  // a tie at the third place drops both 0.8s
  o.top_k = 3;
  EXPECT_EQ(rows_of(find_instance_centers(heatmap(30, 30, peaks), o)), (Rows{{2, 20}}));
}

TEST(InstanceCenters, BadKernelIsAConfigError) {
  PanopticOptions o;
  o.nms_kernel = 4;
  EXPECT_THROW(find_instance_centers(heatmap(4, 4, {}), o), ConfigError);
}

TEST(GroupPixels, NearestShiftedPixelTiesToTheEarlierCenter) {
  const at::Tensor centers = at::tensor({0, 0, 0, 4}, at::kLong).reshape({2, 2});
  at::Tensor offsets = at::zeros({2, 1, 6}, at::kFloat);
  offsets[1][0][5] = -5.0f;  // (0,5) points to (0,0)
  const at::Tensor mask = at::tensor({1, 1, 1, 1, 0, 1}, at::kInt).reshape({1, 6}).to(at::kBool);
  // (0,2) is 2 from both centers: the first wins; (0,4) is no thing pixel.
  EXPECT_EQ(rows_of(group_pixels(offsets, centers, mask)), (Rows{{1, 1, 1, 2, 0, 1}}));
  EXPECT_EQ(rows_of(group_pixels(offsets, at::zeros({0, 2}, at::kLong), mask)), (Rows{{0, 0, 0, 0, 0, 0}}));
}

TEST(Panoptic, StuffBelowAreaIsVoidAndRoadKeepsIdZero) {
  at::Tensor labels = at::ones({64, 64}, at::kLong);
  labels.slice(0, 0, 32).fill_(0);  // road: 2048 pixels
  labels[63][63] = 2;               // class 1: 2047 pixels, class 2: 1
  const at::Tensor sem = one_hot_logits(labels, 3);
  PanopticOptions o;  // stuff_area 2048, no things
  PanopticPrediction p = panoptic_from_outputs(sem, heatmap(64, 64, {}), at::zeros({2, 64, 64}), o);
  EXPECT_TRUE(at::equal(p.semantic, labels));
  EXPECT_EQ(p.panoptic.scalar_type(), at::kInt);
  EXPECT_EQ(p.panoptic[0][0].item<int>(), 0);
  EXPECT_EQ(p.panoptic[40][5].item<int>(), -1);
  EXPECT_EQ(p.panoptic[63][63].item<int>(), -1);
  EXPECT_EQ(p.centers.size(0), 0);
  o.stuff_area = 2047;
  p = panoptic_from_outputs(sem, heatmap(64, 64, {}), at::zeros({2, 64, 64}), o);
  EXPECT_EQ(p.panoptic[40][5].item<int>(), 1000);
  EXPECT_EQ(p.panoptic[63][63].item<int>(), -1);
  o.stuff_area = 0;
  p = panoptic_from_outputs(sem, heatmap(64, 64, {}), at::zeros({2, 64, 64}), o);
  EXPECT_EQ(p.panoptic[63][63].item<int>(), 2000);
}

TEST(Panoptic, ThingPixelsWithoutAnyCenterAreVoid) {
  const at::Tensor labels = labels_of({{0, 0, 2, 2}, {0, 0, 2, 2}});
  PanopticOptions o;
  o.thing_ids = {2};
  o.stuff_area = 0;
  at::Tensor h = at::full({1, 2, 4}, 0.1f);  // nothing strictly above the threshold
  const PanopticPrediction p = panoptic_from_outputs(one_hot_logits(labels, 3), h, at::zeros({2, 2, 4}), o);
  EXPECT_EQ(rows_of(p.panoptic), (Rows{{0, 0, -1, -1}, {0, 0, -1, -1}}));
}

// 4 x 12 of one thing class with centers A (1,2) and B (1,9); the left half points to A,
// the right half to B, except (2,4) -> B and (0,10) -> A.
struct TwoInstances : ::testing::Test {
  at::Tensor heat = heatmap(4, 12, {{1, 2, 0.9f}, {1, 9, 0.8f}});
  at::Tensor offsets = offsets_to(4, 12, [](int64_t y, int64_t x) {
    const bool to_a = (x < 6 && !(y == 2 && x == 4)) || (y == 0 && x == 10);
    return std::pair<int64_t, int64_t>(1, to_a ? 2 : 9);
  });
  PanopticOptions options() const {
    PanopticOptions o;
    o.thing_ids = {1, 2};
    return o;
  }
};

TEST_F(TwoInstances, GroupingFollowsOffsetsAndNumbersPerClassFromOne) {
  const PanopticPrediction p = panoptic_from_outputs(one_hot_logits(at::ones({4, 12}), 3), heat, offsets, options());
  EXPECT_EQ(rows_of(p.centers), (Rows{{1, 2}, {1, 9}}));
  EXPECT_EQ(floats_of(p.center_scores), (std::vector<float>{0.9f, 0.8f}));
  const int64_t a = 1001, b = 1002;
  EXPECT_EQ(rows_of(p.panoptic), (Rows{{a, a, a, a, a, a, b, b, b, b, a, b},
                                       {a, a, a, a, a, a, b, b, b, b, b, b},
                                       {a, a, a, a, b, a, b, b, b, b, b, b},
                                       {a, a, a, a, a, a, b, b, b, b, b, b}}));
}

TEST_F(TwoInstances, EachClassNumbersItsInstancesFromOne) {
  at::Tensor labels = at::ones({4, 12}, at::kLong);
  labels.slice(1, 6, 12).fill_(2);
  offsets = offsets_to(4, 12, [](int64_t, int64_t x) { return std::pair<int64_t, int64_t>(1, x < 6 ? 2 : 9); });
  const PanopticPrediction p = panoptic_from_outputs(one_hot_logits(labels, 3), heat, offsets, options());
  EXPECT_EQ(p.panoptic[0][0].item<int>(), 1001);
  EXPECT_EQ(p.panoptic[3][11].item<int>(), 2001);
  EXPECT_EQ(std::get<0>(at::_unique(p.panoptic)).size(0), 2);
}

TEST_F(TwoInstances, AnInstanceWithoutPixelsVanishes) {
  offsets = offsets_to(4, 12, [](int64_t, int64_t) { return std::pair<int64_t, int64_t>(1, 9); });
  const PanopticPrediction p = panoptic_from_outputs(one_hot_logits(at::ones({4, 12}), 3), heat, offsets, options());
  EXPECT_EQ(p.centers.size(0), 2);                                        // A stays listed
  EXPECT_TRUE(at::equal(p.panoptic, at::full({4, 12}, 1001, at::kInt)));  // B is instance 1
}

TEST_F(TwoInstances, MoreInstancesThanTheDivisorAllowsIsAnError) {
  PanopticOptions o = options();
  o.label_divisor = 2;  // instance 2 of class 1 would read as class 2
  EXPECT_THROW(panoptic_from_outputs(one_hot_logits(at::ones({4, 12}), 3), heat, offsets, o), DataError);
}

TEST(Panoptic, InstanceClassIsTheMajorityTiesToTheSmallerClass) {
  PanopticOptions o;
  o.thing_ids = {3, 4};
  const at::Tensor heat = heatmap(2, 2, {{0, 0, 0.9f}});
  const at::Tensor off = at::zeros({2, 2, 2});
  const at::Tensor tie = labels_of({{4, 3}, {3, 4}});
  PanopticPrediction p = panoptic_from_outputs(one_hot_logits(tie, 5), heat, off, o);
  EXPECT_TRUE(at::equal(p.panoptic, at::full({2, 2}, 3001, at::kInt)));
  EXPECT_TRUE(at::equal(p.semantic, tie));  // the vote does not rewrite the semantic map
  p = panoptic_from_outputs(one_hot_logits(labels_of({{4, 3}, {4, 4}}), 5), heat, off, o);
  EXPECT_TRUE(at::equal(p.panoptic, at::full({2, 2}, 4001, at::kInt)));
}

TEST(Panoptic, SemanticArgmaxTiesGoToTheLowerClass) {
  const at::Tensor sem = at::tensor({0.5f, 0.2f, 0.5f, 0.9f, 0.5f, 0.9f}, at::kFloat).reshape({3, 1, 2});
  const PanopticPrediction p = panoptic_from_outputs(sem, at::zeros({1, 1, 2}), at::zeros({2, 1, 2}), {});
  EXPECT_EQ(rows_of(p.semantic), (Rows{{0, 1}}));
}

TEST(Panoptic, WrongShapesAndThingIdsAreNamed) {
  const at::Tensor sem = at::zeros({3, 5, 5});
  try {
    panoptic_from_outputs(sem, at::zeros({1, 5, 4}), at::zeros({2, 5, 5}), {});
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("center heatmap must be [1, 5, 5], got [1, 5, 4]"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(panoptic_from_outputs(sem, at::zeros({1, 5, 5}), at::zeros({1, 5, 5}), {}), DataError);
  PanopticOptions o;
  o.thing_ids = {3};
  try {
    panoptic_from_outputs(sem, at::zeros({1, 5, 5}), at::zeros({2, 5, 5}), o);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("thing id 3"), std::string::npos) << e.what();
  }
}

TEST(Panoptic, BatchEqualsPerImage) {
  at::manual_seed(7);
  const at::Tensor sem = at::randn({3, 4, 24, 31}), heat = at::rand({3, 1, 24, 31});
  const at::Tensor off = at::randn({3, 2, 24, 31}) * 4;
  PanopticOptions o;
  o.thing_ids = {2, 3};
  o.nms_kernel = 3;
  o.top_k = 20;
  o.stuff_area = 150;
  const std::vector<PanopticPrediction> batch = panoptic_from_batch(sem, heat, off, o);
  ASSERT_EQ(batch.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    const PanopticPrediction one = panoptic_from_outputs(sem[i], heat[i], off[i], o);
    EXPECT_GT(one.centers.size(0), 1) << "a test that exercises grouping";
    EXPECT_TRUE(at::equal(batch[i].panoptic, one.panoptic)) << i;
    EXPECT_TRUE(at::equal(batch[i].semantic, one.semantic)) << i;
    EXPECT_TRUE(at::equal(batch[i].centers, one.centers)) << i;
    EXPECT_TRUE(at::equal(batch[i].center_scores, one.center_scores)) << i;
  }
  EXPECT_FALSE(at::equal(batch[0].panoptic, batch[1].panoptic));
}

// Cityscapes-sized outputs: stuff bands, 40 thing boxes on a jittered grid, logits
// with noise, Gaussian centers (sigma 8) and offsets pointing to the box centers.
struct CityscapesLike {
  static constexpr int64_t kH = 1025, kW = 2049, kClasses = 19;
  at::Tensor semantic, heat, offsets;
  int64_t instances = 0;

  CityscapesLike() {
    std::vector<int> label(static_cast<size_t>(kH * kW)), owner(label.size(), -1);
    for (int64_t y = 0; y < kH; ++y) {
      const int c = y < 200 ? 10 : y < 500 ? 2 : y < 600 ? 1 : 0;  // sky, building, sidewalk, road
      std::fill(label.begin() + y * kW, label.begin() + (y + 1) * kW, c);
    }
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> jitter(-20, 20), half(30, 100);
    std::vector<std::pair<int64_t, int64_t>> centers;
    for (int row = 0; row < 5; ++row) {
      for (int col = 0; col < 8; ++col, ++instances) {
        const int64_t cy = 250 + 175 * row + jitter(rng), cx = 150 + 250 * col + jitter(rng);
        const int64_t hy = half(rng), hx = half(rng);
        for (int64_t y = std::max<int64_t>(0, cy - hy); y < std::min(kH, cy + hy); ++y) {
          for (int64_t x = std::max<int64_t>(0, cx - hx); x < std::min(kW, cx + hx); ++x) {
            label[static_cast<size_t>(y * kW + x)] = 11 + static_cast<int>(instances % 8);
            owner[static_cast<size_t>(y * kW + x)] = static_cast<int>(instances);
          }
        }
        centers.emplace_back(cy, cx);
      }
    }
    at::manual_seed(5);
    semantic = at::randn({kClasses, kH, kW}) * 0.5;
    heat = at::zeros({1, kH, kW});
    offsets = at::zeros({2, kH, kW});
    float* s = semantic.data_ptr<float>();
    float* h = heat.data_ptr<float>();
    float* o = offsets.data_ptr<float>();
    for (int64_t p = 0; p < kH * kW; ++p) {
      s[label[static_cast<size_t>(p)] * kH * kW + p] += 3.0f;
      const int i = owner[static_cast<size_t>(p)];
      if (i < 0) continue;
      o[p] = static_cast<float>(centers[static_cast<size_t>(i)].first - p / kW);
      o[kH * kW + p] = static_cast<float>(centers[static_cast<size_t>(i)].second - p % kW);
    }
    for (const auto& [cy, cx] : centers) {
      for (int64_t y = std::max<int64_t>(0, cy - 24); y <= std::min(kH - 1, cy + 24); ++y) {
        for (int64_t x = std::max<int64_t>(0, cx - 24); x <= std::min(kW - 1, cx + 24); ++x) {
          const float g = std::exp(-static_cast<float>((y - cy) * (y - cy) + (x - cx) * (x - cx)) / 128.0f);
          h[y * kW + x] = std::max(h[y * kW + x], g);
        }
      }
    }
  }
};

TEST(PanopticBenchmark, DISABLED_Cityscapes1025x2049) {
  const CityscapesLike input;
  PanopticOptions o;
  o.thing_ids = {11, 12, 13, 14, 15, 16, 17, 18};
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  std::vector<double> ms;
  PanopticPrediction p;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    p = panoptic_from_outputs(input.semantic, input.heat, input.offsets, o);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  at::set_num_threads(threads);
  std::printf("panoptic_from_outputs 1025x2049, 19 classes, %lld centers, 1 thread, runs:",
              static_cast<long long>(p.centers.size(0)));
  for (const double t : ms) std::printf(" %.1f", t);
  std::sort(ms.begin(), ms.end());
  std::printf(" ms; median %.1f ms\n", ms[2]);
  EXPECT_EQ(p.centers.size(0), input.instances);
  const int* pan = p.panoptic.data_ptr<int>();
  const std::set<int> things(pan, pan + p.panoptic.numel());
  EXPECT_EQ(std::count_if(things.begin(), things.end(), [](int id) { return id >= 11000; }), input.instances);
}

}  // namespace
}  // namespace deeplab::postprocess
