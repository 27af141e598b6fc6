// The dense CRF's vector kernels against plain scalar arithmetic: exp within
// its stated accuracy and clamped beyond its range, lane sums, the weighted
// row sums of the spatial filter (7 taps in registers and any count), and
// the splat, which writes a row where its first-corner bit says so.  (This
// file is compiled for the baseline x86-64 target: the same source the
// AVX2 clones are made from.)

#include "deeplab/postprocess/lattice_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

namespace deeplab::postprocess::kernels {
namespace {

TEST(LatticeKernels, ExpIsWithinThreeTenMillionthsOverItsRange) {
  double worst = 0, worst_at = 0;
  for (double start = -87.0; start < 87.99; start += kLanes * 1.3e-5) {
    Vec x;
    for (int64_t l = 0; l < kLanes; ++l) x[l] = static_cast<float>(start + l * 1.3e-5);
    const Vec e = exp_clamped(x);
    for (int64_t l = 0; l < kLanes; ++l) {
      const double exact = std::exp(static_cast<double>(x[l]));
      const double relative = std::abs(e[l] - exact) / exact;
      if (relative > worst) {
        worst = relative;
        worst_at = x[l];
      }
    }
  }
  std::printf("exp_clamped: max relative error %.3g (at x = %.4f)\n", worst, worst_at);
  EXPECT_LT(worst, 3e-7);
}

TEST(LatticeKernels, ExpClampsOutsideItsRange) {
  const Vec e = exp_clamped(Vec{1000.0f, -1000.0f, 88.0f, -87.0f, 0.0f, 1.0f, -1.0f, 1e30f});
  EXPECT_EQ(e[0], e[2]);  // clamped to exp(88): finite, not inf
  EXPECT_TRUE(std::isfinite(e[0]));
  EXPECT_EQ(e[1], e[3]);  // clamped to exp(-87): a normal number, not 0
  EXPECT_GT(e[1], 0.0f);
  EXPECT_NEAR(e[4], 1.0f, 1e-7);
  EXPECT_NEAR(e[5], std::exp(1.0f), 1e-6);
  EXPECT_NEAR(e[6], std::exp(-1.0f), 1e-7);
  EXPECT_EQ(e[7], e[2]);
}

TEST(LatticeKernels, LaneSumPutsTheTotalInEveryLane) {
  const Vec total = lane_sum(Vec{1, 2, 4, 8, 16, 32, 64, 128});
  for (int64_t l = 0; l < kLanes; ++l) EXPECT_EQ(total[l], 255.0f);
}

// dst = sum_t taps[t] sources[t], in tap order, as the kernels promise.
std::vector<float> reference_weighted_sum(const std::vector<std::vector<float>>& rows, const std::vector<float>& taps) {
  std::vector<float> out(rows[0].size(), 0.0f);
  for (size_t i = 0; i < out.size(); ++i) {
    float sum = 0;
    for (size_t t = 0; t < taps.size(); ++t) sum += taps[t] * rows[t][i];
    out[i] = sum;
  }
  return out;
}

TEST(LatticeKernels, WeightedSumsMatchScalarOnesForAnyTapCount) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  const int64_t n = 5 * 4 * kLanes + 2 * kLanes;  // whole 4-vector blocks and a remainder
  for (const int count : {1, 3, 7, 13}) {
    std::vector<std::vector<float>> rows(static_cast<size_t>(count), std::vector<float>(static_cast<size_t>(n)));
    std::vector<const float*> sources;
    std::vector<float> taps;
    for (auto& row : rows) {
      for (float& v : row) v = unit(rng);
      sources.push_back(row.data());
      taps.push_back(unit(rng));
    }
    const std::vector<float> expected = reference_weighted_sum(rows, taps);
    std::vector<float> general(static_cast<size_t>(n)), fixed(static_cast<size_t>(n));
    weighted_sum(sources.data(), taps.data(), count, n, general.data());
    for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(general[i], expected[i], 1e-5) << count << " taps, element " << i;
    if (count == 7) {
      weighted_sum<7>(sources.data(), taps.data(), count, n, fixed.data());
      for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(fixed[i], expected[i], 1e-5) << "7 taps in registers, element " << i;
    }
  }
}

// Three corners into a table of 4 rows of 16 floats: rows 1 and 3 marked
// first (written), row 2 added to; row 0 untouched.
template <int64_t kC>
void check_splat(int64_t c) {
  std::vector<float> values(4 * static_cast<size_t>(c), 7.0f), in(static_cast<size_t>(c)), zeros(c, 0.0f);
  for (int64_t k = 0; k < c; ++k) in[k] = static_cast<float>(k + 1);
  const int32_t vertex[3] = {1, 2, 3};
  const float weight[3] = {0.5f, 0.25f, 0.25f};
  const uint32_t first = 0b101;  // corners 0 and 2
  scatter_corners<kC>(in.data(), 2.0f, vertex, weight, 3, values.data(), c, first, zeros.data());
  for (int64_t k = 0; k < c; ++k) {
    EXPECT_EQ(values[k], 7.0f);
    EXPECT_EQ(values[c + k], 1.0f * in[k]);             // written: 2 * 0.5 * in
    EXPECT_EQ(values[2 * c + k], 7.0f + 0.5f * in[k]);  // added: 7 + 2 * 0.25 * in
    EXPECT_EQ(values[3 * c + k], 0.5f * in[k]);
  }
}

TEST(LatticeKernels, SplatWritesFirstCornersAndAddsTheRest) {
  check_splat<16>(16);  // whole vectors, fixed width
  check_splat<0>(16);   // run-time width
}

}  // namespace
}  // namespace deeplab::postprocess::kernels
