// The permutohedral lattice against brute-force Gaussian filtering, both with
// densecrf's symmetric normalisation (out = D^-1/2 K D^-1/2 in): the lattice
// is an approximation, so the check is an error budget (RMS relative error
// < 5 %), on the bilateral features the dense CRF uses and on positions alone.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

#include "deeplab/postprocess/permutohedral_lattice.h"

namespace deeplab::postprocess {
namespace {

// A small picture's dense-CRF features: (x, y) / xy_std and three colour
// channels / rgb_std, with colours from a few regions plus noise.
std::vector<float> picture_features(int h, int w, float xy_std, float rgb_std, bool with_colour, std::mt19937& rng) {
  std::normal_distribution<float> noise(0.0f, 6.0f);
  std::vector<float> f;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      f.push_back(x / xy_std);
      f.push_back(y / xy_std);
      if (!with_colour) continue;
      const int region = (x < w / 2 ? 0 : 1) + (y < h / 3 ? 0 : 2);
      for (int c = 0; c < 3; ++c) f.push_back((40.0f * ((region + c) % 4) + noise(rng)) / rgb_std);
    }
  }
  return f;
}

std::vector<double> brute_force_symmetric(const std::vector<float>& f, int64_t n, int d, const std::vector<float>& in,
                                          int64_t c) {
  const auto kernel = [&](int64_t i, int64_t j) {
    double dist = 0;
    for (int k = 0; k < d; ++k) dist += std::pow(f[i * d + k] - f[j * d + k], 2);
    return std::exp(-dist / 2);
  };
  std::vector<double> scale(n, 0.0), out(n * c, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) scale[i] += kernel(i, j);
  }
  for (double& s : scale) s = 1 / std::sqrt(s);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double k = kernel(i, j) * scale[i] * scale[j];
      for (int64_t ch = 0; ch < c; ++ch) out[i * c + ch] += k * in[j * c + ch];
    }
  }
  return out;
}

struct Errors {
  double rms_relative, max_relative;
};

Errors compare(const std::vector<float>& features, int64_t n, int d) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t c = 3;
  std::vector<float> in(n * c), out(n * c);
  for (float& v : in) v = unit(rng);
  const SymmetricGaussianFilter filter{PermutohedralLattice(features, n, d)};
  filter.apply(in.data(), out.data(), c);
  const auto expected = brute_force_symmetric(features, n, d, in, c);
  double squared_error = 0, squared = 0, max_relative = 0;
  for (int64_t i = 0; i < n * c; ++i) {
    squared_error += std::pow(out[i] - expected[i], 2);
    squared += expected[i] * expected[i];
    max_relative = std::max(max_relative, std::abs(out[i] - expected[i]) / std::abs(expected[i]));
  }
  return {std::sqrt(squared_error / squared), max_relative};
}

TEST(PermutohedralLattice, BilateralFilterIsWithinFivePercentOfBruteForce) {
  std::mt19937 rng(3);
  const int h = 24, w = 32;
  const auto features = picture_features(h, w, 5.0f, 13.0f, true, rng);
  const Errors e = compare(features, h * w, 5);
  std::printf("bilateral (d = 5, %d points): RMS relative error %.2f %%, max %.2f %%\n", h * w,
              100 * e.rms_relative, 100 * e.max_relative);
  EXPECT_LT(e.rms_relative, 0.05);
}

TEST(PermutohedralLattice, SpatialFilterIsWithinFivePercentOfBruteForce) {
  std::mt19937 rng(4);
  const int h = 24, w = 32;
  const auto features = picture_features(h, w, 3.0f, 1.0f, false, rng);
  const Errors e = compare(features, h * w, 2);
  std::printf("spatial (d = 2, %d points): RMS relative error %.2f %%, max %.2f %%\n", h * w, 100 * e.rms_relative,
              100 * e.max_relative);
  EXPECT_LT(e.rms_relative, 0.05);
}

// Points far apart (beyond a few standard deviations) do not mix: each keeps
// its own value, so the filter is not a global average in disguise.
// first_corners(): every vertex is marked exactly once, at the first point
// (in index order) that has it as a corner.
TEST(PermutohedralLattice, FirstCornersMarkEachVertexAtItsFirstPoint) {
  std::mt19937 rng(3);
  const int h = 24, w = 32;
  const PermutohedralLattice lattice(picture_features(h, w, 5, 8, true, rng), h * w, 5);
  ASSERT_NE(lattice.first_corners(), nullptr);
  std::vector<int64_t> first_point(lattice.vertices(), -1), marked_at(lattice.vertices(), -1);
  for (int64_t i = 0; i < lattice.size(); ++i) {
    for (int r = 0; r < lattice.corners(); ++r) {
      const int32_t v = lattice.corner_vertices()[i * lattice.corners() + r];
      if (first_point[v] < 0) first_point[v] = i;
      if ((lattice.first_corners()[i] >> r) & 1) {
        EXPECT_EQ(marked_at[v], -1) << "vertex " << v << " marked twice";
        marked_at[v] = i;
      }
    }
  }
  EXPECT_EQ(marked_at, first_point);
}

TEST(PermutohedralLattice, DistantPointsDoNotMix) {
  const std::vector<float> features = {0, 0, 100, 0, 0, 100};
  const std::vector<float> in = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  std::vector<float> out(9);
  const SymmetricGaussianFilter filter{PermutohedralLattice(features, 3, 2)};
  filter.apply(in.data(), out.data(), 3);
  for (int i = 0; i < 3; ++i) {
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(out[i * 3 + c], i == c ? 1.0f : 0.0f, 1e-6) << i << "," << c;
  }
}

TEST(PermutohedralLattice, WrongFeatureCountIsAnError) {
  EXPECT_THROW(PermutohedralLattice(std::vector<float>(7), 3, 2), std::invalid_argument);
}

}  // namespace
}  // namespace deeplab::postprocess
